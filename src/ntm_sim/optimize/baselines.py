"""Baseline rules, computed beside every optimum so that the gain is visible.

* ``planners_rule``: year by year, complete the communes with the fewest missing
  criteria first, within the money left (how provinces plan today).
* ``cheapest_first``: the same, ranking communes by the money still needed.
* ``d07_shareout``: what a province applying Decision 07/2022 does. The *central
  programme money* (sources whose id starts with ``nstw``) is shared out to communes
  every year with the coefficients of their group (below 15 criteria 5.0, 15–18 3.0,
  NTM 1.0), especially difficult communes left out where the criteria set says so
  (they are funded through other channels); each commune funds its missing criteria
  cheapest first as its share accumulates. The province's other money (its own
  budgets, folded-in programmes, people's contributions) follows the planners' rule.

When the scenario enforces targets (villages, floor, criterion counts, tiers, district
units), the two ranking rules first fund them greedily, cheapest first, as planners
would, so that they are compared with the optimum on the same terms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ntm_sim.messages import Catalogue
from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import BudgetLedger
from ntm_sim.model.plan import RECOMMENDED, Decisions
from ntm_sim.model.targets import enforced_names

BASELINES = ("planners_rule", "cheapest_first", "d07_shareout")
#: The plans' Vietnamese names (``plan.*`` of the catalogue): the rules, the recommended plan, the optimum on paper
NAMES_VI = {name: Catalogue("vi")(f"plan.{name}") for name in (*BASELINES, RECOMMENDED, "deterministic")}


class _Greedy:
    """Shared state of a greedy plan: decisions, money ledger, absorption, order."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.dec = Decisions.empty(inst)
        self.ledger = BudgetLedger(inst)
        self.flows = np.zeros((len(inst.sources), len(inst.classes), inst.n_years))
        self.absorbed = np.zeros((inst.n_communes, inst.n_years))
        self.order: list[int] = []
        self.projects_of = inst.projects_of
        forbidden = inst.locks.forbidden
        self.forbidden_c, self.forbidden_p = forbidden.communes, forbidden.projects
        self.forbidden_py, self.forbidden_cy = forbidden.project_years, forbidden.commune_years
        # start years allowed per project (Instance.start_years as a window, for speed)
        started = inst.proj_committed_start
        self.first_start = np.where(started >= 0, started, int(inst.years[0]))
        self.last_start = np.where(started >= 0, started, inst.horizon_end - inst.proj_lead + 1)
        # projects already under way (re-planning) are paid first
        committed = np.flatnonzero(inst.proj_committed_start >= 0)
        for p in committed:
            s = int(inst.proj_committed_start[p])
            self._pay(self._project_needs(p, s), int(inst.proj_commune[p]))
            self.order.append(int(p))

    # ----- needs and payment -----------------------------------------------------------
    def _project_needs(self, p: int, start: int) -> list[tuple[int, int, float]]:
        inst = self.inst
        lead = int(inst.proj_lead[p])
        t0 = start - int(inst.years[0])  # the spend years of Instance.spend_years, as indices
        amount = inst.proj_cost[p] / lead
        g = int(inst.proj_class[p])
        return [(g, t, amount) for t in range(max(t0, 0), min(t0 + lead, inst.n_years))]

    def _fits(self, needs: list[tuple[int, int, float]], commune: int | None) -> bool:
        if commune is not None and self.inst.absorption is not None:
            extra = np.zeros(self.inst.n_years)
            for _, t, amount in needs:
                extra[t] += amount
            if (self.absorbed[commune] + extra > self.inst.absorption + 1e-6).any():
                return False
        return self.ledger.can_pay(needs)

    def _pay(self, needs: list[tuple[int, int, float]], commune: int | None) -> None:
        for g, t, amount in needs:
            self.flows[:, g, t] += self.ledger.pay(g, t, amount)
            if commune is not None:
                self.absorbed[commune, t] += amount

    def project_allowed(self, p: int, year: int) -> bool:
        """Whether project ``p`` may start in ``year`` (horizon, locks)."""
        c = int(self.inst.proj_commune[p])
        return (self.first_start[p] <= year <= self.last_start[p] and p not in self.forbidden_p
                and (p, year) not in self.forbidden_py and c not in self.forbidden_c
                and (c, year) not in self.forbidden_cy)

    def fund_projects(self, ps: list[int], year: int) -> bool:
        """Fund projects together, all starting in ``year``, if money and rules allow."""
        ps = [p for p in ps if self.dec.proj_start[p] < 0]
        if not ps:
            return True
        if not all(self.project_allowed(p, year) for p in ps):
            return False
        needs = [n for p in ps for n in self._project_needs(p, year)]
        commune = int(self.inst.proj_commune[ps[0]])
        if not self._fits(needs, commune):
            return False
        self._pay(needs, commune)
        for p in ps:
            self.dec.proj_start[p] = year
            self.order.append(p)
        return True

    def ntm_year(self, c: int) -> int:
        """The year commune ``c`` meets every criterion in the plan so far (a large year if never)."""
        ps = self.projects_of[c]
        if not len(ps):
            return int(self.inst.years[0]) - 1
        starts = self.dec.proj_start[ps]
        if (starts < 0).any():
            return 10**6
        return int((starts + self.inst.proj_lead[ps] - 1).max())

    def remaining(self, c: int) -> list[int]:
        """Unfunded projects of commune ``c``."""
        return [int(p) for p in self.projects_of[c] if self.dec.proj_start[p] < 0]

    def ntm_at_end(self, c: int) -> bool:
        """Whether commune ``c`` meets every criterion at the horizon in the plan so far."""
        return not self.remaining(c)

    def complete(self, c: int, years: list[int] | None = None) -> bool:
        """Fund every remaining project of commune ``c`` in the earliest year that fits."""
        if c in self.forbidden_c:
            return False
        for year in years if years is not None else [int(y) for y in self.inst.years]:
            if self.fund_projects(self.remaining(c), year):
                return True
        return False

    def tier_done_year(self, c: int) -> int:
        """The year commune ``c`` has the tier the top tier requires: its advanced upgrade's end, or NTM."""
        inst = self.inst
        if not inst.has_advanced_tier or inst.base_adv[c]:
            return self.ntm_year(c)
        start = self.dec.adv_start[c]
        return int(start + inst.adv_lead[c] - 1) if start >= 0 else 10**6

    def fund_upgrade(self, kind: str, index: int) -> bool:
        """Fund a tier upgrade (commune: ``advanced``, ``model``) or a district project, earliest year.

        A tier the criteria set does not issue, or a district tier it does not recognise,
        is never funded. An upgrade takes its lead time stretched to the absorption limit,
        and finishes no earlier than the commune reaches NTM (the top tier: no earlier
        than the advanced upgrade).
        """
        inst = self.inst
        if kind in ("advanced", "model"):
            if not (inst.has_advanced_tier if kind == "advanced" else inst.has_model_tier):
                return False
            starts = self.dec.adv_start if kind == "advanced" else self.dec.model_start
            cost = (inst.adv_cost if kind == "advanced" else inst.model_cost)[index]
            lead = int((inst.adv_lead if kind == "advanced" else inst.model_lead)[index])
            if starts[index] >= 0 or index in self.forbidden_c:
                return starts[index] >= 0
            ready = self.ntm_year(index) if kind == "advanced" else max(self.ntm_year(index),
                                                                         self.tier_done_year(index))
            for y in inst.years:
                if y + lead - 1 > inst.horizon_end:
                    break
                if y + lead - 1 < ready:
                    continue  # an upgrade finishes no earlier than the tier it requires
                needs = [(int(inst.commune_upgrade_class[index]), inst.year_index(s), cost / lead)
                         for s in inst.spend_years(int(y), lead)]
                if self._fits(needs, index):
                    self._pay(needs, index)
                    starts[index] = int(y)
                    return True
            return False
        if not (inst.has_district_units if kind == "district" else inst.has_advanced_districts):
            return False
        starts = self.dec.district_start if kind == "district" else self.dec.district_adv_start
        cost = (inst.district_cost if kind == "district" else inst.district_adv_cost)[index]
        if starts[index] >= 0:
            return True
        for t, y in enumerate(inst.years):
            needs = [(int(inst.district_upgrade_class[index]), t, float(cost))]
            if self._fits(needs, None):
                self._pay(needs, None)
                starts[index] = int(y)
                return True
        return False

    def has_model_prerequisite(self, c: int) -> bool:
        """Whether commune ``c`` has, in the plan so far, the tier the top tier requires (advanced, or NTM)."""
        if not self.inst.has_advanced_tier:
            return self.ntm_at_end(c)
        return bool(self.dec.adv_start[c] >= 0 or self.inst.base_adv[c])

    def fund_villages(self, kind: str, target: int) -> None:
        """Fund new NTM (or model) villages, cheapest communes first, up to ``target``."""
        inst = self.inst
        counts = self.dec.village_ntm if kind == "ntm" else self.dec.village_model
        unit = inst.village_ntm_cost if kind == "ntm" else inst.village_model_cost
        done = int(counts.sum())
        for c in np.argsort(unit, kind="stable"):
            if c in self.forbidden_c:
                continue
            for t in range(inst.n_years):
                while done < target:
                    if kind == "ntm":
                        room = inst.villages[c] - inst.villages_ntm[c] - self.dec.village_ntm[c].sum()
                    else:
                        ntm_by_t = inst.villages_ntm[c] + self.dec.village_ntm[c, : t + 1].sum()
                        room = ntm_by_t - inst.villages_model[c] - self.dec.village_model[c].sum()
                    if room <= 0:
                        break
                    needs = [(int(inst.commune_upgrade_class[c]), t, float(unit[c]))]
                    if not self._fits(needs, int(c)):
                        break
                    self._pay(needs, int(c))
                    counts[c, t] += 1
                    done += 1
            if done >= target:
                return

    def met_end(self) -> np.ndarray:
        """Criteria met per commune at the horizon in the plan so far."""
        met = self.inst.base_criteria_met.copy()
        np.add.at(met, self.inst.proj_commune, (self.dec.proj_start >= 0).astype(int))
        return met

    def cheapest_projects_first(self, ps: list[int]) -> list[int]:
        """Sort projects by cost."""
        return sorted(ps, key=lambda p: (self.inst.proj_cost[p], p))

    def fund_single(self, p: int) -> bool:
        """Fund one project in the earliest year that fits."""
        return any(self.fund_projects([p], int(y)) for y in self.inst.years)

    def finish(self, name: str) -> Decisions:
        """Freeze flows and priority into the decisions."""
        dec = self.dec
        dec.flows = self.flows
        prio = np.full(self.inst.n_projects, float(self.inst.n_projects))
        for rank, p in enumerate(dict.fromkeys(self.order)):
            prio[p] = rank
        dec.priority = prio
        return dec


def _enforced_targets_first(g: _Greedy) -> None:
    """Fund the enforced targets greedily, cheapest first (as planners would)."""
    inst = g.inst
    enforced = enforced_names(inst.scenario)
    t = inst.targets
    for c in inst.locks.force_commune:
        g.complete(c)
    for p, year in inst.locks.force_project:
        g.fund_projects([p], year) if year is not None else g.fund_single(p)
    if "min_criteria" in enforced and t.min_criteria is not None:
        met = g.met_end()
        for c in np.argsort(met, kind="stable"):
            met_c = int(met[c])  # counted as we go: only this commune's projects change it
            for p in g.cheapest_projects_first(g.remaining(int(c))):
                if met_c >= t.min_criteria:
                    break
                met_c += int(g.fund_single(p))
    if "criterion_communes" in enforced:
        for k, need in t.criterion_communes.items():
            ps = np.flatnonzero(inst.proj_criterion == k).tolist()
            have = int(inst.base_met[:, k].sum()) + sum(1 for p in ps if g.dec.proj_start[p] >= 0)
            for p in g.cheapest_projects_first(ps):
                if have >= need:
                    break
                if g.dec.proj_start[p] < 0 and g.fund_single(p):
                    have += 1
    if "district_units" in enforced or "advanced_districts" in enforced:
        _district_units(g, set(t.district_units) | set(t.advanced_districts))
    if "advanced" in enforced and t.advanced is not None:
        _tiers(g, "advanced", t.advanced)
    if "model" in enforced and t.model is not None:
        _tiers(g, "model", t.model)
    if "villages_ntm" in enforced and t.villages_ntm is not None:
        g.fund_villages("ntm", t.villages_ntm)
    if "villages_model" in enforced and t.villages_model is not None:
        g.fund_villages("model", t.villages_model)
    if "avg_criteria" in enforced and t.avg_criteria_total is not None:
        open_ps = np.flatnonzero(g.dec.proj_start < 0).tolist()
        total = int(g.met_end().sum())  # counted as we go: each project funded adds one
        for p in g.cheapest_projects_first(open_ps):
            if total >= t.avg_criteria_total:
                break
            total += int(g.fund_single(p))


def _district_units(g: _Greedy, wanted: set[int]) -> None:
    """Each wanted district unit: its communes completed cheapest first, then the tiers and the unit itself."""
    inst, t = g.inst, g.inst.targets
    for d in sorted(wanted):
        members = inst.district_members[d]
        cost = {int(c): sum(inst.proj_cost[p] for p in g.remaining(int(c))) for c in members}
        for c in sorted(cost, key=cost.get):
            g.complete(c)
        if all(g.ntm_at_end(int(c)) for c in members):
            need = inst.district_need_adv2[d] if d in t.advanced_districts else inst.district_need_adv[d]
            for c in sorted(members, key=lambda c: inst.adv_cost[c]):
                if (g.dec.adv_start[members] >= 0).sum() + inst.base_adv[members].sum() >= need:
                    break
                g.fund_upgrade("advanced", int(c))
            if not inst.district_recognised[d]:
                g.fund_upgrade("district", d)
            if d in t.advanced_districts:
                need_m = inst.district_need_model2[d]
                for c in sorted(members, key=lambda c: inst.model_cost[c]):
                    if (g.dec.model_start[members] >= 0).sum() + inst.base_model[members].sum() >= need_m:
                        break
                    if g.has_model_prerequisite(int(c)):
                        g.fund_upgrade("model", int(c))
                g.fund_upgrade("district_advanced", d)


def _tiers(g: _Greedy, kind: str, target: int) -> None:
    inst = g.inst
    have = lambda: int(((g.dec.adv_start >= 0) | inst.base_adv).sum()) if kind == "advanced" else int(  # noqa: E731
        ((g.dec.model_start >= 0) | inst.base_model).sum())
    cost = inst.adv_cost if kind == "advanced" else inst.model_cost
    for c in np.argsort(cost, kind="stable"):
        if have() >= target:
            return
        if not g.ntm_at_end(int(c)):
            continue
        if kind == "model" and not g.has_model_prerequisite(int(c)):
            continue
        g.fund_upgrade(kind, int(c))


def _ranking_rule(inst: Instance, key: Callable[[_Greedy, int], tuple], name: str) -> Decisions:
    """Year by year, communes in rank order: fund all they still miss, or as much as fits.

    A commune that cannot be finished this year gets what the money allows (longest
    projects first, so that it can finish next year), then the next commune is served.
    """
    g = _Greedy(inst)
    _enforced_targets_first(g)
    for year in [int(y) for y in inst.years]:
        _rank_year(g, year, key)
    return g.finish(name)


def _rank_year(g: _Greedy, year: int, key: Callable[[_Greedy, int], tuple]) -> None:
    """One year of a ranking rule on the money left.

    When the communes target counts recognised communes (``targets.communes_count:
    recognised``), those recognised but short of criteria already count: they are served
    after the others, as the model would (they still gain criteria met).
    """
    inst = g.inst
    open_c = [c for c in range(inst.n_communes) if g.remaining(c) and c not in g.forbidden_c]
    counted = inst.targets.communes_count == "recognised"
    later = (inst.recognised & ~inst.base_ntm) if counted else np.zeros(inst.n_communes, dtype=bool)
    for c in sorted(open_c, key=lambda c: (bool(later[c]), key(g, c))):
        todo = [p for p in g.remaining(c) if g.project_allowed(p, year)]
        if len(todo) < len(g.remaining(c)):
            continue  # some criterion can no longer be finished in time: the commune cannot make it
        if not g.fund_projects(todo, year):
            for p in sorted(todo, key=lambda p: (-inst.proj_lead[p], inst.proj_cost[p])):
                g.fund_projects([p], year)


def _fewest_missing(g: _Greedy, c: int) -> tuple:
    remaining = g.remaining(c)
    return (len(remaining), sum(g.inst.proj_cost[p] for p in remaining), c)


def planners_rule(inst: Instance) -> Decisions:
    """Fewest missing criteria first, year by year, whole communes within the money left."""
    return _ranking_rule(inst, _fewest_missing, "planners_rule")


def cheapest_first(inst: Instance) -> Decisions:
    """Least money still needed first, year by year, whole communes within the money left."""
    return _ranking_rule(
        inst, lambda g, c: (sum(inst.proj_cost[p] for p in g.remaining(c)), c), "cheapest_first")


CENTRAL_PREFIX = "nstw"  # sources of the central programme budget, which Decision 07 shares out


def d07_shareout(inst: Instance) -> Decisions:
    """Decision 07/2022: central money by group coefficients, the province's own money by the planners' rule."""
    g = _Greedy(inst)
    central = [f for f, sid in enumerate(inst.sources) if sid.startswith(CENTRAL_PREFIX)]
    coef = d07_coefficients(inst)
    coef[list(g.forbidden_c)] = 0.0
    share = coef / coef.sum() if coef.sum() > 0 else coef
    # each commune's entitlement to the central sources accumulates; a project is bought when the
    # eligible entitlement covers it
    pot = np.zeros((inst.n_communes, len(inst.sources)))
    for t, year in enumerate(int(y) for y in inst.years):
        pot[:, central] += share[:, None] * inst.budget[None, central, t]
        for c in np.argsort(-coef, kind="stable"):
            if coef[c] <= 0:
                continue
            for p in g.cheapest_projects_first(g.remaining(int(c))):
                eligible = [f for f in inst.classes[inst.proj_class[p]] if f in central]
                if not eligible or pot[c, eligible].sum() + 1e-6 < inst.proj_cost[p]:
                    continue
                if g.fund_projects([p], year):
                    _draw(pot[c], eligible, inst.proj_cost[p])
            if g.ntm_at_end(int(c)) and g.dec.adv_start[c] < 0 and not inst.base_adv[c]:
                eligible = [f for f in inst.classes[inst.commune_upgrade_class[c]] if f in central]
                if eligible and pot[c, eligible].sum() + 1e-6 >= inst.adv_cost[c] and g.fund_upgrade(
                        "advanced", int(c)):
                    _draw(pot[c], eligible, inst.adv_cost[c])
        # the province's own money, folded-in programmes and people's contributions: the usual rule
        _rank_year(g, year, _fewest_missing)
        if not inst.carry_over:
            pot[:] = 0.0
    return g.finish("d07_shareout")


def d07_coefficients(inst: Instance) -> np.ndarray:
    """Each commune's share-out coefficient under Decision 07/2022 (its group's; 0 where the set leaves it out).

    The group "already NTM" is the recognised communes', whatever they lack of a newer set;
    especially difficult communes are left out where the criteria set says so.
    """
    crit = inst.dataset.criteria
    coef = np.array([crit.group_of(int(m)).d07_coefficient for m in inst.base_criteria_met], dtype=float)
    coef[inst.recognised] = crit.group_of(len(crit)).d07_coefficient
    if crit.d07_excludes_especially_difficult:
        coef[inst.especially_difficult] = 0.0
    return coef


def _draw(pot: np.ndarray, eligible: list[int], amount: float) -> None:
    for f in eligible:
        take = min(pot[f], amount)
        pot[f] -= take
        amount -= take
        if amount <= 1e-9:
            return


RULES: dict[str, Callable[[Instance], Decisions]] = {
    "planners_rule": planners_rule,
    "cheapest_first": cheapest_first,
    "d07_shareout": d07_shareout,
}
