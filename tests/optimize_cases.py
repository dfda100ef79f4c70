"""Small random planning instances and an independent exhaustive solver for them.

The exhaustive solver shares nothing with ``ntm_sim.optimize`` or ``ntm_sim.model.plan``: it
enumerates every schedule, computes outcomes from the rules as stated in DESIGN.md, and
checks money with its own linear program (scipy), so that a bug in the model, in the
dominance cuts or in the evaluation shows up as a disagreement.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from ntm_sim.data.criteria import CriteriaSet, load_criteria_set
from ntm_sim.data.dataset import Dataset, make_dataset
from ntm_sim.model.scenario import Scenario

CRIT = load_criteria_set()
INFRA = [c.id for c in CRIT.criteria if c.kind == "infrastructure"]
DEV = [c.id for c in CRIT.criteria if c.kind == "development"]


@dataclass
class Case:
    """A small dataset, a scenario, and the raw facts the brute force reads."""

    ds: Dataset
    scenario: Scenario
    years: list[int]
    projects: list[tuple[str, str, float, int]]   # commune, criterion, cost, lead
    adv_cost: dict[str, float]
    model_cost: dict[str, float]
    base_ntm: dict[str, bool]
    district_cost: float
    district_adv_cost: float
    district_recognised: bool
    sources: list[str]
    eligible: dict[str, set[str]]                 # source -> criteria it may pay
    upgrade_sources: list[str]
    budget: dict[str, list[float]]


def make_case(seed: int, *, n_communes: int = 3, n_years: int = 2, tiers: bool = True,
              carry_over: bool = True, absorption: float | None = None, mode: str = "max-achievement",
              enforce: tuple[str, ...] = (), budget_scale: float = 1.0, crit: CriteriaSet = CRIT,
              order: list[str] | None = None) -> Case:
    """A random instance small enough to enumerate.

    ``crit``: a variant of Decision 318 (its district rules; the same criteria); ``order``: the
    objective stages (default: every stage, or none on tiers and districts when ``tiers`` is False).
    """
    rng = np.random.default_rng(seed)
    codes = [str(100 + i) for i in range(n_communes)]
    status = pd.DataFrame(True, index=codes, columns=CRIT.ids)
    cost = pd.DataFrame(np.nan, index=codes, columns=CRIT.ids)
    base_ntm = {}
    for i, c in enumerate(codes):
        n_missing = 0 if i == 0 else int(rng.integers(1, 3))
        missing = rng.choice(INFRA[:3] + DEV[:2], size=n_missing, replace=False)
        for k in missing:
            status.loc[c, k] = False
            cost.loc[c, k] = float(rng.integers(1, 10) * 10)
        base_ntm[c] = n_missing == 0
    lead_2 = {INFRA[0]: 2} if n_years >= 2 else {}
    years = list(range(2021, 2021 + n_years))
    communes = pd.DataFrame({
        "commune_name": [f"Xã {c}" for c in codes], "district_code": "9", "district_name": "Huyện Thử",
        "advanced_cost_mvnd": [float(rng.integers(1, 6) * 10) for _ in codes],
        "model_cost_mvnd": [float(rng.integers(1, 6) * 10) for _ in codes],
        "villages": 0, "villages_ntm": 0, "villages_model": 0,
    }, index=codes)
    recognised = bool(rng.integers(0, 2))
    districts = pd.DataFrame({"district_name": ["Huyện Thử"], "ntm": [recognised], "advanced": [False],
                              "district_cost_mvnd": [0.0 if recognised else 30.0],
                              "district_advanced_cost_mvnd": [40.0]}, index=["9"])
    sources = pd.DataFrame({"name_vi": ["Hạ tầng", "Tỉnh"], "name_en": ["infra", "province"],
                            "eligible": ["Hạ tầng", "Tất cả"]}, index=pd.Index(["a", "b"], name="source_id"))
    env = pd.DataFrame({y: [float(rng.integers(0, 8) * 10), float(rng.integers(1, 8) * 10)] for y in years},
                       index=sources.index)
    ds = make_dataset(crit, communes, status, cost, districts=districts, sources=sources, envelopes=env,
                      file="case")
    objective_order = ["communes_ntm", "district_units", "tiers", "criteria_met", "earliness", "cost"]
    if not tiers:
        objective_order = ["communes_ntm", "criteria_met", "earliness", "cost"]
    objective_order = order or objective_order
    targets = {"advanced": 1, "min_criteria": 18, "criterion_communes": {INFRA[0]: n_communes}}
    if mode == "min-cost":
        targets = {"communes_ntm": int(rng.integers(1, n_communes + 1)), "min_criteria": 18}
        if tiers:
            targets["advanced"] = 1
    scenario = Scenario.model_validate({
        "name": f"case{seed}", "years": (years[0], years[-1]), "mode": mode,
        "budget": {"scale": budget_scale, "carry_over": carry_over, "absorption_limit_mvnd": absorption},
        "lead_times": lead_2,
        "targets": targets,
        "enforce": list(enforce),
        "objective": {"order": objective_order},
        "solver": {"time_limit_s": 120, "mip_gap": 0.0, "tiebreak_gap": 0.0, "node_limit": None,
                   "tiebreak_node_limit": None, "fix_completion": False},
    })
    # a project whose yearly share exceeds the absorption limit is built over more years
    projects = [(c, k, float(cost.loc[c, k]),
                 max(lead_2.get(k, CRIT[k].lead_time_years),
                     math.ceil(float(cost.loc[c, k]) / absorption - 1e-9) if absorption else 1))
                for c in codes for k in CRIT.ids if not status.loc[c, k]]
    eligible = {"a": set(INFRA), "b": set(CRIT.ids)}
    budget = {s: [float(env.loc[s, y]) * budget_scale for y in years] for s in ("a", "b")}
    return Case(ds, scenario, years, projects, dict(zip(codes, communes["advanced_cost_mvnd"], strict=True)),
                dict(zip(codes, communes["model_cost_mvnd"], strict=True)), base_ntm,
                float(districts["district_cost_mvnd"].iloc[0]), 40.0, recognised, ["a", "b"], eligible,
                ["b"], budget)


# ----- exhaustive solver -------------------------------------------------------------------------

_MEMO: dict = {}


def _money_ok(case: Case, needs: dict[tuple[frozenset, int], float], carry: bool,
              gap_allowed: bool = False) -> tuple[bool, float]:
    """Can the needs (eligible-source set, year) → amount be paid? Returns (ok, least gap money)."""
    keys = sorted((k for k, v in needs.items() if v > 1e-9), key=lambda k: (sorted(k[0]), k[1]))
    if not keys:
        return True, 0.0
    memo_key = (id(case), carry, gap_allowed, tuple((tuple(sorted(k[0])), k[1], round(needs[k], 6)) for k in keys))
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    if not gap_allowed:
        # necessary condition first: all money together, year by year
        n_t = len(case.years)
        total = np.zeros(n_t)
        for (_, t), v in needs.items():
            total[t] += v
        avail = np.array([sum(case.budget[f][t] for f in case.sources) for t in range(n_t)])
        if (np.cumsum(total) > np.cumsum(avail) + 1e-7).any() or (not carry and (total > avail + 1e-7).any()):
            _MEMO[memo_key] = (False, math.inf)
            return _MEMO[memo_key]
        # exact without an LP (a transportation problem: Gale's supply-demand theorem); the LP is kept for the gap
        _MEMO[memo_key] = (True, 0.0) if _money_hall(case, keys, needs, carry) else (False, math.inf)
        return _MEMO[memo_key]
    _MEMO[memo_key] = _money_lp(case, keys, needs, carry, gap_allowed)
    return _MEMO[memo_key]


def _money_hall(case: Case, keys: list, needs: dict, carry: bool) -> bool:
    """Every set of needs fits in the money its sources could give (a year's money pays that year or later).

    By Gale's theorem this is exactly when all the needs can be paid at once; it checks every subset of
    (eligible sources, year) needs, at most 2**9 here.
    """
    for mask in range(1, 2 ** len(keys)):
        chosen = [k for i, k in enumerate(keys) if mask >> i & 1]
        demand = sum(needs[k] for k in chosen)
        money = {(f, t) for sources, year in chosen for f in sources
                 for t in (range(year + 1) if carry else (year,))}
        if demand > sum(case.budget[f][t] for f, t in money) + 1e-7:
            return False
    return True


def _money_lp(case: Case, keys: list, needs: dict, carry: bool, gap_allowed: bool) -> tuple[bool, float]:
    n_t = len(case.years)
    var = []  # (source or None for gap, key)
    for key in keys:
        for f in key[0]:
            var.append((f, key))
        if gap_allowed:
            var.append((None, key))
    c = np.array([1.0 if f is None else 0.0 for f, _ in var])
    a_eq = np.zeros((len(keys), len(var)))
    b_eq = np.array([needs[k] for k in keys])
    for j, (_, key) in enumerate(var):
        a_eq[keys.index(key), j] = 1.0
    rows, rhs = [], []
    for f in case.sources:
        for t in range(n_t):
            row = np.zeros(len(var))
            for j, (g, key) in enumerate(var):
                if g == f and (key[1] <= t if carry else key[1] == t):
                    row[j] = 1.0
            rows.append(row)
            rhs.append(sum(case.budget[f][: t + 1]) if carry else case.budget[f][t])
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                  method="highs")
    return res.status == 0, (float(res.fun) if res.status == 0 else math.inf)


def tier_lead(case: Case, cost: float) -> int:
    """Years of a tier upgrade: one, or more when a year's share would exceed the absorption limit."""
    absorption = case.scenario.budget.absorption_limit_mvnd
    return max(1, math.ceil(cost / absorption - 1e-9)) if absorption else 1


def _tier_spend(case: Case, needs: dict, per_commune: dict, c: str, start: int, cost: float) -> None:
    """Add a tier upgrade of commune ``c`` started in ``start`` (its cost spread evenly over its years)."""
    lead = tier_lead(case, cost)
    up = frozenset(case.upgrade_sources)
    for y in range(start, start + lead):
        t = case.years.index(y)
        needs[(up, t)] = needs.get((up, t), 0.0) + cost / lead
        per_commune[(c, t)] = per_commune.get((c, t), 0.0) + cost / lead


def brute_force(case: Case) -> dict:
    """Enumerate every plan; return the best objective vector and its figures."""
    sc = case.scenario
    years = case.years
    end = years[-1]
    codes = list(case.base_ntm)
    carry = sc.budget.carry_over
    absorption = sc.budget.absorption_limit_mvnd
    mode = sc.mode
    # a district stage may buy the units and the tier upgrades they need; a tier stage the upgrades
    use_districts = "district_units" in sc.objective.order or mode == "min-cost"
    use_tiers = "tiers" in sc.objective.order or use_districts
    enforced = set(sc.targets.named()) if mode == "min-cost" else set(sc.enforce)
    proj_opts = [[-1] + [s for s in years if s + lead - 1 <= end] for _, _, _, lead in case.projects]
    tier_opts = [-1] + years if use_tiers else [-1]
    district_opts = ([-1] + years) if use_districts else [-1]
    n_c = len(codes)
    # the district rules of the case's criteria set: communes advanced (and model) each unit needs
    rules = {r.id: r for r in case.ds.criteria.district_tiers}
    need_adv = math.ceil(rules["ntm"].min_share_communes_advanced * n_c - 1e-9)
    need_adv2 = math.ceil(rules["advanced"].min_share_communes_advanced * n_c - 1e-9)
    need_model2 = math.ceil(rules["advanced"].min_share_communes_model * n_c - 1e-9)
    t = sc.targets
    base_met = {c: 19 - sum(1 for (cc, _, _, _) in case.projects if cc == c) for c in codes}
    total_money = sum(sum(case.budget[f]) for f in case.sources)
    scored = []
    # what depends on the projects' start years only is computed once per schedule
    for starts in itertools.product(*proj_opts):
        done = {}
        for (c, k, _, lead), s in zip(case.projects, starts, strict=True):
            done[(c, k)] = s + lead - 1 if s >= 0 else math.inf
        year_ntm = {c: max([done[(cc, k)] for (cc, k, _, _) in case.projects if cc == c], default=years[0] - 1)
                    for c in codes}
        ntm_list = [c for c in codes if year_ntm[c] <= end]
        ntm_end = len(ntm_list)
        met = dict(base_met)
        for (c, _, _, _), s in zip(case.projects, starts, strict=True):
            if s >= 0:
                met[c] += 1
        criteria = sum(1 for s in starts if s >= 0)
        earliness = sum(1 for c in codes if not case.base_ntm[c] for y in years if year_ntm[c] <= y)
        project_cost = sum(a for (_, _, a, _), s in zip(case.projects, starts, strict=True) if s >= 0)
        short0 = 0.0
        if "communes_ntm" in enforced and t.communes_ntm is not None:
            short0 += max(0, t.communes_ntm - ntm_end) / max(t.communes_ntm, 1)
        if "min_criteria" in enforced and t.min_criteria is not None:
            short0 += sum(max(0, t.min_criteria - met[c]) / t.min_criteria for c in codes
                          if base_met[c] < t.min_criteria)
        if "criterion_communes" in enforced:
            for k, need in t.criterion_communes.items():
                have = sum(1 for c in codes if (c, k) not in {(cc, kk) for cc, kk, _, _ in case.projects})
                have += sum(1 for (c, kk, _, _), s in zip(case.projects, starts, strict=True) if kk == k and s >= 0)
                need = len(codes) if need == "all" else need
                short0 += max(0, need - have) / max(need, 1)
        # an upgrade finishes within the horizon, no earlier than the commune reaches NTM (a tier takes a
        # year, or more when a year's share would exceed the absorption limit)
        adv_end = {c: tier_lead(case, case.adv_cost[c]) - 1 for c in codes}
        mod_end = {c: tier_lead(case, case.model_cost[c]) - 1 for c in codes}
        adv_choices = [[a for a in tier_opts if a < 0 or year_ntm[c] <= a + adv_end[c] <= end]
                       if c in ntm_list else [-1] for c in codes]
        for adv in itertools.product(*adv_choices):
            n_adv = sum(1 for a in adv if a >= 0)
            adv_cost = sum(case.adv_cost[c] for c, a in zip(codes, adv, strict=True) if a >= 0)
            short1 = short0
            if "advanced" in enforced and t.advanced is not None:
                short1 += max(0, t.advanced - n_adv) / max(t.advanced, 1)
            # … and the model upgrade no earlier than the advanced one (tiers nest in time too)
            model_choices = [[m_ for m_ in tier_opts
                              if m_ < 0 or adv[i] + adv_end[codes[i]] <= m_ + mod_end[codes[i]] <= end]
                             if adv[i] >= 0 else [-1] for i in range(len(codes))]
            for mod in itertools.product(*model_choices):
                n_mod = sum(1 for m_ in mod if m_ >= 0)
                mod_cost = sum(case.model_cost[c] for c, m_ in zip(codes, mod, strict=True) if m_ >= 0)
                for dx in (district_opts if not case.district_recognised else [-1]):
                    # a recognised unit is kept (its communes, recognised when met, are never revoked on
                    # paper here); a new one needs every commune NTM, the set's share advanced and its district
                    # criteria
                    unit = case.district_recognised or (ntm_end == n_c and n_adv >= need_adv and dx >= 0)
                    if dx >= 0 and not unit:
                        continue  # the model pays for district criteria only when the unit is recognised
                    for dax in district_opts:
                        adv_d = (unit and n_adv >= need_adv2 and n_mod >= need_model2 and dax >= 0)
                        if dax >= 0 and not adv_d:
                            continue
                        cost = project_cost + adv_cost + mod_cost
                        cost += (case.district_cost if dx >= 0 else 0) + (case.district_adv_cost if dax >= 0 else 0)
                        if mode != "min-cost" and cost > total_money + 1e-6:
                            continue  # more than all the money there is: it cannot be paid
                        values = {"communes_ntm": ntm_end, "district_units": int(unit) + int(adv_d),
                                  "tiers": n_adv + n_mod, "criteria_met": criteria, "earliness": earliness,
                                  "cost": cost}
                        if mode == "min-cost":
                            key = (-short1, -cost)
                        else:
                            key = (-short1,) + tuple(values[s] if s != "cost" else -values[s]
                                                     for s in sc.objective.order)
                        scored.append((key, starts, adv, mod, dx, dax, values, short1))
    scored.sort(key=lambda r: r[0], reverse=True)
    for key, starts, adv, mod, dx, dax, values, short in scored:
        needs: dict[tuple[frozenset, int], float] = {}
        per_commune = {}
        for (c, k, a, lead), s in zip(case.projects, starts, strict=True):
            if s < 0:
                continue
            elig = frozenset(f for f in case.sources if k in case.eligible[f])
            for y in range(s, s + lead):
                t = years.index(y)
                needs[(elig, t)] = needs.get((elig, t), 0.0) + a / lead
                per_commune[(c, t)] = per_commune.get((c, t), 0.0) + a / lead
        up = frozenset(case.upgrade_sources)
        for c, a, m_ in zip(codes, adv, mod, strict=True):
            for s, amount in ((a, case.adv_cost[c]), (m_, case.model_cost[c])):
                if s >= 0:
                    _tier_spend(case, needs, per_commune, c, s, amount)
        for s, amount in ((dx, case.district_cost), (dax, case.district_adv_cost)):
            if s >= 0:
                needs[(up, years.index(s))] = needs.get((up, years.index(s)), 0.0) + amount
        if absorption is not None and any(v > absorption + 1e-9 for v in per_commune.values()):
            continue
        ok, gap = _money_ok(case, needs, carry, gap_allowed=(mode == "min-cost"))
        if ok:
            if mode == "min-cost":
                # among plans of this least cost, the least money beyond the envelopes
                best_gap = gap
                for key2, starts2, adv2, mod2, dx2, dax2, _, _ in scored:
                    if key2 != key:
                        continue
                    best_gap = min(best_gap, _gap_of(case, starts2, adv2, mod2, dx2, dax2, absorption))
                return {"key": key, "values": values, "shortfall": short, "gap": best_gap}
            return {"key": key, "values": values, "shortfall": short}
    raise AssertionError("no feasible plan at all (the empty plan always is)")


def _gap_of(case: Case, starts, adv, mod, dx, dax, absorption) -> float:  # noqa: ANN001
    years = case.years
    codes = list(case.base_ntm)
    needs: dict[tuple[frozenset, int], float] = {}
    per_commune: dict[tuple[str, int], float] = {}
    for (c, k, a, lead), s in zip(case.projects, starts, strict=True):
        if s < 0:
            continue
        elig = frozenset(f for f in case.sources if k in case.eligible[f])
        for y in range(s, s + lead):
            t = years.index(y)
            needs[(elig, t)] = needs.get((elig, t), 0.0) + a / lead
            per_commune[(c, t)] = per_commune.get((c, t), 0.0) + a / lead
    up = frozenset(case.upgrade_sources)
    for c, a, m_ in zip(codes, adv, mod, strict=True):
        for s, amount in ((a, case.adv_cost[c]), (m_, case.model_cost[c])):
            if s >= 0:
                _tier_spend(case, needs, per_commune, c, s, amount)
    for s, amount in ((dx, case.district_cost), (dax, case.district_adv_cost)):
        if s >= 0:
            needs[(up, years.index(s))] = needs.get((up, years.index(s)), 0.0) + amount
    if absorption is not None and any(v > absorption + 1e-9 for v in per_commune.values()):
        return math.inf
    return _money_ok(case, needs, case.scenario.budget.carry_over, gap_allowed=True)[1]


def spread_case(*, carry_over: bool, absorption: float | None, budget_b: tuple[float, float]) -> Case:
    """One commune missing two one-year criteria of 50 each; money only from source b.

    Finishing it needs one criterion funded in each year (when money cannot be carried,
    or when the commune cannot absorb both in one year): a rule that moves all projects
    to the commune's completion year would lose it.
    """
    case = make_case(0, n_communes=2, n_years=2, tiers=False, carry_over=carry_over, absorption=absorption)
    code = "101"
    status = case.ds.status.copy()
    status.loc[code] = True
    one_year = [k for k in DEV if CRIT[k].lead_time_years == 1][:2]
    status.loc[code, one_year] = False
    cost = case.ds.cost.copy() * np.nan
    cost.loc[code, one_year] = 50.0
    env = case.ds.envelopes.copy()
    env.loc["a"] = 0.0
    env.loc["b"] = list(budget_b)
    ds = make_dataset(CRIT, case.ds.communes, status, cost, districts=case.ds.districts,
                      sources=case.ds.sources, envelopes=env, file="spread")
    case.ds = ds
    case.scenario = case.scenario.with_(targets={}, enforce=[])
    case.projects = [(code, k, 50.0, 1) for k in one_year]
    case.base_ntm = {"100": True, code: False}
    case.budget = {"a": [0.0, 0.0], "b": list(budget_b)}
    return case


def unit_without_advanced() -> CriteriaSet:
    """Decision 318 with a district unit that needs no advanced commune (the advanced district still needs 40%)."""
    unit, advanced = CRIT.district_tiers
    return CRIT.model_copy(update={"id": "qd318-unit-without-advanced", "district_tiers": (
        unit.model_copy(update={"min_share_communes_advanced": 0.0}), advanced)})
