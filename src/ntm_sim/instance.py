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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ntm_sim.criteria import CriteriaSet
from ntm_sim.dataset import Dataset, eligibility_from_rule, normalise_code
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.io.schema import SHEET_SOURCES
from ntm_sim.scenario import Scenario
from ntm_sim.scenario import Targets as ScenarioTargets
from ntm_sim.text import commune_key, district_key, norm_key


@dataclass(frozen=True)
class Targets:
    """Targets resolved to indices; None where the scenario sets none."""

    communes_ntm: int | None = None
    communes_count: str = "recognised"  # what communes_ntm counts: "recognised" (as provinces count) or "meeting"
    advanced: int | None = None
    model: int | None = None
    district_units: tuple[int, ...] = ()
    advanced_districts: tuple[int, ...] = ()
    villages_ntm: int | None = None
    villages_model: int | None = None
    min_criteria: int | None = None
    avg_criteria_total: int | None = None  # Σ criteria met needed for the average
    avg_criteria: float | None = None
    criterion_communes: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Locks:
    """Planner locks resolved to indices."""

    force_commune: tuple[int, ...] = ()
    forbid_commune: tuple[int, ...] = ()
    force_project: tuple[tuple[int, int | None], ...] = ()  # (project, year or None)
    forbid_project: tuple[tuple[int, int | None], ...] = ()
    forbid_commune_year: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Recognition:
    """How recognitions are kept and lost over the horizon.

    The criteria set's revocation rule (:class:`ntm_sim.criteria.Revocation`) as counts,
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


def _resolve_commune(ds: Dataset, ref: str) -> str | None:
    code = normalise_code(ref)
    if code in ds.communes.index:
        return code
    keys = ds.communes["commune_name"].map(commune_key)
    hits = list(keys.index[keys == commune_key(ref)])
    return hits[0] if len(hits) == 1 else None


def _resolve_district(ds: Dataset, ref: str) -> str | None:
    code = normalise_code(ref)
    if code in ds.districts.index:
        return code
    keys = ds.districts["district_name"].map(district_key)
    hits = list(keys.index[keys == district_key(ref)])
    return hits[0] if len(hits) == 1 else None


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
class _Funding:
    """The money of a scenario: sources, their envelopes and what they may pay for."""

    sources: list[str]
    budget: np.ndarray                  # (n_f, n_t) million VND
    eligible: np.ndarray                # bool (n_f, n_k): source may pay for criterion
    upgrade: np.ndarray                 # bool (n_f,): source may pay tiers, villages, districts


@dataclass(frozen=True)
class _Classes:
    """Eligibility classes: each distinct set of sources that may pay for a project."""

    proj_class: np.ndarray              # class of each criterion project
    commune_upgrade: np.ndarray         # class of each commune's tier and village projects
    district_upgrade: np.ndarray        # class of each district's projects
    classes: list[tuple[int, ...]]      # source indices of each class


BadFn = Callable[..., None]  # reports one problem: bad(message, expected=..., found=...)


def _key(key: str, problem: object) -> Text:
    """``key 'budget.scale': …``: a problem of one key of the scenario."""
    return Text("scenario.key", key=key, problem=problem)


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
        dataset=ds,
        scenario=scenario,
        years=layout.years,
        communes=layout.communes,
        commune_district=layout.commune_district,
        districts=layout.districts,
        district_members=layout.members,
        **_district_fields(ds, layout.members),
        criteria=list(crit.ids),
        base_met=status.astype(bool),
        recognised=recognised,
        maintenance=maintenance,
        lead=lead,
        proj_commune=pc.astype(int),
        proj_criterion=pk.astype(int),
        proj_cost=proj_cost,
        proj_lead=stretched_leads(lead[pk], proj_cost, scenario.budget.absorption_limit_mvnd),
        proj_class=cls.proj_class,
        proj_committed_start=committed,
        sources=funding.sources,
        budget=funding.budget,
        classes=cls.classes,
        commune_upgrade_class=cls.commune_upgrade,
        district_upgrade_class=cls.district_upgrade,
        carry_over=scenario.budget.carry_over,
        absorption=scenario.budget.absorption_limit_mvnd,
        **tier_fields,
        targets=targets,
        locks=locks,
        recognition=_recognition(ds, scenario, layout),
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
            bad(_key(f"lead_times.{key}", Text("scenario.unknown_criterion")),
                expected=f"{crit.ids[0]}…{crit.ids[-1]}")
            continue
        lead[crit.ids.index(k)] = value
    return lead


def _funding(ds: Dataset, scenario: Scenario, years: np.ndarray, bad: BadFn) -> _Funding:
    """The dataset's sources and envelopes with the scenario's budget levers applied.

    Parameters
    ----------
    ds
        The dataset (sources, eligibility, envelopes).
    scenario
        Its ``budget`` adds sources, scales and overrides envelopes and names the
        upgrade sources.
    years
        The horizon.
    bad
        Reports levers naming unknown sources and years without money.

    Returns
    -------
    _Funding
    """
    sources = list(ds.sources.index)
    eligibility = ds.eligibility.copy()
    env = _horizon_envelopes(ds, years, bad)
    _add_extra_sources(ds.criteria, scenario, years, sources, eligibility, env, bad)
    env = _budget_levers(scenario, sources, env, bad)
    if scenario.mode == "max-achievement" and not (env.to_numpy(dtype=float) > 0).any():
        where = ds.meta.source or ds.meta.name
        bad(Text("scenario.no_money", data=where, first=str(int(years[0])), last=str(int(years[-1]))),
            expected=Text("scenario.no_money.expected", sheet=SHEET_SOURCES),
            found=Text("scenario.no_source") if not sources else Text("data.all_zero"))
    eligibility = eligibility.reindex(index=sources).fillna(False).astype(bool)
    return _Funding(
        sources=sources,
        budget=env.to_numpy(dtype=float).reshape(len(sources), len(years)),
        eligible=eligibility.to_numpy(dtype=bool).reshape(len(sources), len(ds.criteria)),
        upgrade=_upgrade_sources(scenario, sources, eligibility, bad),
    )


def _reserve_maintenance(funding: _Funding, recognised: np.ndarray,
                         per_commune: float) -> tuple[_Funding, np.ndarray]:
    """Take the yearly cost of maintaining the communes recognised at the start off the money.

    Keeping a recognised commune's standard (upkeep of its works, recurrent services)
    costs ``per_commune`` million VND a year (``budget.maintenance_mvnd_per_commune``, an
    assumption of the scenario; default 0, which changes nothing). It is not tied to one
    criterion, so it comes from the upgrade sources (the money that may pay for every
    criterion), or from every source where none is, in proportion to their envelopes
    and never more than they hold. Communes recognised during the horizon are not
    charged (their upkeep is assumed to fall after it or within their projects' costs).

    Returns
    -------
    funding : _Funding
        The funding with the reduced envelopes.
    maintenance : numpy.ndarray
        Money reserved in each year (million VND).
    """
    budget = funding.budget
    need = per_commune * float(recognised.sum())
    if need <= 0 or budget.size == 0:
        return funding, np.zeros(budget.shape[1])
    payers = funding.upgrade if funding.upgrade.any() else np.ones(len(funding.sources), dtype=bool)
    held = budget[payers].sum(axis=0)
    taken = np.minimum(need, held)
    share = np.divide(taken, held, out=np.zeros_like(held), where=held > 0)
    new_budget = budget.copy()
    new_budget[payers] *= 1.0 - share[None, :]
    return replace(funding, budget=new_budget), taken


def _horizon_envelopes(ds: Dataset, years: np.ndarray, bad: BadFn) -> pd.DataFrame:
    """The dataset's envelopes over the horizon, zero where it has none.

    A dataset with money, but not for every year of the horizon, is reported: a plan
    over years without money would look like a budget cut.

    Returns
    -------
    pandas.DataFrame
        Sources × horizon years, million VND.
    """
    env = ds.envelopes.reindex(columns=[int(y) for y in years]).fillna(0.0)
    if len(ds.envelopes.columns) and not set(years) <= set(ds.envelopes.columns) and len(ds.sources):
        missing = sorted(set(int(y) for y in years) - set(ds.envelopes.columns))
        bad(Text("scenario.years_without_money", years=str(missing)),
            expected=Text("scenario.years_without_money.expected"))
    return env


def _add_extra_sources(crit: CriteriaSet, scenario: Scenario, years: np.ndarray, sources: list[str],
                       eligibility: pd.DataFrame, env: pd.DataFrame, bad: BadFn) -> None:
    """Append the scenario's extra sources to ``sources``, ``eligibility`` and ``env`` (in place).

    Parameters
    ----------
    crit
        Criteria set the eligibility rules refer to.
    scenario
        Its ``budget.extra_sources`` are added.
    years
        The horizon (an extra source's envelope outside it is ignored).
    sources, eligibility, env
        The source list, eligibility table and envelope table to extend.
    bad
        Reports a source that already exists or an eligibility rule that does not parse.
    """
    for extra in scenario.budget.extra_sources:
        if extra.id in sources:
            bad(_key("budget.extra_sources", Text("scenario.source_exists", source=repr(extra.id))))
            continue
        try:
            eligibility.loc[extra.id] = eligibility_from_rule(crit, extra.eligible)
        except ValueError as exc:
            bad(_key(f"budget.extra_sources.{extra.id}.eligible", exc.args[0] if exc.args else str(exc)))
            continue
        sources.append(extra.id)
        env.loc[extra.id] = [float(extra.envelopes.get(int(y), 0.0)) for y in years]


def _budget_levers(scenario: Scenario, sources: list[str], env: pd.DataFrame, bad: BadFn) -> pd.DataFrame:
    """The envelopes scaled (all, then per source, then per year) and overridden as the scenario says.

    Parameters
    ----------
    scenario
        Its ``budget.scale``, ``budget.source_scale``, ``budget.year_scale`` and ``budget.envelopes``.
    sources
        Every source, the extra ones included (the row order of the result).
    env
        Sources × horizon years, million VND.
    bad
        Reports a lever naming an unknown source.

    Returns
    -------
    pandas.DataFrame
        A new table; overrides for years outside the horizon are ignored.
    """
    env = env.reindex(sources).fillna(0.0) * scenario.budget.scale
    for sid, scale in scenario.budget.source_scale.items():
        if sid not in sources:
            bad(_key("budget.source_scale", Text("scenario.unknown_source", source=repr(sid))),
                expected=", ".join(sources))
            continue
        env.loc[sid] *= scale
    for year, scale in scenario.budget.year_scale.items():
        if int(year) not in env.columns:
            bad(_key("budget.year_scale", Text("scenario.year_outside", year=str(year))),
                expected=", ".join(str(y) for y in env.columns))
            continue
        env[int(year)] *= scale
    for sid, by_year in scenario.budget.envelopes.items():
        if sid not in sources:
            bad(_key("budget.envelopes", Text("scenario.unknown_source", source=repr(sid))),
                expected=", ".join(sources))
            continue
        for y, amount in by_year.items():
            if int(y) in env.columns:
                env.loc[sid, int(y)] = float(amount)
    return env


def _upgrade_sources(scenario: Scenario, sources: list[str], eligibility: pd.DataFrame,
                     bad: BadFn) -> np.ndarray:
    """Which sources may pay for tier upgrades, villages and district criteria.

    The scenario's ``budget.upgrade_sources`` if set, else the sources that may pay for
    every criterion.

    Returns
    -------
    numpy.ndarray
        Bool per source.
    """
    if scenario.budget.upgrade_sources is not None:
        unknown = [s for s in scenario.budget.upgrade_sources if s not in sources]
        if unknown:
            bad(_key("budget.upgrade_sources", Text("scenario.unknown_sources", sources=str(unknown))),
                expected=", ".join(sources))
        return np.array([s in scenario.budget.upgrade_sources for s in sources], dtype=bool)
    return eligibility.all(axis=1).to_numpy() if len(sources) else np.zeros(0, dtype=bool)


def _source_scope(ds: Dataset, scenario: Scenario, sources: list[str], bad: BadFn) -> np.ndarray:
    """Where each source may pay: every commune, or the units and flags of its scope.

    A scope lists province, district or commune codes and flags (``ĐBKK``: the Zone
    III communes), separated by ``;`` or ``,`` (see :func:`scope_mask`).

    Parameters
    ----------
    ds
        The dataset (source scopes, commune codes, province and district codes, flags).
    scenario
        Its extra sources carry their own scope.
    sources
        Every source, the extra ones included.
    bad
        Reports scope entries that match no unit or flag.

    Returns
    -------
    numpy.ndarray
        Bool (n_f, n_c).
    """
    in_scope = np.ones((len(sources), len(ds.communes)), dtype=bool)
    scopes = dict(ds.sources["scope"]) if "scope" in ds.sources.columns else {}
    scopes.update({extra.id: extra.scope for extra in scenario.budget.extra_sources})
    units = ScopeUnits.of(ds)  # once: a country has hundreds of scoped sources
    for f, sid in enumerate(sources):
        rule = str(scopes.get(sid, "") or "")
        if rule.strip():
            in_scope[f], unknown = scope_mask(rule, units)
            if unknown:
                bad(Text("scenario.scope_unknown", source=repr(sid), scope=str(unknown)),
                    expected=Text("scenario.scope_unknown.expected", flags=", ".join(sorted(SCOPE_FLAGS))))
    return in_scope


#: Flags a scope may name, each with the commune column it selects (NFC-normalised keys).
SCOPE_FLAGS = {"ĐBKK": "especially_difficult", "khu vực III": "especially_difficult",
               "Zone III": "especially_difficult", "especially_difficult": "especially_difficult"}


@dataclass(frozen=True)
class ScopeUnits:
    """The codes and flags a source scope can name, per commune (dataset order)."""

    province: np.ndarray
    district: np.ndarray
    commune: np.ndarray
    flags: dict[str, np.ndarray]

    @classmethod
    def of(cls, ds: Dataset) -> ScopeUnits:
        """Read them from a dataset."""
        c = ds.communes
        return cls(province=c["province_code"].to_numpy(), district=c["district_code"].to_numpy(),
                   commune=np.array([normalise_code(x) for x in c.index]),
                   flags={norm_key(k): c[col].to_numpy(dtype=bool) for k, col in SCOPE_FLAGS.items()})


def scope_mask(rule: str, units: ScopeUnits) -> tuple[np.ndarray, list[str]]:
    """The communes a scope covers, and its entries that match nothing.

    Parameters
    ----------
    rule
        Entries separated by ``;`` or ``,``: province, district or commune codes, or a
        flag of :data:`SCOPE_FLAGS` (``ĐBKK``: the Zone III communes). A commune is in
        scope when any entry covers it.
    units
        The dataset's codes and flags.

    Returns
    -------
    mask : numpy.ndarray
        Bool per commune.
    unknown : list of str
        Entries that match no unit or flag (sorted).
    """
    mask = np.zeros(len(units.commune), dtype=bool)
    unknown = []
    for entry in (x.strip() for x in rule.replace(",", ";").split(";")):
        if not entry:
            continue
        flag = units.flags.get(norm_key(entry))
        if flag is not None:
            mask |= flag
            continue
        code = normalise_code(entry)
        hit = (units.province == code) | (units.district == code) | (units.commune == code)
        if not hit.any():
            unknown.append(entry)
        mask |= hit
    return mask, sorted(unknown)


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


def _district_floors(ds: Dataset, scenario: Scenario, d_index: dict[str, int], bad: BadFn) -> dict[int, float]:
    """Each named district's floor on its share of the money, less the tolerance.

    Returns
    -------
    dict
        District position → floor (0 … 1).
    """
    floors: dict[int, float] = {}
    if scenario.district_shares:
        for ref, share in scenario.district_shares.floors.items():
            d = _resolve_district(ds, ref)
            if d is None:
                bad(_key("district_shares.floors", Text("scenario.unknown_district", district=repr(ref))),
                    expected=", ".join(f"{k} ({v})" for k, v in ds.districts["district_name"].items()))
                continue
            floors[d_index[d]] = max(0.0, share - scenario.district_shares.tolerance)
    return floors


def _resolve_targets(ds: Dataset, scenario: Scenario, d_index: dict[str, int], bad: BadFn) -> Targets:
    t = scenario.targets
    n = len(ds.communes)
    crit = ds.criteria

    def districts(refs: list[str], key: str) -> tuple[int, ...]:
        out = []
        for ref in refs:
            d = _resolve_district(ds, ref)
            if d is None:
                bad(_key(f"targets.{key}", Text("scenario.unknown_district", district=repr(ref))),
                    expected=", ".join(f"{k} ({v})" for k, v in ds.districts["district_name"].items()))
            else:
                out.append(d_index[d])
        return tuple(out)

    crit_targets: dict[int, int] = {}
    for key, value in t.criterion_communes.items():
        k = crit.match(key)
        if k is None:
            bad(_key(f"targets.criterion_communes.{key}", Text("scenario.unknown_criterion")))
            continue
        count = n if value == "all" else int(value)
        if count > n:
            bad(_key(f"targets.criterion_communes.{key}", Text("scenario.too_many_communes", asked=count, n=n)))
        crit_targets[crit.ids.index(k)] = min(count, n)
    for name in ("communes_ntm", "advanced", "model"):
        value = getattr(t, name)
        if value is not None and value > n:
            bad(_key(f"targets.{name}", Text("scenario.too_many_communes", asked=value, n=n)))
    _refuse_tiers_not_issued(crit, t, bad)
    avg_total = math.ceil(t.avg_criteria * n - 1e-9) if t.avg_criteria is not None else None
    if t.avg_criteria is not None and t.avg_criteria > len(crit):
        bad(_key("targets.avg_criteria", Text("scenario.too_many_criteria", asked=f"{t.avg_criteria}",
                                              n=len(crit))))
    if t.min_criteria is not None and t.min_criteria > len(crit):
        bad(_key("targets.min_criteria", Text("scenario.too_many_criteria", asked=f"{t.min_criteria}",
                                              n=len(crit))))
    return Targets(
        communes_ntm=t.communes_ntm,
        communes_count=t.communes_count,
        advanced=t.advanced,
        model=t.model,
        district_units=districts(t.district_units, "district_units"),
        advanced_districts=districts(t.advanced_districts, "advanced_districts"),
        villages_ntm=t.villages_ntm,
        villages_model=t.villages_model,
        min_criteria=t.min_criteria,
        avg_criteria_total=avg_total,
        avg_criteria=t.avg_criteria,
        criterion_communes=crit_targets,
    )


def _refuse_tiers_not_issued(crit: CriteriaSet, t: ScenarioTargets, bad: BadFn) -> None:
    """Targets on a tier or district tier the criteria set does not issue, each named with the set.

    ``advanced`` needs the set's advanced tier; ``model`` (or ``modern``) its top tier;
    ``district_units`` and ``advanced_districts`` its district tiers ``ntm`` and ``advanced``.
    """
    tiers = ", ".join(f"{x.id} ({x.name_vi})" for x in crit.tiers)
    district_tiers = ", ".join(x.id for x in crit.district_tiers) or "–"
    if t.advanced is not None and crit.advanced_tier is None:
        top = crit.top_tier.label_vi if crit.top_tier is not None else None
        bad(_key("targets.advanced", Text("scenario.no_advanced_tier", set=crit.id)),
            expected=Text("scenario.tier_issued", tiers=tiers) if top is None
            else Text("scenario.tier_issued_top", tiers=tiers, top=top),
            found=str(t.advanced))
    if t.model is not None and crit.top_tier is None:
        bad(_key("targets.model", Text("scenario.no_top_tier", set=crit.id)),
            expected=Text("scenario.tier_issued", tiers=tiers), found=str(t.model))
    for key, values, tier in (("district_units", t.district_units, "ntm"),
                              ("advanced_districts", t.advanced_districts, "advanced")):
        if values and tier not in crit.district_tier_ids:
            bad(_key(f"targets.{key}", Text(f"scenario.no_district_tier.{tier}", set=crit.id)),
                expected=Text("scenario.no_district_target", key=key, tiers=district_tiers),
                found=", ".join(values))


def _resolve_locks(ds: Dataset, scenario: Scenario, communes: list[str], pc: np.ndarray, pk: np.ndarray,
                   years: np.ndarray, bad: BadFn) -> Locks:
    c_index = {c: i for i, c in enumerate(communes)}
    proj_index = {(int(c), int(k)): p for p, (c, k) in enumerate(zip(pc, pk, strict=True))}
    out: dict[str, list] = {"force_commune": [], "forbid_commune": [], "force_project": [],
                            "forbid_project": [], "forbid_commune_year": []}
    for i, lock in enumerate(scenario.locks):
        where = f"locks.{i}"
        code = _resolve_commune(ds, lock.commune)
        if code is None:
            bad(_key(where, Text("scenario.unknown_commune", commune=repr(lock.commune))),
                expected=Text("scenario.unknown_commune.expected"))
            continue
        c = c_index[code]
        if lock.year is not None and lock.year not in set(int(y) for y in years):
            bad(_key(where, Text("scenario.lock_year", year=str(lock.year), first=str(int(years[0])),
                                 last=str(int(years[-1])))))
            continue
        if lock.criterion is None:
            if lock.year is not None:
                out["forbid_commune_year"].append((c, lock.year))
            else:
                out[f"{lock.action}_commune"].append(c)
            continue
        k = ds.criteria.match(lock.criterion)
        if k is None:
            bad(_key(where, Text("scenario.unknown_criterion_named", criterion=repr(lock.criterion))))
            continue
        p = proj_index.get((c, ds.criteria.ids.index(k)))
        if p is None:
            if lock.action == "force":
                bad(_key(where, Text("scenario.already_met", commune=code, criterion=k)))
            continue
        out[f"{lock.action}_project"].append((p, lock.year))
    return Locks(**{k: tuple(v) for k, v in out.items()})


def _committed_projects(scenario: Scenario, communes: list[str], criteria: list[str], pc: np.ndarray,
                        pk: np.ndarray, lead: np.ndarray, problems: list[Problem], file: str) -> np.ndarray:
    """Start years of projects of the earlier plan still under way at ``replan.from_year``."""
    assert scenario.replan is not None
    assert scenario.replan.previous_plan is not None
    folder = Path(scenario.replan.previous_plan)
    if not folder.is_absolute() and scenario.source_file:
        folder = Path(scenario.source_file).parent / folder
    path = folder / "projects.csv"
    committed = np.full(len(pc), -1, dtype=int)
    if not path.exists():
        problems.append(Problem(file, _key("replan.previous_plan", Text("scenario.not_found", path=str(path))),
                                expected=Text("runs.solve_folder")))
        return committed
    prev = pd.read_csv(path, dtype={"commune_code": str})
    prev = prev[prev["kind"] == "criterion"]
    index = {(communes[int(c)], criteria[int(k)]): p for p, (c, k) in enumerate(zip(pc, pk, strict=True))}
    start = scenario.replan.from_year
    for _, r in prev.iterrows():
        p = index.get((normalise_code(r["commune_code"]), str(r["criterion"])))
        if p is None:
            continue  # met by now (or not in this dataset): nothing to carry
        s = int(r["start_year"])
        if s < start <= s + int(lead[pk[p]]) - 1:
            committed[p] = s
    return committed


GAP_SOURCE = "von_con_thieu"
GAP_SOURCE_NAME = "Vốn còn thiếu (chưa có nguồn)"


def with_gap_source(inst: Instance) -> Instance:
    """Add a virtual source, eligible for everything, that pays what the envelopes cannot.

    Min-cost plans use it: the money it provides is the funding gap. Its yearly amount
    is bounded by everything the plan could possibly cost, which keeps the model finite.
    """
    if inst.gap_source is not None:
        return inst
    bound = (float(inst.proj_cost.sum() + inst.adv_cost.sum() + inst.model_cost.sum()
                   + inst.district_cost.sum() + inst.district_adv_cost.sum()
                   + (inst.villages * (inst.village_ntm_cost + inst.village_model_cost)).sum()) + 1.0)
    f = len(inst.sources)
    budget = np.vstack([inst.budget, np.full((1, inst.n_years), bound)])
    # the gap source may pay anything, anywhere
    classes = [tuple(cls) + (f,) for cls in inst.classes]
    return replace(inst, sources=[*inst.sources, GAP_SOURCE], budget=budget, classes=classes, gap_source=f)


def with_gap_funded(inst: Instance, gap_by_year: np.ndarray) -> Instance:
    """The instance with the gap source's envelope set to ``gap_by_year``.

    Use it to evaluate a min-cost plan as if the committee raised exactly the funding gap
    the plan asks for: no more money than that is there when costs overrun.
    """
    inst = with_gap_source(inst)
    gap = np.asarray(gap_by_year, dtype=float)
    if gap.shape != (inst.n_years,) or (gap < 0).any():
        raise ValueError(f"gap_by_year must be {inst.n_years} non-negative amounts, got {gap!r}")
    budget = inst.budget.copy()
    budget[inst.gap_source] = gap
    return replace(inst, budget=budget)

