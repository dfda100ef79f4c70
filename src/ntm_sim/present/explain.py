"""Priorities explained: for every commune, where it stands and why, in Vietnamese and English."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import Plan, kept_on_paper
from ntm_sim.text import format_number_vi


def commune_table(inst: Instance, plan: Plan, baselines: dict[str, Plan] | None = None) -> pd.DataFrame:
    """One row per commune: status at the start, the plan's year, rank and reason.

    Columns: ``commune_code``, ``commune_name``, ``district``, ``criteria_met_baseline``,
    ``group``, ``especially_difficult``, ``cost_to_complete_mvnd``, ``year_ntm`` (the year it
    counts NTM as the scenario counts, recognised by default: the year before the horizon for
    a commune recognised at the start; empty if not by the end), ``year_lost`` (the review that
    revokes a recognition on paper, else empty), ``year_meets_all`` (the year it meets every
    criterion of the set in force, empty if not by the end), ``recognised_start``,
    ``held_by_rule`` (the revocation rule holds it at the start), ``criteria_met_end``,
    ``funded_mvnd``, ``missing_criteria``, ``missing_mvnd``, ``rank``,
    ``planners_rule_year``, ``reason_vi``, ``reason_en``.
    """
    ds = inst.dataset
    out = plan.outcomes
    dec = plan.decisions
    groups = ds.commune_group.to_numpy()
    funded = dec.proj_start >= 0
    cost_all = np.zeros(inst.n_communes)
    np.add.at(cost_all, inst.proj_commune, inst.proj_cost)
    open_cost = np.zeros(inst.n_communes)
    np.add.at(open_cost, inst.proj_commune, np.where(funded, 0.0, inst.proj_cost))
    funded_cost = np.zeros(inst.n_communes)
    np.add.at(funded_cost, inst.proj_commune, np.where(funded, inst.proj_cost, 0.0))
    base_ntm = inst.base_ntm
    # cost rank among communes that were not NTM at the start (1 = cheapest to complete)
    open_idx = np.flatnonzero(~base_ntm)
    cost_rank = np.zeros(inst.n_communes, dtype=int)
    cost_rank[open_idx[np.argsort(cost_all[open_idx], kind="stable")]] = np.arange(1, len(open_idx) + 1)
    planners = baselines.get("planners_rule") if baselines else None
    targeted = set(inst.targets.district_units) | set(inst.targets.advanced_districts)
    forced = set(inst.locks.force_commune)
    forbidden = set(inst.locks.forbid_commune)
    year_ntm = out.commune_year_ntm
    end = inst.horizon_end
    counting = inst.targets.communes_count == "recognised"
    done_year = np.where(funded, dec.proj_start + inst.proj_lead - 1, 10**6)
    kept = kept_on_paper(inst, done_year)
    counted_start = (inst.recognised & kept) if counting else base_ntm
    review = (int(inst.years[inst.recognition.review_from]) if inst.recognition is not None
              and inst.recognition.review_from < inst.n_years else None)
    lost = counting & inst.recognised & ~kept
    # rank: counted from the start first, then earlier NTM (cheaper first within a year), the rest by money funded
    key = np.where(counted_start | base_ntm, -1, np.where(year_ntm > 0, year_ntm, end + 1))
    order = np.lexsort((open_cost, -funded_cost, cost_all, key))
    rank = np.empty(inst.n_communes, dtype=int)
    rank[order] = np.arange(1, inst.n_communes + 1)
    rows = []
    for c, code in enumerate(inst.communes):
        missing = [inst.criteria[inst.proj_criterion[p]] for p in inst.projects_of[c] if not funded[p]]
        p_year = int(planners.outcomes.commune_year_ntm[c]) if planners is not None else 0
        if counting and inst.recognised[c] and not base_ntm[c]:
            vi, en = _kept_reason(inst, c, missing, open_cost[c], funded_cost[c], bool(kept[c]), review)
        else:
            vi, en = _reason(inst, c, year_ntm[c], base_ntm[c], missing, open_cost[c], cost_all[c],
                             cost_rank[c], len(open_idx), funded_cost[c], p_year, targeted, forced, forbidden)
        meets = int(year_ntm[c]) if year_ntm[c] > 0 and not base_ntm[c] else (
            int(inst.years[0]) - 1 if base_ntm[c] else None)
        rows.append({
            "commune_code": code,
            "commune_name": ds.communes.loc[code, "commune_name"],
            "district": ds.communes.loc[code, "district_name"],
            "criteria_met_baseline": int(inst.base_criteria_met[c]),
            "group": groups[c],
            "especially_difficult": bool(inst.especially_difficult[c]),
            "cost_to_complete_mvnd": float(cost_all[c]),
            "year_ntm": int(inst.years[0]) - 1 if counted_start[c] else meets,
            "year_lost": review if lost[c] else None,
            "year_meets_all": meets,
            "recognised_start": bool(inst.recognised[c]),
            "held_by_rule": bool(inst.at_risk[c]),
            "criteria_met_end": int(out.criteria_met_end[c]),
            "funded_mvnd": float(funded_cost[c]),
            "missing_criteria": " ".join(missing),
            "missing_mvnd": float(open_cost[c]),
            "rank": int(rank[c]),
            "planners_rule_year": (p_year if p_year > 0 else None) if planners is not None else None,
            "reason_vi": vi,
            "reason_en": en,
        })
    table = pd.DataFrame(rows)
    for col in ("year_ntm", "year_lost", "year_meets_all"):
        table[col] = table[col].astype("Int64")
    table["planners_rule_year"] = table["planners_rule_year"].astype("Int64")
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


def _bn(mvnd: float) -> str:
    return format_number_vi(mvnd / 1000, 1)


def _kept_reason(inst: Instance, c: int, missing: list[str], open_cost: float, funded: float, kept: bool,
                 review: int | None) -> tuple[str, str]:
    """A commune recognised at the start but short of the set in force: keeping the standard (giữ chuẩn)."""
    year = inst.dataset.communes["recognised_year"].iloc[c] if "recognised_year" in inst.dataset.communes else None
    since_vi = f" từ năm {int(year)}" if year is not None and year == year else ""
    since_en = f" since {int(year)}" if year is not None and year == year else ""
    short = ", ".join(inst.criteria[inst.proj_criterion[p]] for p in inst.projects_of[c])
    vi = f"Đã được công nhận{since_vi}, còn thiếu {short} theo bộ tiêu chí hiện hành"
    en = f"Recognised{since_en}, short of {short} under the set in force"
    if inst.at_risk[c]:
        if kept:
            vi += f"; thuộc diện có thể bị thu hồi: kế hoạch đưa ra khỏi diện này trước rà soát năm {review}"
            en += f"; the revocation rule holds it: the plan gets it out before the {review} review"
        else:
            vi += f"; thuộc diện có thể bị thu hồi: trên giấy bị thu hồi khi rà soát năm {review}"
            en += f"; the revocation rule holds it: on paper it is revoked at the {review} review"
    if funded > 0:
        vi += f"; giữ chuẩn: đầu tư {_bn(funded)} tỷ đồng"
        en += f"; keeping the standard: {funded / 1000:,.1f} billion VND funded"
    if missing:
        vi += f"; chưa có vốn cho {', '.join(missing)} ({_bn(open_cost)} tỷ đồng)"
        en += f"; no money yet for {', '.join(missing)} ({open_cost / 1000:,.1f} billion VND)"
    return vi + ".", en + "."


def _reason(inst: Instance, c: int, year: int, base_ntm: bool, missing: list[str], open_cost: float,
            cost_all: float, cost_rank: int, n_open: int, funded: float, planners_year: int,
            targeted: set[int], forced: set[int], forbidden: set[int]) -> tuple[str, str]:
    """One line in Vietnamese and one in English."""
    d = int(inst.commune_district[c])
    if base_ntm:
        return ("Đã đạt chuẩn từ đầu kỳ; duy trì và nâng chất lượng tiêu chí.",
                "NTM at the start; keep the criteria met and raise their quality.")
    if c in forbidden:
        return ("Không đầu tư theo quyết định khóa của kế hoạch.", "Not funded: locked out by the planners.")
    if year > 0:
        why_vi, why_en = [], []
        if c in forced:
            why_vi.append("được chỉ định đạt chuẩn")
            why_en.append("locked in by the planners")
        if d in targeted:
            # names carry their kind already ("Huyện Bảo Yên", "Thị xã Sa Pa")
            district = inst.dataset.districts["district_name"].iloc[d]
            why_vi.append(f"cần để {district} đạt chuẩn")
            why_en.append(f"needed for {district} to be recognised")
        why_vi.append(f"chi phí hoàn thành {_bn(cost_all)} tỷ đồng, xếp thứ {cost_rank}/{n_open} về mức rẻ")
        why_en.append(f"costs {cost_all / 1000:,.1f} billion VND to complete, rank {cost_rank}/{n_open} by cost")
        return (f"Đạt chuẩn năm {year}: " + "; ".join(why_vi) + ".",
                f"Reaches NTM in {year}: " + "; ".join(why_en) + ".")
    miss = ", ".join(missing)
    vi = f"Chưa đạt chuẩn đến {inst.horizon_end}: còn thiếu {miss} (cần thêm {_bn(open_cost)} tỷ đồng)"
    en = f"Not NTM by {inst.horizon_end}: still missing {miss} ({open_cost / 1000:,.1f} billion VND more)"
    slow = [k for k in missing if inst.horizon_end - int(inst.lead[inst.criteria.index(k)]) + 1 < inst.years[0]]
    if slow:
        vi += f"; {', '.join(slow)} cần nhiều năm hơn thời gian còn lại"
        en += f"; {', '.join(slow)} take longer than the years left"
    elif cost_rank > 0:
        vi += f"; chi phí cao (xếp thứ {cost_rank}/{n_open})"
        en += f"; expensive (rank {cost_rank}/{n_open} by cost)"
    if planners_year > 0:
        vi += (f". Quy tắc hiện hành sẽ cho xã này đạt chuẩn năm {planners_year}, "
               "nhưng cùng số vốn đó giúp nhiều xã khác")
        en += (f". The planners' rule would finish it in {planners_year}, but the same money completes "
               "more communes elsewhere")
    if funded > 0:
        vi += f"; vẫn đầu tư {_bn(funded)} tỷ đồng cho các tiêu chí khác"
        en += f"; still funds {funded / 1000:,.1f} billion VND of other criteria"
    return vi + ".", en + "."
