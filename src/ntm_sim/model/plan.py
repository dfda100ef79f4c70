"""Plans: which projects start when, funded by which source, and what they achieve.

:class:`~ntm_sim.model.decisions.Decisions` (named here too) is the index form every planner
(optimizer, baseline rule) returns; :func:`evaluate` turns it into deterministic :class:`Outcomes`, and :func:`check`
lists every rule a plan breaks (budgets, eligibility, lead times, absorption, locks).
:class:`Plan` is the table form written to results folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ntm_sim.model.decisions import Decisions
from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import allocate_flows, class_spend, project_spend, upgrade_spend

TOL = 1e-6
#: the plan a results folder recommends: its simulation's first plan and the rules' comparison point
RECOMMENDED = "recommended"
#: what results folders written before December 2026 called it (read back as :data:`RECOMMENDED`)
FORMER_RECOMMENDED = "optimum"


@dataclass
class Outcomes:
    """What a plan achieves, year by year and at the horizon (deterministic)."""

    years: np.ndarray
    commune_year_ntm: np.ndarray          # year each commune meets every criterion (start year - 1: at start; 0 never)
    ntm_by_year: np.ndarray               # communes counted NTM at the end of each year (targets.communes_count)
    criteria_met_end: np.ndarray          # per commune at the horizon
    advanced: np.ndarray                  # bool per commune at the horizon
    model: np.ndarray
    district_unit: np.ndarray             # bool per district
    district_advanced: np.ndarray
    villages_ntm_new: int
    villages_model_new: int
    spend_by_source_year: np.ndarray      # (n_f, n_t)
    spend_by_year: np.ndarray
    total_cost: float
    criterion_communes: np.ndarray        # communes meeting each criterion at the horizon
    recognised_end: np.ndarray | None = None  # bool per commune: recognised NTM at the horizon
    meeting_by_year: np.ndarray | None = None  # communes meeting every criterion at the end of each year

    @property
    def communes_ntm(self) -> int:
        """Communes NTM at the horizon as the scenario counts them (recognised by default; see ``model.targets``)."""
        return int(self.ntm_by_year[-1])

    @property
    def communes_meeting(self) -> int:
        """Communes meeting every criterion of the set in force at the horizon."""
        return int(self.meeting_by_year[-1]) if self.meeting_by_year is not None else self.communes_ntm

    @property
    def communes_recognised(self) -> int:
        """Communes recognised NTM at the horizon: those recognised at the start (kept, on paper) and new ones."""
        return int(self.recognised_end.sum()) if self.recognised_end is not None else self.communes_ntm

    @property
    def avg_criteria(self) -> float:
        """Average criteria met per commune at the horizon."""
        return float(self.criteria_met_end.mean())

    def floor_violations(self, floor: int | None) -> int:
        """Communes below ``floor`` criteria at the horizon."""
        return 0 if floor is None else int((self.criteria_met_end < floor).sum())


def evaluate(inst: Instance, dec: Decisions) -> Outcomes:
    """Deterministic outcomes of a plan (no uncertainty)."""
    years = inst.years
    t0, end = int(years[0]), inst.horizon_end
    done_year = np.where(dec.proj_start >= 0, dec.proj_start + inst.proj_lead - 1, 10**6)
    done_year = np.where(done_year <= end, done_year, 10**6)
    # year each commune meets all its criteria: max over its projects
    commune_year = np.full(inst.n_communes, t0 - 1)
    np.maximum.at(commune_year, inst.proj_commune, done_year)
    ntm_end = commune_year <= end
    meeting_by_year = meeting_matrix(inst, commune_year).sum(axis=0)
    met_end = inst.base_criteria_met.copy()
    np.add.at(met_end, inst.proj_commune, (done_year <= end).astype(int))
    kept = kept_on_paper(inst, done_year)
    recognised_end = (inst.recognised & kept) | ntm_end
    ntm_by_year = counted_by_year(inst, kept, commune_year).sum(axis=0)
    # the criteria set's tiers; a recognised tier is kept with the commune's recognition, a new one needs
    # every criterion met and the tier it requires (the top tier: advanced, or NTM under Decision 51)
    adv_new = (dec.adv_start >= 0) & (dec.adv_start + inst.adv_lead - 1 <= end)
    advanced = ((inst.base_adv & recognised_end) | (ntm_end & adv_new)) & inst.has_advanced_tier
    model_new = (dec.model_start >= 0) & (dec.model_start + inst.model_lead - 1 <= end)
    model = (((inst.base_model & recognised_end) | (inst.model_prerequisite(advanced, ntm_end) & model_new))
             & inst.has_model_tier)
    unit = np.zeros(len(inst.districts), dtype=bool)
    unit_adv = np.zeros(len(inst.districts), dtype=bool)
    revoked = inst.recognised & ~kept
    for d, members in enumerate(inst.district_members):
        if len(members) == 0 or not inst.has_district_units:
            continue  # the criteria set recognises no district unit (Decision 51)
        criteria_ok = inst.district_recognised[d] or dec.district_start[d] >= 0
        unit[d] = bool(district_kept(inst, d, int(revoked[members].sum()))
                       or (ntm_end[members].all() and advanced[members].sum() >= inst.district_need_adv[d]
                           and criteria_ok))
        unit_adv[d] = bool(unit[d] and inst.has_advanced_districts
                           and advanced[members].sum() >= inst.district_need_adv2[d]
                           and model[members].sum() >= inst.district_need_model2[d]
                           and dec.district_adv_start[d] >= 0)
    crit_met = inst.base_met.sum(axis=0).astype(int)
    np.add.at(crit_met, inst.proj_criterion, (done_year <= end).astype(int))
    flows = dec.flows if dec.flows is not None else allocate_flows(inst, class_spend(inst, dec))[0]
    by_source = flows.sum(axis=1)
    return Outcomes(
        years=years,
        commune_year_ntm=np.where(ntm_end, commune_year, 0),
        ntm_by_year=ntm_by_year,
        meeting_by_year=meeting_by_year,
        criteria_met_end=met_end,
        advanced=advanced,
        model=model,
        district_unit=unit,
        district_advanced=unit_adv,
        villages_ntm_new=int(dec.village_ntm.sum()),
        villages_model_new=int(dec.village_model.sum()),
        spend_by_source_year=by_source,
        spend_by_year=by_source.sum(axis=0),
        total_cost=float(by_source.sum()),
        criterion_communes=crit_met,
        recognised_end=recognised_end,
    )


def kept_on_paper(inst: Instance, done_year: np.ndarray) -> np.ndarray:
    """Which communes recognised at the start keep their recognition through the reviews, on paper.

    On paper criteria are only gained, so only the first review matters: a commune that
    triggers the revocation rule then (:attr:`Instance.at_risk`, with the projects done by
    that year's end) is revoked; every other recognised commune is kept (bool per commune;
    True for communes not recognised at the start).
    """
    kept = np.ones(inst.n_communes, dtype=bool)
    risk = inst.at_risk
    if not risk.any():
        return kept
    rec = inst.recognition
    review_year = int(inst.years[rec.review_from])  # type: ignore[union-attr]
    met = inst.base_met.copy()
    by_review = done_year <= review_year
    met[inst.proj_commune[by_review], inst.proj_criterion[by_review]] = True
    kept[risk] = ~rec.triggered(met[risk])  # type: ignore[union-attr]
    return kept


def meeting_matrix(inst: Instance, commune_year: np.ndarray) -> np.ndarray:
    """Whether each commune meets every criterion at the end of each year on paper (bool, communes × years).

    Before the year the criteria set comes into force, a commune recognised at the start meets
    the set it was recognised under (:attr:`Recognition.assessed_from`).
    """
    meets = commune_year[:, None] <= np.asarray(inst.years)[None, :]
    if inst.recognition is not None and inst.recognition.assessed_from > 0:
        meets[:, :inst.recognition.assessed_from] |= inst.recognised[:, None]
    return meets


def counted_by_year(inst: Instance, kept: np.ndarray, commune_year: np.ndarray) -> np.ndarray:
    """Whether each commune counts NTM at the end of each year on paper (bool, communes × years).

    Counting recognised communes (``targets.communes_count``, the default): recognised at the
    start and kept until the review that revokes it (``kept``: :func:`kept_on_paper`), or
    meeting every criterion by then (``commune_year``: the year it does); counting communes
    meeting every criterion: the latter only.
    """
    meets = meeting_matrix(inst, commune_year)
    if inst.targets.communes_count != "recognised":
        return meets
    review = inst.recognition.review_from if inst.recognition is not None else inst.n_years
    held = inst.recognised[:, None] & (kept[:, None] | (np.arange(inst.n_years) < review)[None, :])
    return held | meets


def district_kept(inst: Instance, d: int, revoked_members: int) -> bool:
    """Whether district ``d``'s recognised unit is kept with ``revoked_members`` of its communes revoked."""
    if not inst.district_recognised[d]:
        return False
    rec = inst.recognition
    return rec is None or revoked_members < int(rec.district_limit[d])


@dataclass
class Violation:
    """One rule a plan breaks."""

    rule: str
    detail: str


def check(inst: Instance, dec: Decisions, tol: float = 1e-3) -> list[Violation]:
    """List every rule the plan breaks; an empty list means the plan is valid.

    Checks: start years inside the horizon and completing by its end, locks, budgets
    by source and year (with carry-over as the scenario says), eligibility of every
    flow, money paid equal to money needed, absorption, tier and village rules.
    """
    return (_timing_violations(inst, dec) + _money_violations(inst, dec, tol) + _tier_violations(inst, dec)
            + _village_violations(inst, dec))


def _timing_violations(inst: Instance, dec: Decisions) -> list[Violation]:
    """Start years outside each project's window, and locks broken."""
    out: list[Violation] = []
    end = inst.horizon_end
    # allowed start years (Instance.start_years) as a window per project
    committed = inst.proj_committed_start
    first = np.where(committed >= 0, committed, int(inst.years[0]))
    last = np.where(committed >= 0, committed, end - inst.proj_lead + 1)
    start = dec.proj_start
    for p in np.flatnonzero((start >= 0) & ((start < first) | (start > last))):
        out.append(Violation("start year", f"project {p} starts {int(start[p])}, allowed {inst.start_years(p)}"))
    for c in inst.locks.forbid_commune:
        if (dec.proj_start[inst.proj_commune == c] >= 0).any() or dec.adv_start[c] >= 0:
            out.append(Violation("lock", f"forbidden commune {inst.communes[c]} is funded"))
    for p, year in inst.locks.forbid_project:
        if dec.proj_start[p] >= 0 and (year is None or dec.proj_start[p] == year):
            out.append(Violation("lock", f"forbidden project {p} is funded"))
    for c, year in inst.locks.forbid_commune_year:
        if (dec.proj_start[inst.proj_commune == c] == year).any():
            out.append(Violation("lock", f"commune {inst.communes[c]} has a project starting {year}"))
    return out


def _money_violations(inst: Instance, dec: Decisions, tol: float) -> list[Violation]:
    """Money paid against money needed, eligibility, budgets (with carry-over) and absorption."""
    out: list[Violation] = []
    need = class_spend(inst, dec)
    flows = dec.flows if dec.flows is not None else allocate_flows(inst, need)[0]
    paid = flows.sum(axis=0)
    if (np.abs(paid - need) > tol * np.maximum(1.0, need)).any():
        g, t = np.unravel_index(np.argmax(np.abs(paid - need)), need.shape)
        out.append(Violation("payment", f"class {g} year {inst.years[t]}: needs {need[g, t]:.1f}, "
                                        f"paid {paid[g, t]:.1f}"))
    eligible = np.zeros((len(inst.classes), len(inst.sources)), dtype=bool)
    for g, cls in enumerate(inst.classes):
        eligible[g, list(cls)] = True
    for g, f in zip(*np.nonzero(~eligible & (flows > tol).any(axis=2).T), strict=True):
        out.append(Violation("eligibility", f"source {inst.sources[f]} pays class {g}"))
    spent = flows.sum(axis=1)
    if inst.carry_over:
        over = np.cumsum(spent, axis=1) - np.cumsum(inst.budget, axis=1)
    else:
        over = spent - inst.budget
    if (over > tol * np.maximum(1.0, inst.budget.max())).any():
        f, t = np.unravel_index(np.argmax(over), over.shape)
        out.append(Violation("budget", f"source {inst.sources[f]} overspent by {over[f, t]:.1f} "
                                       f"by {inst.years[t]}"))
    if inst.absorption is not None:
        per_commune = np.zeros((inst.n_communes, inst.n_years))
        np.add.at(per_commune, inst.proj_commune, project_spend(inst, dec))
        per_commune += upgrade_spend(inst, dec)[0]
        if (per_commune > inst.absorption + tol).any():
            c, t = np.unravel_index(np.argmax(per_commune), per_commune.shape)
            out.append(Violation("absorption", f"commune {inst.communes[c]} spends {per_commune[c, t]:.1f} "
                                               f"in {inst.years[t]}"))
    return out


def _village_violations(inst: Instance, dec: Decisions) -> list[Violation]:
    """More new NTM villages than are left, or a model village that is not NTM."""
    out: list[Violation] = []
    free = inst.villages - inst.villages_ntm
    if (dec.village_ntm.sum(axis=1) > free).any():
        out.append(Violation("villages", "more new NTM villages than villages left"))
    cum_ntm = inst.villages_ntm[:, None] + np.cumsum(dec.village_ntm, axis=1)
    cum_model = inst.villages_model[:, None] + np.cumsum(dec.village_model, axis=1)
    if (cum_model > cum_ntm).any():
        out.append(Violation("villages", "a model village that is not an NTM village"))
    return out


def _tier_violations(inst: Instance, dec: Decisions) -> list[Violation]:
    """Tier upgrades the criteria set does not issue, or that finish too late or too early.

    An upgrade finishes by the horizon, no earlier than the year its commune reaches NTM,
    and the top tier's no earlier than the advanced one's (tiers nest in time too). A
    district unit under a set without district tiers is a violation too.
    """
    out: list[Violation] = []
    end = inst.horizon_end
    ntm_year = evaluate(inst, dec).commune_year_ntm
    crit = inst.criteria_set
    finish = {}
    for name, tier, starts, lead in (("advanced", crit.advanced_tier, dec.adv_start, inst.adv_lead),
                                     ("model", crit.top_tier, dec.model_start, inst.model_lead)):
        funded = starts >= 0
        if tier is None:
            for c in np.flatnonzero(funded):
                out.append(Violation("tier", f"{name} upgrade of {inst.communes[c]}: criteria set {crit.id} "
                                             f"issues no such tier"))
            continue
        finish[name] = np.where(funded, starts + lead - 1, -1)
        label = tier.label_en
        if (funded & (finish[name] > end)).any():
            out.append(Violation("tier", f"{label} upgrade completes after {end}"))
        early = funded & (finish[name] < ntm_year) & ~inst.base_ntm
        for c in np.flatnonzero(early):
            out.append(Violation("tier", f"{label} upgrade of {inst.communes[c]} completes in "
                                         f"{int(finish[name][c])}, before the commune is NTM ({ntm_year[c]})"))
    if len(finish) == 2:
        before = (finish["model"] >= 0) & ~inst.base_adv & (finish["model"] < finish["advanced"])
        for c in np.flatnonzero(before):
            out.append(Violation("tier", f"{crit.top_tier.label_en} upgrade of {inst.communes[c]} completes in "
                                         f"{int(finish['model'][c])}, before its {crit.advanced_tier.label_en} "
                                         f"upgrade ({int(finish['advanced'][c])}): tiers nest"))
    for name, starts, issued in (("district unit", dec.district_start, inst.has_district_units),
                                 ("advanced district", dec.district_adv_start, inst.has_advanced_districts)):
        if not issued and (starts >= 0).any():
            out.append(Violation("district", f"{name} project funded, but criteria set {crit.id} recognises none"))
    return out


# ----- table form ---------------------------------------------------------------------

@dataclass
class Plan:
    """A plan as tables, with its decisions and deterministic outcomes.

    Attributes
    ----------
    name
        ``"optimum"``, ``"planners_rule"``, ``"cheapest_first"``, ``"d07_shareout"``…
    decisions, outcomes
        Index form and what it achieves.
    projects
        One row per funded project: project_id, kind, commune_code, district_code,
        criterion, start_year, end_year, quantity, cost_mvnd, priority.
    funding
        One row per project, year and source: project_id, kind, commune_code,
        district_code, criterion, year, source, amount_mvnd.
    """

    name: str
    decisions: Decisions
    outcomes: Outcomes
    projects: pd.DataFrame = field(repr=False)
    funding: pd.DataFrame = field(repr=False)


def make_plan(inst: Instance, dec: Decisions, name: str) -> Plan:
    """Build the tables of a plan from its decisions (allocating sources if needed)."""
    if dec.flows is None:
        flows, unpaid = allocate_flows(inst, class_spend(inst, dec))
        dec = dec.copy()
        dec.flows = flows
    outcomes = evaluate(inst, dec)
    prio = dec.priority if dec.priority is not None else np.arange(inst.n_projects, dtype=float)
    rows = _ProjectRows.of(inst, _project_blocks(inst, dec, prio))
    return Plan(name=name, decisions=dec, outcomes=outcomes, projects=rows.table(),
                funding=_funding_table(inst, dec, rows))


def _project_blocks(inst: Instance, dec: Decisions, prio: np.ndarray) -> list[tuple]:
    """One block of columns per kind of project, in table order."""
    # arrays, not rows (a country has ~10^5 rows)
    blocks = []
    ps = np.flatnonzero(dec.proj_start >= 0)
    criteria = np.array(inst.criteria, dtype=object)
    blocks.append(("criterion", inst.proj_commune[ps], criteria[inst.proj_criterion[ps]], dec.proj_start[ps],
                   inst.proj_lead[ps], np.ones(len(ps), dtype=int), inst.proj_cost[ps].astype(float),
                   inst.proj_class[ps], prio[ps].astype(float)))
    crit = inst.criteria_set
    for kind, tier, starts, cost, lead in (
            ("advanced", crit.advanced_tier, dec.adv_start, inst.adv_cost, inst.adv_lead),
            ("model", crit.top_tier, dec.model_start, inst.model_cost, inst.model_lead)):
        cs = np.flatnonzero(starts >= 0)
        # the criterion column names the set's own tier (model, or modern under Decision 51)
        item = tier.id if tier is not None else kind
        blocks.append((kind, cs, np.full(len(cs), item, dtype=object), starts[cs], lead[cs],
                       np.ones(len(cs), dtype=int), cost[cs].astype(float), inst.commune_upgrade_class[cs],
                       np.full(len(cs), np.inf)))
    for kind, counts, unit in (("village_ntm", dec.village_ntm, inst.village_ntm_cost),
                               ("village_model", dec.village_model, inst.village_model_cost)):
        cs, ts = np.nonzero(counts)
        q = counts[cs, ts].astype(int)
        blocks.append((kind, cs, np.full(len(cs), kind, dtype=object), inst.years[ts].astype(int),
                       np.ones(len(cs), dtype=int), q, (unit[cs] * q).astype(float), inst.commune_upgrade_class[cs],
                       np.full(len(cs), np.inf)))
    for kind, starts, cost in (("district", dec.district_start, inst.district_cost),
                               ("district_advanced", dec.district_adv_start, inst.district_adv_cost)):
        ds = np.flatnonzero(starts >= 0)
        blocks.append((kind, -1 - ds, np.full(len(ds), kind, dtype=object), starts[ds], np.ones(len(ds), dtype=int),
                       np.ones(len(ds), dtype=int), cost[ds].astype(float), inst.district_upgrade_class[ds],
                       np.full(len(ds), np.inf)))
    return blocks


@dataclass
class _ProjectRows:
    """Every project of a plan as columns: unit (a commune, or ``-1 - d`` a district's own), kind, cost, class."""

    kind: np.ndarray
    code: np.ndarray
    district: np.ndarray
    crit: np.ndarray
    start: np.ndarray
    lead: np.ndarray
    qty: np.ndarray
    cost: np.ndarray
    g: np.ndarray
    priority: np.ndarray

    @classmethod
    def of(cls, inst: Instance, blocks: list[tuple]) -> _ProjectRows:
        """The blocks joined, each row named by its commune and district codes."""
        kind = np.concatenate([np.full(len(b[1]), b[0], dtype=object) for b in blocks])
        unit, crit, start, lead, qty, cost, g, priority = (np.concatenate([b[i] for b in blocks]) for i in range(1, 9))
        start, lead, qty, g = (a.astype(int) for a in (start, lead, qty, g))
        # unit >= 0 is a commune, -1 - d a district's own project
        commune_codes = np.array(list(inst.communes) + [""], dtype=object)
        district_of = np.where(unit >= 0, inst.commune_district[np.maximum(unit, 0)], -1 - unit)
        code = commune_codes[np.where(unit >= 0, unit, len(inst.communes))]
        district = np.array([*inst.districts, ""], dtype=object)[district_of]  # -1: no district
        return cls(kind, code, district, crit, start, lead, qty, cost, g, priority)

    def table(self) -> pd.DataFrame:
        """The projects table, in payment priority."""
        projects = pd.DataFrame({"project_id": np.arange(len(self.kind)), "kind": self.kind, "commune_code": self.code,
                                 "district_code": self.district, "criterion": self.crit, "start_year": self.start,
                                 "end_year": self.start + self.lead - 1, "quantity": self.qty, "cost_mvnd": self.cost,
                                 "priority": self.priority})
        projects = _as_str(projects, ["kind", "commune_code", "district_code", "criterion"])
        return projects.sort_values(["priority", "start_year", "commune_code", "criterion"],
                                    kind="stable").reset_index(drop=True)


def _funding_table(inst: Instance, dec: Decisions, rows: _ProjectRows) -> pd.DataFrame:
    """Each project's yearly share, split by the sources that paid its class that year."""
    start, lead, cost, g = rows.start, rows.lead, rows.cost, rows.g
    y0, n_t = int(inst.years[0]), inst.n_years
    rows_p, rows_t = [], []
    for k in range(int(lead.max()) if len(lead) else 0):
        t = start - y0 + k
        ok = np.flatnonzero((k < lead) & (t >= 0) & (t < n_t))
        rows_p.append(ok)
        rows_t.append(t[ok])
    rp = np.concatenate(rows_p) if rows_p else np.zeros(0, dtype=int)
    rt = np.concatenate(rows_t) if rows_t else np.zeros(0, dtype=int)
    order = np.lexsort((rt, rp))  # by project, then year
    rp, rt = rp[order], rt[order]
    r, f, amount = _fill_sources(dec.flows, g[rp], rt, cost[rp] / lead[rp])
    p_of = rp[r]
    funding = pd.DataFrame({"project_id": p_of, "kind": rows.kind[p_of], "commune_code": rows.code[p_of],
                            "district_code": rows.district[p_of], "criterion": rows.crit[p_of],
                            "year": (rt[r] + y0).astype(int),
                            "source": np.array(inst.sources, dtype=object)[f],
                            "amount_mvnd": amount})
    return _as_str(funding, ["kind", "commune_code", "district_code", "criterion", "source"])


def _fill_sources(flows: np.ndarray, cls: np.ndarray, year: np.ndarray,
                  amount: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pay each project-year from as few sources as possible: one class and year at a time.

    Within a class and year, project-years (in table order) are filled from the sources
    that paid the class that year one after the other (in the dataset's order of
    sources), so a project-year takes one source, or two where one runs out, instead of
    a sliver of every source; each source still pays exactly what it paid the class.
    Returns (row, source, amount) triples.
    """
    rows, sources, amounts = [], [], []
    for g, t in sorted(set(zip(cls.tolist(), year.tolist(), strict=True))):
        idx = np.flatnonzero((cls == g) & (year == t))
        paid = flows[:, g, t]
        fs = np.flatnonzero(paid > 0)
        if not len(fs):
            continue
        # each project-year and each source as an interval on one line of money: overlaps are payments
        p_hi = np.cumsum(amount[idx])
        p_lo = p_hi - amount[idx]
        f_hi = np.cumsum(paid[fs])
        f_hi[-1] = max(f_hi[-1], p_hi[-1])  # solver round-off: the last source pays the rest
        f_lo = np.concatenate([[0.0], f_hi[:-1]])
        overlap = np.minimum(p_hi[:, None], f_hi[None, :]) - np.maximum(p_lo[:, None], f_lo[None, :])
        i, j = np.nonzero(overlap > 1e-9)
        rows.append(idx[i])
        sources.append(fs[j])
        amounts.append(overlap[i, j])
    if not rows:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(rows), np.concatenate(sources), np.concatenate(amounts)


def _as_str(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Text columns with the dtype pandas gives text read from rows (an empty table: all object)."""
    if frame.empty:
        return pd.DataFrame([], columns=list(frame.columns))
    for col in columns:
        frame[col] = pd.array(frame[col].tolist(), dtype=pd.DataFrame({col: ["x"]})[col].dtype)
    return frame


def decisions_from_projects(inst: Instance, projects: pd.DataFrame) -> Decisions:
    """Rebuild decisions from a ``projects.csv`` table (for simulating a saved plan)."""
    dec = Decisions.empty(inst)
    c_index = {c: i for i, c in enumerate(inst.communes)}
    d_index = {d: i for i, d in enumerate(inst.districts)}
    p_index = {(int(c), int(k)): p for p, (c, k) in enumerate(zip(inst.proj_commune, inst.proj_criterion,
                                                                  strict=True))}
    k_index = {k: i for i, k in enumerate(inst.criteria)}
    prio = np.full(inst.n_projects, np.inf)
    for r in projects.itertuples(index=False):
        code = "" if pd.isna(r.commune_code) else str(r.commune_code)
        if r.kind == "criterion":
            p = p_index.get((c_index.get(code, -1), k_index.get(str(r.criterion), -1)))
            if p is not None:
                dec.proj_start[p] = int(r.start_year)
                prio[p] = float(r.priority)
        elif r.kind == "advanced":
            dec.adv_start[c_index[code]] = int(r.start_year)
        elif r.kind == "model":
            dec.model_start[c_index[code]] = int(r.start_year)
        elif r.kind == "village_ntm":
            dec.village_ntm[c_index[code], inst.year_index(int(r.start_year))] += int(r.quantity)
        elif r.kind == "village_model":
            dec.village_model[c_index[code], inst.year_index(int(r.start_year))] += int(r.quantity)
        elif r.kind == "district":
            dec.district_start[d_index[str(r.district_code)]] = int(r.start_year)
        elif r.kind == "district_advanced":
            dec.district_adv_start[d_index[str(r.district_code)]] = int(r.start_year)
    order = np.argsort(prio, kind="stable")
    dec.priority = np.empty(inst.n_projects)
    dec.priority[order] = np.arange(inst.n_projects)
    return dec
