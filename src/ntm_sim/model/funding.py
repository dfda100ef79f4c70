"""Money in the instance.

Each source's envelopes over the horizon, the reserve for upkeep, the budget levers, which
communes and criteria a source may pay for (the gap source of min-cost plans: :mod:`ntm_sim.model.funding_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ntm_sim.data.checks import eligibility_from_rule
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.dataset import Dataset, normalise_code
from ntm_sim.data.io.schema import SHEET_SOURCES
from ntm_sim.errors import Text
from ntm_sim.model.scenario import BadFn, Scenario, key_problem
from ntm_sim.text import norm_key


@dataclass(frozen=True)
class _Funding:
    """The money of a scenario: sources, their envelopes and what they may pay for."""

    sources: list[str]
    budget: np.ndarray                  # (n_f, n_t) million VND
    eligible: np.ndarray                # bool (n_f, n_k): source may pay for criterion
    upgrade: np.ndarray                 # bool (n_f,): source may pay tiers, villages, districts


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
            bad(key_problem("budget.extra_sources", Text("scenario.source_exists", source=repr(extra.id))))
            continue
        try:
            eligibility.loc[extra.id] = eligibility_from_rule(crit, extra.eligible)
        except ValueError as exc:
            bad(key_problem(f"budget.extra_sources.{extra.id}.eligible", exc.args[0] if exc.args else str(exc)))
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
            bad(key_problem("budget.source_scale", Text("scenario.unknown_source", source=repr(sid))),
                expected=", ".join(sources))
            continue
        env.loc[sid] *= scale
    for year, scale in scenario.budget.year_scale.items():
        if int(year) not in env.columns:
            bad(key_problem("budget.year_scale", Text("scenario.year_outside", year=str(year))),
                expected=", ".join(str(y) for y in env.columns))
            continue
        env[int(year)] *= scale
    for sid, by_year in scenario.budget.envelopes.items():
        if sid not in sources:
            bad(key_problem("budget.envelopes", Text("scenario.unknown_source", source=repr(sid))),
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
            bad(key_problem("budget.upgrade_sources", Text("scenario.unknown_sources", sources=str(unknown))),
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
