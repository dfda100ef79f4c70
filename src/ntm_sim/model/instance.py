"""A planning instance: a dataset and a scenario resolved into arrays.

The optimizer, the baseline rules, the deterministic evaluation and the Monte Carlo
engine all read the same :class:`Instance`, so they agree on what a project costs, when
it completes, which sources may pay for it and what the targets are.

Conventions
-----------
* A *project* is one unmet criterion of one commune. Started in year ``s`` with lead
  time ``L``, it is met at the end of year ``s + L - 1`` and its cost is spent evenly
  over the years ``s … s + L - 1``. A project whose yearly share would exceed the
  commune's absorption limit is stretched over more years (:func:`stretched_leads`).
* Tier upgrades, villages and district criteria are projects too, paid by the *upgrade
  sources* (by default the sources that may pay for every criterion); tiers and
  district units count at the horizon only. A tier upgrade is stretched over more
  years as a criterion project is when its yearly share would exceed the absorption
  limit, and it finishes no earlier than the tier it requires.
* Tiers are the criteria set's (:attr:`CriteriaSet.tiers`): the tool has two places for
  tiers above NTM, ``adv_*`` for the *advanced* tier that the top tier requires
  (Decision 318: nâng cao), and ``model_*`` for the *top* tier (Decision 318: kiểu mẫu;
  Decision 51: the modern-commune pilot, hiện đại, which nests directly on NTM). A set
  without an advanced tier has no advanced upgrade, count or target; a set without
  district tiers (Decision 51: no districts after 1 July 2025) has no district unit.
* Money is in million VND.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.dataset import Dataset
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.model.funding import _Funding, _funding, _reserve_maintenance, _source_scope
from ntm_sim.model.levers import Locks, Targets, _committed_projects, _district_floors, _resolve_locks, _resolve_targets
from ntm_sim.model.scenario import BadFn, Scenario, key_problem


@dataclass(frozen=True)
class Recognition:
    """How recognitions are kept and lost over the horizon.

    The criteria set's revocation rule (:class:`ntm_sim.data.criteria.Revocation`) as counts,
    and when it is applied: a commune recognised at the start keeps its recognition until
    a review finds the rule triggered. Reviews are held every year from ``review_from``
    (the province's; a plan on paper applies the rule at each review, a simulation carries
    a triggered rule out with ``revocation_probability``). Before ``assessed_from`` the
    horizon's years are still under the previous set, which recognised communes met: they
    count every criterion then.

    Attributes
    ----------
    unmet_with_key, unmet_alone
        The fewest unmet criteria that revoke with a key criterion among them, and without.
    key
        Bool per criterion: the key criteria.
    review_from
        Year index of the first review (``n_years``: none within the horizon).
    district_limit
        Per district: the fewest member communes revoked that revoke a recognised unit
        (``n + 1``: never).
    assessed_from
        Year index from which recognised communes are assessed under the set.
    """

    unmet_with_key: int
    unmet_alone: int
    key: np.ndarray
    review_from: int
    district_limit: np.ndarray
    assessed_from: int = 0

    def triggered(self, met: np.ndarray) -> np.ndarray:
        """Whether the rule revokes, for bool status ``met`` (…, n_criteria) → bool (…)."""
        unmet = ~np.asarray(met, dtype=bool)
        n_unmet = unmet.sum(axis=-1)
        return (n_unmet >= self.unmet_alone) | ((n_unmet >= self.unmet_with_key) & (unmet & self.key).any(axis=-1))


@dataclass(frozen=True)
class Instance:
    """Dataset × scenario as arrays (see the module docstring for conventions)."""

    dataset: Dataset
    scenario: Scenario
    years: np.ndarray
    communes: list[str]
    commune_district: np.ndarray
    districts: list[str]
    district_members: list[np.ndarray]
    district_recognised: np.ndarray
    district_cost: np.ndarray
    district_adv_cost: np.ndarray
    district_need_adv: np.ndarray       # advanced communes needed for the NTM district
    district_need_adv2: np.ndarray      # … for the advanced district
    district_need_model2: np.ndarray    # model communes needed for the advanced district
    criteria: list[str]
    base_met: np.ndarray                # bool (n_c, n_k) at the start of the horizon
    recognised: np.ndarray              # bool per commune: legally recognised NTM at the start
    maintenance: np.ndarray             # (n_t,) money reserved to maintain recognised communes
    lead: np.ndarray                    # int per criterion
    proj_commune: np.ndarray
    proj_criterion: np.ndarray
    proj_cost: np.ndarray
    proj_lead: np.ndarray
    proj_class: np.ndarray
    proj_committed_start: np.ndarray    # start year of projects already under way, else -1
    sources: list[str]
    budget: np.ndarray                  # (n_f, n_t)
    classes: list[tuple[int, ...]]      # eligible source indices per class
    commune_upgrade_class: np.ndarray   # class paying a commune's tier and village projects
    district_upgrade_class: np.ndarray  # class paying a district's projects
    carry_over: bool
    absorption: float | None
    adv_cost: np.ndarray
    model_cost: np.ndarray
    adv_lead: np.ndarray                # years per commune: the tier's lead time, stretched to the absorption limit
    model_lead: np.ndarray
    base_adv: np.ndarray
    base_model: np.ndarray
    villages: np.ndarray
    villages_ntm: np.ndarray
    villages_model: np.ndarray
    village_ntm_cost: np.ndarray
    village_model_cost: np.ndarray
    especially_difficult: np.ndarray
    targets: Targets
    locks: Locks
    recognition: Recognition | None = None  # how recognitions are lost (None: never within the horizon)
    district_floor: dict[int, float] = field(default_factory=dict)
    gap_source: int | None = None       # index of the virtual "money still missing" source (min-cost)

    # ----- sizes and helpers -----------------------------------------------------------
    @property
    def n_communes(self) -> int:
        """Number of communes."""
        return len(self.communes)

    @property
    def n_years(self) -> int:
        """Number of years in the horizon."""
        return len(self.years)

    @property
    def n_projects(self) -> int:
        """Number of criterion projects (unmet commune × criterion pairs)."""
        return len(self.proj_cost)

    @property
    def horizon_end(self) -> int:
        """Last year of the horizon."""
        return int(self.years[-1])

    def start_years(self, p: int) -> list[int]:
        """Years a project may start so that it completes within the horizon."""
        committed = int(self.proj_committed_start[p])
        if committed >= 0:
            return [committed]
        last = self.horizon_end - int(self.proj_lead[p]) + 1
        return [int(y) for y in self.years if y <= last]

    def spend_years(self, start: int, lead: int) -> list[int]:
        """Horizon years in which a project started in ``start`` spends money."""
        return [y for y in range(start, start + lead) if self.years[0] <= y <= self.horizon_end]

    def year_index(self, year: int) -> int:
        """Position of a year in the horizon."""
        return int(year - self.years[0])

    @cached_property
    def base_criteria_met(self) -> np.ndarray:
        """Criteria met per commune at the start (read-only; computed once)."""
        return _frozen(self.base_met.sum(axis=1))

    @cached_property
    def base_ntm(self) -> np.ndarray:
        """Communes meeting every criterion at the start (read-only; computed once)."""
        return _frozen(self.base_met.all(axis=1))

    @cached_property
    def projects_of(self) -> list[np.ndarray]:
        """Project indices of each commune (computed once: callers index it in loops)."""
        order = np.argsort(self.proj_commune, kind="stable")
        bounds = np.searchsorted(self.proj_commune[order], np.arange(self.n_communes + 1))
        return [order[bounds[c]:bounds[c + 1]] for c in range(self.n_communes)]

    @cached_property
    def at_risk(self) -> np.ndarray:
        """Communes recognised at the start whose recognition a review can take away on paper.

        On paper criteria are only gained, so a commune not triggering the revocation rule
        at the start never does; one triggering it keeps its recognition only if its
        projects get it out of the rule by the first review (read-only; computed once).
        """
        rec = self.recognition
        if rec is None or rec.review_from >= self.n_years:
            return _frozen(np.zeros(self.n_communes, dtype=bool))
        return _frozen(self.recognised & rec.triggered(self.base_met))

    @property
    def criteria_set(self) -> CriteriaSet:
        """The dataset's criteria set: the tiers and district tiers it issues."""
        return self.dataset.criteria

    @property
    def has_advanced_tier(self) -> bool:
        """Whether the criteria set issues an advanced tier (``adv_*``), which its top tier requires."""
        return self.criteria_set.advanced_tier is not None

    @property
    def has_model_tier(self) -> bool:
        """Whether the criteria set issues a tier above NTM (its top tier, ``model_*``)."""
        return self.criteria_set.top_tier is not None

    @property
    def has_district_units(self) -> bool:
        """Whether the criteria set recognises district-level units (a district tier ``ntm``)."""
        return "ntm" in self.criteria_set.district_tier_ids and bool(self.districts)

    @property
    def has_advanced_districts(self) -> bool:
        """Whether the criteria set recognises advanced districts (a district tier ``advanced``)."""
        return "advanced" in self.criteria_set.district_tier_ids and self.has_district_units

    @property
    def absent_outcomes(self) -> set[str]:
        """Outcomes the criteria set has nothing to count for, left out of every result file and table.

        ``advanced`` without an advanced tier (Decision 51), ``model`` without a tier above
        NTM, ``district_units`` and ``advanced_districts`` without district tiers (or
        districts).
        """
        out = set()
        if not self.has_advanced_tier:
            out.add("advanced")
        if not self.has_model_tier:
            out.add("model")
        if not self.has_district_units:
            out |= {"district_units", "district_unit_names"}
        if not self.has_advanced_districts:
            out.add("advanced_districts")
        return out

    def model_prerequisite(self, advanced: np.ndarray, ntm: np.ndarray) -> np.ndarray:
        """Who has what the top tier requires: the advanced communes, or the NTM ones without an advanced tier."""
        return advanced if self.has_advanced_tier else ntm

    @property
    def total_budget(self) -> float:
        """Money available over the horizon (with the gap source's envelope, if any)."""
        return float(self.budget.sum())

    @property
    def real_budget(self) -> float:
        """Money the real sources provide over the horizon (the gap source left out)."""
        if self.gap_source is None:
            return self.total_budget
        return float(self.budget.sum() - self.budget[self.gap_source].sum())


def stretched_leads(lead: np.ndarray, cost: np.ndarray, absorption: float | None) -> np.ndarray:
    """Lead times stretched so that a project's yearly share fits a commune's absorption limit.

    A road whose cost spread over its lead time exceeds what a commune can spend in a
    year is built over more years, as a planner would do, instead of being impossible.
    """
    if absorption is None:
        return lead
    need = np.ceil(np.asarray(cost, dtype=float) / absorption - 1e-9).astype(int)
    return np.maximum(lead, need)


def _frozen(a: np.ndarray) -> np.ndarray:
    """The array, read-only: a cached value must not be changed in place by a caller."""
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class _Layout:
    """The horizon and the commune → district map, as indices."""

    years: np.ndarray                   # int, the horizon
    communes: list[str]
    districts: list[str]
    d_index: dict[str, int]             # district code → position
    commune_district: np.ndarray        # district position of each commune
    members: list[np.ndarray]           # commune positions of each district


@dataclass(frozen=True)
class _Classes:
    """Eligibility classes: each distinct set of sources that may pay for a project."""

    proj_class: np.ndarray              # class of each criterion project
    commune_upgrade: np.ndarray         # class of each commune's tier and village projects
    district_upgrade: np.ndarray        # class of each district's projects
    classes: list[tuple[int, ...]]      # source indices of each class


def build_instance(ds: Dataset, scenario: Scenario) -> Instance:
    """Resolve a dataset and a scenario into an :class:`Instance`.

    Raises
    ------
    InputError
        Naming the scenario key and value that do not fit the dataset.
    """
    file = scenario.source_file or f"scenario {scenario.name}"
    problems: list[Problem] = []

    def bad(message: Text, expected: str | None = None, found: str | None = None) -> None:
        problems.append(Problem(file, message, expected=expected, found=found))

    # The helpers run in this order so that problems are listed in the order of the
    # scenario's keys: lead times, money, scopes, replan, targets, locks, floors.
    crit = ds.criteria
    layout = _layout(ds, scenario)
    lead = _lead_times(crit, scenario, bad)
    funding = _funding(ds, scenario, layout.years, bad)
    recognised = ds.recognised.to_numpy(dtype=bool)
    funding, maintenance = _reserve_maintenance(funding, recognised, scenario.budget.maintenance_mvnd_per_commune)
    in_scope = _source_scope(ds, scenario, funding.sources, bad)
    status = ds.status.to_numpy()
    pc, pk = np.nonzero(~status)  # a project per unmet commune × criterion
    cls = _eligibility_classes(funding, in_scope, pc, pk, layout.members)
    proj_cost = np.nan_to_num(ds.cost.to_numpy()[pc, pk], nan=0.0)
    committed = np.full(len(pc), -1, dtype=int)
    if scenario.replan and scenario.replan.previous_plan:
        committed = _committed_projects(scenario, layout.communes, crit.ids, pc, pk, lead, problems, file)
    tier_fields = _commune_fields(ds.communes, crit, scenario.budget.absorption_limit_mvnd)
    targets = _resolve_targets(ds, scenario, layout.d_index, bad)
    locks = _resolve_locks(ds, scenario, layout.communes, pc, pk, layout.years, bad)
    floors = _district_floors(ds, scenario, layout.d_index, bad)
    if problems:
        raise InputError(problems)

    return Instance(
        dataset=ds, scenario=scenario, years=layout.years, communes=layout.communes,
        commune_district=layout.commune_district, districts=layout.districts, district_members=layout.members,
        **_district_fields(ds, layout.members),
        criteria=list(crit.ids), base_met=status.astype(bool), recognised=recognised, maintenance=maintenance,
        lead=lead, proj_commune=pc.astype(int), proj_criterion=pk.astype(int), proj_cost=proj_cost,
        proj_lead=stretched_leads(lead[pk], proj_cost, scenario.budget.absorption_limit_mvnd),
        proj_class=cls.proj_class, proj_committed_start=committed,
        sources=funding.sources, budget=funding.budget, classes=cls.classes,
        commune_upgrade_class=cls.commune_upgrade, district_upgrade_class=cls.district_upgrade,
        carry_over=scenario.budget.carry_over, absorption=scenario.budget.absorption_limit_mvnd,
        **tier_fields, targets=targets, locks=locks, recognition=_recognition(ds, scenario, layout),
        district_floor=floors,
    )


def _recognition(ds: Dataset, scenario: Scenario, layout: _Layout) -> Recognition | None:
    """The criteria set's revocation rule as counts, and the years of reviews within the horizon.

    Reviews start in the scenario's ``recognition.reviews_from``, else the dataset's
    (``dataset.yaml``: when the province began applying the rule), else the year the set
    comes into force; never before that year.
    """
    crit = ds.criteria
    years = layout.years
    effective = crit.effective_year or int(years[0])
    assessed_from = int(np.clip(effective - int(years[0]), 0, len(years)))
    rule = crit.revocation
    if rule is None:
        return None
    start = scenario.recognition.reviews_from or ds.meta.reviews_from or effective
    review_from = int(np.clip(max(start, effective) - int(years[0]), 0, len(years)))
    with_key, alone = rule.unmet_limits(len(crit))
    n_members = np.array([len(m) for m in layout.members], dtype=int)
    share = rule.district.revoked_communes_share if rule.district is not None else None
    limit = (np.array([math.ceil(share * n - 1e-9) for n in n_members], dtype=int) if share is not None
             else n_members + 1)
    return Recognition(unmet_with_key=with_key, unmet_alone=alone, key=np.isin(crit.ids, rule.commune.key_criteria),
                       review_from=review_from, district_limit=np.maximum(limit, 1), assessed_from=assessed_from)


def _layout(ds: Dataset, scenario: Scenario) -> _Layout:
    """The horizon's years and the positions of communes and districts.

    Parameters
    ----------
    ds
        The dataset (communes in dataset order).
    scenario
        Gives the horizon (from ``replan.from_year`` when re-planning).

    Returns
    -------
    _Layout
    """
    communes = list(ds.communes.index)
    districts = list(ds.districts.index)
    d_index = {d: i for i, d in enumerate(districts)}
    # -1: a commune without a district (units from 1 July 2025): no district unit, share or target
    commune_district = np.array([d_index.get(d, -1) for d in ds.communes["district_code"]], dtype=int)
    return _Layout(
        years=np.array(scenario.horizon, dtype=int),
        communes=communes,
        districts=districts,
        d_index=d_index,
        commune_district=commune_district,
        members=[np.flatnonzero(commune_district == i) for i in range(len(districts))],
    )


def _lead_times(crit: CriteriaSet, scenario: Scenario, bad: BadFn) -> np.ndarray:
    """Lead time of each criterion: the criteria set's default, or the scenario's override.

    Parameters
    ----------
    crit
        The dataset's criteria set.
    scenario
        Its ``lead_times`` map criterion codes or names to years.
    bad
        Reports a key naming no criterion.

    Returns
    -------
    numpy.ndarray
        Years per criterion (int), in criteria order.
    """
    lead = np.array([crit[k].lead_time_years for k in crit.ids], dtype=int)
    for key, value in scenario.lead_times.items():
        k = crit.match(key)
        if k is None:
            bad(key_problem(f"lead_times.{key}", Text("scenario.unknown_criterion")),
                expected=f"{crit.ids[0]}…{crit.ids[-1]}")
            continue
        lead[crit.ids.index(k)] = value
    return lead


def _eligibility_classes(funding: _Funding, in_scope: np.ndarray, pc: np.ndarray, pk: np.ndarray,
                         members: list[np.ndarray]) -> _Classes:
    """Group projects by the set of sources that may pay for them.

    Projects of one class share their money, so the optimizer and the rules budget per
    class rather than per project. Class ids are numbered in order of first use:
    criterion projects, then communes' upgrades, then districts'.

    Parameters
    ----------
    funding
        Sources' eligibility by criterion and upgrade sources.
    in_scope
        Bool (n_f, n_c): source may pay in commune.
    pc, pk
        Commune and criterion of each project.
    members
        Commune positions of each district.

    Returns
    -------
    _Classes
    """
    signatures: dict[tuple[int, ...], int] = {}

    def class_id(sources_ok: np.ndarray) -> int:
        return signatures.setdefault(tuple(int(i) for i in np.flatnonzero(sources_ok)), len(signatures))

    elig, upgrade = funding.eligible, funding.upgrade
    proj_class = np.array([class_id(elig[:, k] & in_scope[:, c]) for c, k in zip(pc, pk, strict=True)],
                          dtype=int)
    commune_up = np.array([class_id(upgrade & in_scope[:, c]) for c in range(in_scope.shape[1])], dtype=int)
    # a district's projects may be paid only by sources in scope in all of its communes
    district_up = np.array([class_id(upgrade & in_scope[:, m].all(axis=1)) if len(m) else class_id(upgrade)
                            for m in members], dtype=int)
    return _Classes(
        proj_class=proj_class,
        commune_upgrade=commune_up,
        district_upgrade=district_up,
        classes=[sig for sig, _ in sorted(signatures.items(), key=lambda kv: kv[1])],
    )


def _district_fields(ds: Dataset, members: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The :class:`Instance` fields of district units: status, costs and tier requirements.

    Parameters
    ----------
    ds
        The dataset (district table, criteria set's district tiers).
    members
        Commune positions of each district.

    Returns
    -------
    dict
        ``district_recognised``, ``district_cost``, ``district_adv_cost`` and the
        numbers of advanced/model communes each district needs.
    """
    rules = {t.id: t for t in ds.criteria.district_tiers}
    n_d = np.array([len(m) for m in members])
    ntm_rule = rules.get("ntm")
    adv_rule = rules.get("advanced")

    def need(share: float | None) -> np.ndarray:
        # a share of the district's communes, rounded up (tolerating float noise)
        share = share or 0.0
        return np.array([math.ceil(share * n - 1e-9) for n in n_d], dtype=int)

    return {
        "district_recognised": ds.districts["ntm"].to_numpy(dtype=bool),
        "district_cost": np.nan_to_num(ds.districts["district_cost_mvnd"].to_numpy(dtype=float)),
        "district_adv_cost": np.nan_to_num(ds.districts["district_advanced_cost_mvnd"].to_numpy(dtype=float)),
        "district_need_adv": need(ntm_rule.min_share_communes_advanced if ntm_rule else 0.0),
        "district_need_adv2": need(adv_rule.min_share_communes_advanced if adv_rule else 0.0),
        "district_need_model2": need(adv_rule.min_share_communes_model if adv_rule else 0.0),
    }


def _commune_fields(c: pd.DataFrame, crit: CriteriaSet, absorption: float | None) -> dict[str, np.ndarray]:
    """The :class:`Instance` fields read straight from the communes table.

    Tier and village status and costs, the tiers' lead times and the especially-difficult
    flag; a missing cost counts as zero. A tier the criteria set does not issue has no
    status, cost or upgrade (Decision 51: no advanced tier; a commune marked advanced
    under the earlier set is not advanced under it). A tier upgrade whose yearly share
    would exceed the absorption limit is spread over more years, as criterion projects are.

    Parameters
    ----------
    c
        The communes table.
    crit
        The criteria set: which tiers it issues, and their lead times.
    absorption
        Most a commune can spend in a year (million VND), or None.

    Returns
    -------
    dict
        Field name → array, one entry per commune.
    """
    n = len(c)
    fields: dict[str, np.ndarray] = {}
    for slot, tier, status, cost in (("adv", crit.advanced_tier, "advanced", "advanced_cost_mvnd"),
                                     ("model", crit.top_tier, "model", "model_cost_mvnd")):
        issued = tier is not None
        fields[f"{slot}_cost"] = np.nan_to_num(c[cost].to_numpy(dtype=float)) if issued else np.zeros(n)
        fields[f"base_{slot}"] = c[status].to_numpy(dtype=bool) if issued else np.zeros(n, dtype=bool)
        lead = np.full(n, tier.lead_time_years if issued else 1, dtype=int)
        fields[f"{slot}_lead"] = stretched_leads(lead, fields[f"{slot}_cost"], absorption)
    return {
        **fields,
        "villages": c["villages"].to_numpy(dtype=int),
        "villages_ntm": c["villages_ntm"].to_numpy(dtype=int),
        "villages_model": c["villages_model"].to_numpy(dtype=int),
        "village_ntm_cost": np.nan_to_num(c["village_ntm_cost_mvnd"].to_numpy(dtype=float)),
        "village_model_cost": np.nan_to_num(c["village_model_cost_mvnd"].to_numpy(dtype=float)),
        "especially_difficult": c["especially_difficult"].to_numpy(dtype=bool),
    }


