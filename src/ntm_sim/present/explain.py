"""Priorities explained: for every commune, where it stands and why, in Vietnamese and English."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ntm_sim.data.dataset import Dataset
from ntm_sim.messages import Catalogue
from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import Outcomes, Plan, kept_on_paper
from ntm_sim.text import format_number_vi

VI, EN = Catalogue("vi"), Catalogue("en")  # each reason in both languages: explain.* in the catalogue


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
    f = _commune_figures(inst, plan, baselines)
    rows = []
    for c, code in enumerate(inst.communes):
        missing = [inst.criteria[inst.proj_criterion[p]] for p in inst.projects_of[c] if not f.funded[p]]
        p_year = int(f.planners.outcomes.commune_year_ntm[c]) if f.planners is not None else 0
        if f.counting and inst.recognised[c] and not f.base_ntm[c]:
            vi, en = _kept_reason(inst, c, missing, f.open_cost[c], f.funded_cost[c], bool(f.kept[c]), f.review)
        else:
            vi, en = _reason(inst, c, f.year_ntm[c], f.base_ntm[c], missing, f.open_cost[c], f.cost_all[c],
                             f.cost_rank[c], len(f.open_idx), f.funded_cost[c], p_year, f.targeted, f.forced,
                             f.forbidden)
        meets = int(f.year_ntm[c]) if f.year_ntm[c] > 0 and not f.base_ntm[c] else (
            int(inst.years[0]) - 1 if f.base_ntm[c] else None)
        rows.append({
            "commune_code": code,
            "commune_name": f.ds.communes.loc[code, "commune_name"],
            "district": f.ds.communes.loc[code, "district_name"],
            "criteria_met_baseline": int(inst.base_criteria_met[c]),
            "group": f.groups[c],
            "especially_difficult": bool(inst.especially_difficult[c]),
            "cost_to_complete_mvnd": float(f.cost_all[c]),
            "year_ntm": int(inst.years[0]) - 1 if f.counted_start[c] else meets,
            "year_lost": f.review if f.lost[c] else None,
            "year_meets_all": meets,
            "recognised_start": bool(inst.recognised[c]),
            "held_by_rule": bool(inst.at_risk[c]),
            "criteria_met_end": int(f.out.criteria_met_end[c]),
            "funded_mvnd": float(f.funded_cost[c]),
            "missing_criteria": " ".join(missing),
            "missing_mvnd": float(f.open_cost[c]),
            "rank": int(f.rank[c]),
            "planners_rule_year": (p_year if p_year > 0 else None) if f.planners is not None else None,
            "reason_vi": vi,
            "reason_en": en,
        })
    table = pd.DataFrame(rows)
    for col in ("year_ntm", "year_lost", "year_meets_all"):
        table[col] = table[col].astype("Int64")
    table["planners_rule_year"] = table["planners_rule_year"].astype("Int64")
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


@dataclass
class _CommuneFigures:
    """What the commune table says of each commune: arrays over communes, and the plan's context."""

    ds: Dataset
    out: Outcomes
    groups: np.ndarray              # each commune's group in Decision 07's share-out
    funded: np.ndarray              # per project: funded by the plan
    cost_all: np.ndarray            # what the commune lacked at the start
    open_cost: np.ndarray           # what it still lacks under the plan
    funded_cost: np.ndarray         # what the plan funds in it
    base_ntm: np.ndarray            # meets every criterion at the start
    open_idx: np.ndarray            # the communes not meeting every criterion at the start
    cost_rank: np.ndarray           # 1 = cheapest to complete among them
    planners: Plan | None           # the planners' rule, if computed
    targeted: set[int]              # districts with a unit target
    forced: set[int]
    forbidden: frozenset[int]
    year_ntm: np.ndarray
    counting: bool                  # NTM counted as the province counts (recognised)
    kept: np.ndarray                # recognition kept on paper to the horizon
    counted_start: np.ndarray
    review: int | None              # the year of the review that may revoke
    lost: np.ndarray
    rank: np.ndarray


def _commune_figures(inst: Instance, plan: Plan, baselines: dict[str, Plan] | None) -> _CommuneFigures:
    """Money funded and missing, the years, kept recognitions and the rank of every commune."""
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
    forbidden = inst.locks.forbidden.communes
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
    return _CommuneFigures(ds, out, groups, funded, cost_all, open_cost, funded_cost, base_ntm, open_idx, cost_rank,
                           planners, targeted, forced, forbidden, year_ntm, counting, kept, counted_start, review,
                           lost, rank)



def _bn(mvnd: float) -> str:
    return format_number_vi(mvnd / 1000, 1)


def _money(mvnd: float) -> tuple[str, str]:
    """Million VND as tỷ đồng in each language's number format: (Vietnamese, English)."""
    return _bn(mvnd), f"{mvnd / 1000:,.1f}"


def _say(key: str, **fields: object) -> tuple[str, str]:
    """The catalogue's text of ``key`` in Vietnamese and in English; a field given as a pair is (vi, en)."""
    def pick(i: int) -> dict[str, object]:
        return {k: v[i] if isinstance(v, tuple) else v for k, v in fields.items()}
    return VI(key, **pick(0)), EN(key, **pick(1))


def _kept_reason(inst: Instance, c: int, missing: list[str], open_cost: float, funded: float, kept: bool,
                 review: int | None) -> tuple[str, str]:
    """A commune recognised at the start but short of the set in force: keeping the standard (giữ chuẩn)."""
    year = inst.dataset.communes["recognised_year"].iloc[c] if "recognised_year" in inst.dataset.communes else None
    since = ("", "")
    if year is not None and year == year:
        since = tuple(" " + text for text in _say("explain.since", year=int(year)))
    short = ", ".join(inst.criteria[inst.proj_criterion[p]] for p in inst.projects_of[c])
    vi, en = _say("explain.kept", since=since, short=short)
    parts = []
    if inst.at_risk[c]:
        parts.append(_say("explain.kept_saved" if kept else "explain.kept_revoked", review=review))
    if funded > 0:
        parts.append(_say("explain.kept_funded", money=_money(funded)))
    if missing:
        parts.append(_say("explain.kept_missing", missing=", ".join(missing), money=_money(open_cost)))
    return vi + "".join(f"; {p[0]}" for p in parts) + ".", en + "".join(f"; {p[1]}" for p in parts) + "."


def _reason(inst: Instance, c: int, year: int, base_ntm: bool, missing: list[str], open_cost: float,
            cost_all: float, cost_rank: int, n_open: int, funded: float, planners_year: int,
            targeted: set[int], forced: set[int], forbidden: frozenset[int]) -> tuple[str, str]:
    """One line in Vietnamese and one in English."""
    d = int(inst.commune_district[c])
    if base_ntm:
        return _say("explain.base_ntm")
    if c in forbidden:
        return _say("explain.forbidden")
    if year > 0:
        why = []
        if c in forced:
            why.append(_say("explain.forced"))
        if d in targeted:
            # names carry their kind already ("Huyện Bảo Yên", "Thị xã Sa Pa")
            why.append(_say("explain.for_district", district=inst.dataset.districts["district_name"].iloc[d]))
        why.append(_say("explain.cost_rank", money=_money(cost_all), rank=cost_rank, n=n_open))
        return _say("explain.reaches", year=year, why=("; ".join(w[0] for w in why), "; ".join(w[1] for w in why)))
    vi, en = _say("explain.not_ntm", end=inst.horizon_end, missing=", ".join(missing), money=_money(open_cost))
    parts = []
    slow = [k for k in missing if inst.horizon_end - int(inst.lead[inst.criteria.index(k)]) + 1 < inst.years[0]]
    if slow:
        parts.append(("; ", _say("explain.slow", slow=", ".join(slow))))
    elif cost_rank > 0:
        parts.append(("; ", _say("explain.expensive", rank=cost_rank, n=n_open)))
    if planners_year > 0:
        parts.append((". ", _say("explain.planners_rule", year=planners_year)))
    if funded > 0:
        parts.append(("; ", _say("explain.still_funds", money=_money(funded))))
    return (vi + "".join(sep + p[0] for sep, p in parts) + ".", en + "".join(sep + p[1] for sep, p in parts) + ".")
