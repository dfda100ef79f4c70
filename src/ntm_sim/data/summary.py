"""First-look statistics of a dataset: by district and for the province."""

from __future__ import annotations

import pandas as pd

from ntm_sim.data.dataset import Dataset
from ntm_sim.text import format_number_vi

TOTAL_LABEL = "Toàn tỉnh"


def district_summary(ds: Dataset) -> pd.DataFrame:
    """Per district: communes, NTM communes, commune groups, average criteria, cost.

    Returns
    -------
    DataFrame
        One row per district plus a province total row (index ``TOTAL_LABEL``); columns
        ``communes``, ``recognised`` (recognised NTM, as the province counts them), ``advanced``,
        ``model`` (recognised tiers), ``meeting`` (meeting every criterion of the set in
        force), ``held`` (recognised communes the revocation rule holds), one column per
        commune group id (count), one per commune class id of the criteria set where the
        data give classes (``commune_class``, Decision 51/2025's groups), ``avg_criteria``
        and ``cost_to_ntm_mvnd`` (money to meet every criterion everywhere).
    """
    frame = pd.DataFrame({
        "district": ds.communes["district_name"].where(ds.communes["district_name"] != "",
                                                       ds.communes["district_code"]),
        "recognised": ds.recognised,
        "meeting": ds.is_ntm,
        "held": ds.held_by_rule,
        "advanced": ds.communes["advanced"],
        "model": ds.communes["model"],
        "group": ds.commune_group,
        "class": ds.communes.get("commune_class", pd.Series("", index=ds.communes.index)),
        "criteria": ds.criteria_met,
        "cost": ds.cost_to_complete,
    })
    groups = [g.id for g in ds.criteria.commune_groups]
    classes = [c.id for c in ds.criteria.commune_classes] if "commune_class" in ds.communes.columns else []

    def agg(part: pd.DataFrame) -> dict[str, float]:
        row: dict[str, float] = {"communes": len(part)}
        for col in ("recognised", "advanced", "model", "meeting", "held"):
            row[col] = int(part[col].sum())
        counts = part["group"].value_counts()
        for g in groups:
            row[g] = int(counts.get(g, 0))
        in_class = part["class"].value_counts()
        for c in classes:
            row[c] = int(in_class.get(c, 0))
        row["avg_criteria"] = float(part["criteria"].mean())
        row["cost_to_ntm_mvnd"] = float(part["cost"].sum())
        return row

    order = [d for d in dict.fromkeys(frame["district"]) if d]  # communes without a district: the total only
    rows = {d: agg(frame[frame["district"] == d]) for d in order}
    rows[TOTAL_LABEL] = agg(frame)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "district"
    return out


def format_district_summary(ds: Dataset, table: pd.DataFrame | None = None) -> str:
    """Render :func:`district_summary` as a text table with Vietnamese number formats."""
    table = district_summary(ds) if table is None else table
    groups = {g.id: g.name_vi for g in ds.criteria.commune_groups}
    # the set's own tiers; a tier of an earlier set the data still record (Decision 51 has no advanced tier)
    tier = _tier_names(ds)
    counts = {"recognised": "Xã NTM (công nhận)", "advanced": tier["advanced"], "model": tier["model"],
              "meeting": "đạt đủ tiêu chí", "held": "nguy cơ thu hồi"}
    classes = {c.id: c.name_vi for c in ds.criteria.commune_classes if c.id in table.columns}
    headers = ["Đơn vị", "Số xã", *counts.values(), *groups.values(), *classes.values(), "TC bình quân",
               "Vốn để đạt chuẩn (tỷ đ)"]
    rows = []
    for name, r in table.iterrows():
        rows.append([
            str(name), str(int(r["communes"])), *[str(int(r[c])) for c in counts],
            *[str(int(r[g])) for g in (*groups, *classes)],
            format_number_vi(r["avg_criteria"], 2),
            format_number_vi(r["cost_to_ntm_mvnd"] / 1000, 1),
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths,
                                                                                          strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)


def _tier_names(ds: Dataset) -> dict[str, str]:
    """The commune table's tier columns as the set names them (an earlier set's tier, so marked)."""
    slots = ds.criteria.tier_slots()
    return {slot: slots[slot].label_vi if slot in slots else f"{name} (bộ trước)"
            for slot, name in (("advanced", "nâng cao"), ("model", "kiểu mẫu"))}


def validation_summary(ds: Dataset) -> str:
    """Short text summary printed by ``ntm-sim validate`` for a good file."""
    met = ds.criteria_met
    groups = ds.commune_group.value_counts()
    lines = [
        f"Xã: {len(ds.communes)}   Huyện: {len(ds.districts) or 'không (từ 1/7/2025)'}   "
        f"Tiêu chí: {len(ds.criteria)} ({ds.criteria.id})",
        f"Xã NTM được công nhận: {int(ds.recognised.sum())} (đạt đủ tiêu chí bộ {ds.criteria.id}: "
        f"{int(ds.is_ntm.sum())}; nguy cơ thu hồi: {int(ds.held_by_rule.sum())}); "
        + "; ".join(f"{label}: {int(ds.communes[slot].sum())}" for slot, label in _tier_names(ds).items()),
        f"Tiêu chí bình quân/xã: "
        f"{format_number_vi(float(met.mean()), 2)}   (thấp nhất {int(met.min())}, cao nhất {int(met.max())})",
        "Nhóm xã: " + ", ".join(f"{g.name_vi}: {int(groups.get(g.id, 0))}" for g in ds.criteria.commune_groups),
    ]
    if "commune_class" in ds.communes.columns:
        classes = ds.communes["commune_class"].value_counts()
        lines.append("Phân nhóm theo bộ tiêu chí: " + ", ".join(
            f"{c.name_vi}: {int(classes.get(c.id, 0))}" for c in ds.criteria.commune_classes)
            + (f", chưa phân nhóm: {int(classes.get('', 0))}" if classes.get("", 0) else ""))
    if items := ds.criteria.provisional_items():
        lines.append(f"Bộ tiêu chí {ds.criteria.id}: {len(items)} giá trị tạm tính (provisional), "
                     "xem tệp bộ tiêu chí.")
    if ds.any_cost_estimated:
        n = int((ds.cost_estimated & ~ds.status).to_numpy().sum())
        lines.append(f"Chi phí: {n} ô chưa có số liệu, đã ước tính theo đơn giá mặc định (số ước tính).")
    if len(ds.sources):
        total = float(ds.envelopes.to_numpy().sum())
        lines.append(f"Nguồn vốn: {len(ds.sources)} nguồn, tổng {format_number_vi(total / 1000, 1)} tỷ đồng "
                     f"({min(ds.years)}–{max(ds.years)})")
    return "\n".join(lines)
