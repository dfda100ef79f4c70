"""The PuLP model of a planning instance.

Decisions: start year of each criterion project (binary ``x[p, s]``), commune NTM by
year (``z[c, t]``), tier upgrades, new villages, district projects, and money from each
source to each *eligibility class* and year (``u[f, g, t]``, continuous).

Money is aggregated by eligibility class (criteria that the same sources may pay for):
this is exact, because money is fungible within a class, and it keeps the number of
continuous variables independent of the number of communes. The split of each class's
money back onto projects is proportional (see :func:`ntm_sim.plan.make_plan`).

Targets the scenario enforces (and forced locks) are *elastic*: each has a shortfall
variable, and the first stage minimises total shortfall, so that an unreachable target
is measured and explained instead of making the model infeasible.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pulp

from ntm_sim.instance import Instance
from ntm_sim.plan import Decisions, evaluate

LOCK_WEIGHT = 1000.0
# Money enters the model in billion VND (data are in million VND): keeps coefficients near 1.
MONEY = 1e-3


def lin(pairs: list[tuple[pulp.LpVariable, float]] | dict, constant: float = 0.0) -> pulp.LpAffineExpression:
    """Build an affine expression quickly from (variable, coefficient) pairs."""
    return pulp.LpAffineExpression(pairs, constant=constant)


@dataclass
class Shortfall:
    """An elastic target: ``achieved + short >= needed``."""

    key: str
    label: str
    var: pulp.LpVariable
    needed: float
    weight: float = 1.0
    achieved: pulp.LpAffineExpression | None = None


@dataclass
class PlanModel:
    """A built model with handles on its variables and stage expressions."""

    inst: Instance
    prob: pulp.LpProblem
    mode: str
    x: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    z: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    adv: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    mod: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    vn: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    vm: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    w: dict[int, pulp.LpVariable] = field(default_factory=dict)
    dx: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    dax: dict[int, list[tuple[int, pulp.LpVariable]]] = field(default_factory=dict)
    u: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    shortfalls: list[Shortfall] = field(default_factory=list)
    stages: dict[str, tuple[pulp.LpAffineExpression, bool]] = field(default_factory=dict)
    ntm_const: dict[int, bool] = field(default_factory=dict)  # communes NTM by construction

    # ----- expressions -----------------------------------------------------------------
    def z_end(self, c: int) -> pulp.LpAffineExpression | float:
        """Commune ``c`` NTM at the horizon (expression or constant)."""
        if self.ntm_const.get(c):
            return 1.0
        var = self.z.get((c, self.inst.n_years - 1))
        return 0.0 if var is None else var

    def adv_expr(self, c: int) -> pulp.LpAffineExpression | float:
        """Commune ``c`` advanced at the horizon."""
        if self.inst.base_adv[c]:
            return self.z_end(c)
        return lin([(v, 1.0) for _, v in self.adv.get(c, [])])

    def model_expr(self, c: int) -> pulp.LpAffineExpression | float:
        """Commune ``c`` model at the horizon."""
        if self.inst.base_model[c]:
            return self.adv_expr(c)
        return lin([(v, 1.0) for _, v in self.mod.get(c, [])])

    # ----- warm start ------------------------------------------------------------------
    def values_from(self, dec: Decisions) -> np.ndarray:
        """Variable values (model order) that encode a plan, for a MIP start."""
        inst = self.inst
        out = evaluate(inst, dec)
        value: dict[str, float] = {}
        for p, opts in self.x.items():
            for s, v in opts:
                value[v.name] = float(dec.proj_start[p] == s)
        for (c, t), v in self.z.items():
            year_ntm = out.commune_year_ntm[c]
            value[v.name] = float(year_ntm != 0 and year_ntm <= inst.years[t])
        for starts, table in ((dec.adv_start, self.adv), (dec.model_start, self.mod)):
            for c, opts in table.items():
                for s, v in opts:
                    value[v.name] = float(starts[c] == s)
        for (c, t), v in self.vn.items():
            value[v.name] = float(dec.village_ntm[c, t])
        for (c, t), v in self.vm.items():
            value[v.name] = float(dec.village_model[c, t])
        for d, v in self.w.items():
            value[v.name] = float(out.district_unit[d])
        for starts, table in ((dec.district_start, self.dx), (dec.district_adv_start, self.dax)):
            for d, opts in table.items():
                for s, v in opts:
                    value[v.name] = float(starts[d] == s)
        if dec.flows is not None:
            for (f, g, t), v in self.u.items():
                value[v.name] = MONEY * float(dec.flows[f, g, t])
        for sf in self.shortfalls:
            value[sf.var.name] = 0.0
        return np.array([value.get(v.name, 0.0) for v in self.prob.variables()])

    def decisions_from(self, values: np.ndarray) -> Decisions:
        """Read a plan back from variable values (model order)."""
        inst = self.inst
        index = {v.name: i for i, v in enumerate(self.prob.variables())}

        def on(v: pulp.LpVariable) -> bool:
            return values[index[v.name]] > 0.5

        dec = Decisions.empty(inst)
        for p, opts in self.x.items():
            for s, v in opts:
                if on(v):
                    dec.proj_start[p] = s
        for starts, table in ((dec.adv_start, self.adv), (dec.model_start, self.mod)):
            for c, opts in table.items():
                for s, v in opts:
                    if on(v):
                        starts[c] = s
        for (c, t), v in self.vn.items():
            dec.village_ntm[c, t] = int(round(values[index[v.name]]))
        for (c, t), v in self.vm.items():
            dec.village_model[c, t] = int(round(values[index[v.name]]))
        for starts, table in ((dec.district_start, self.dx), (dec.district_adv_start, self.dax)):
            for d, opts in table.items():
                for s, v in opts:
                    if on(v):
                        starts[d] = s
        flows = np.zeros((len(inst.sources), len(inst.classes), inst.n_years))
        for (f, g, t), v in self.u.items():
            flows[f, g, t] = max(0.0, values[index[v.name]]) / MONEY
        dec.flows = flows
        return dec


def build_model(inst: Instance, mode: str | None = None) -> PlanModel:
    """Build the PuLP model for an instance.

    Parameters
    ----------
    inst
        The resolved dataset and scenario.
    mode
        ``"max-achievement"`` or ``"min-cost"`` (default: the scenario's).
    """
    mode = mode or inst.scenario.mode
    prob = pulp.LpProblem("ntm_plan", pulp.LpMaximize)
    m = PlanModel(inst=inst, prob=prob, mode=mode)
    years = [int(y) for y in inst.years]
    n_t, last = inst.n_years, inst.n_years - 1
    projects_of = inst.projects_of
    targets = inst.targets
    enforced = set(inst.scenario.targets.named()) if mode == "min-cost" else set(inst.scenario.enforce)
    locks = inst.locks
    forbid_c = set(locks.forbid_commune)
    forbid_p = {p for p, y in locks.forbid_project if y is None}
    forbid_py = {(p, y) for p, y in locks.forbid_project if y is not None}
    forbid_cy = set(locks.forbid_commune_year)

    # ----- project start variables ------------------------------------------------------
    class_spend: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    class_const = np.zeros((len(inst.classes), n_t))
    commune_spend: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    commune_const = np.zeros((inst.n_communes, n_t))
    done_by: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)  # (p, t)
    done_const: dict[tuple[int, int], float] = defaultdict(float)
    impossible: set[int] = set()
    for p in range(inst.n_projects):
        c = int(inst.proj_commune[p])
        lead = int(inst.proj_lead[p])
        cost = float(inst.proj_cost[p])
        g = int(inst.proj_class[p])
        committed = int(inst.proj_committed_start[p])
        if committed >= 0:
            for y in inst.spend_years(committed, lead):
                class_const[g, inst.year_index(y)] += MONEY * cost / lead
                commune_const[c, inst.year_index(y)] += MONEY * cost / lead
            for t, y in enumerate(years):
                if committed + lead - 1 <= y:
                    done_const[(p, t)] = 1.0
            continue
        opts = []
        if c not in forbid_c and p not in forbid_p:
            for s in inst.start_years(p):
                if (p, s) in forbid_py or (c, s) in forbid_cy:
                    continue
                if inst.absorption is not None and cost / lead > inst.absorption + 1e-9:
                    continue
                v = prob.add_variable(f"x_{p}_{s}", cat=pulp.LpBinary)
                opts.append((s, v))
                for y in inst.spend_years(s, lead):
                    t = inst.year_index(y)
                    class_spend[(g, t)].append((v, MONEY * cost / lead))
                    commune_spend[(c, t)].append((v, MONEY * cost / lead))
                for t, y in enumerate(years):
                    if s + lead - 1 <= y:
                        done_by[(p, t)].append((v, 1.0))
        if not opts:
            impossible.add(p)
        else:
            m.x[p] = opts
            prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for _, v in opts]), pulp.LpConstraintLE, rhs=1))

    # ----- communes NTM by year -----------------------------------------------------------
    for c in range(inst.n_communes):
        ps = projects_of[c]
        if len(ps) == 0:
            m.ntm_const[c] = True
            continue
        if c in forbid_c or any(int(p) in impossible for p in ps):
            continue
        for t in range(n_t):
            # the commune cannot be NTM before its slowest project can finish
            if any(done_const.get((int(p), t), 0.0) == 0.0 and not done_by.get((int(p), t)) for p in ps):
                continue
            v = prob.add_variable(f"z_{c}_{t}", cat=pulp.LpBinary)
            m.z[(c, t)] = v
            for p in ps:
                p = int(p)
                if done_const.get((p, t), 0.0) >= 1.0:
                    continue
                prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0)] + [(x, -1.0) for x, _ in done_by[(p, t)]]),
                                                     pulp.LpConstraintLE, rhs=0))

    # ----- dominance: with carry-over and no absorption limit, spending later never hurts, so
    # every project may finish exactly when its commune does (or at the horizon): this removes
    # schedules that differ only in when money sits idle, and speeds up every stage.
    if inst.carry_over and inst.absorption is None:
        for p in m.x:
            c = int(inst.proj_commune[p])
            for t in range(last):
                done = done_by.get((p, t))
                if not done:
                    continue
                z = m.z.get((c, t))
                pairs = list(done) + ([(z, -1.0)] if z is not None else [])
                prob.addConstraint(pulp.LpConstraint(lin(pairs), pulp.LpConstraintLE, rhs=0))

    # ----- tiers ------------------------------------------------------------------------------
    need_tiers = ("tiers" in inst.scenario.objective.order or bool({"advanced", "model", "district_units",
                  "advanced_districts"} & enforced) or any(inst.district_need_adv > 0))
    if need_tiers:
        for c in range(inst.n_communes):
            if c in forbid_c:
                continue
            ze = m.z_end(c)
            if isinstance(ze, float) and ze == 0.0:
                continue
            for kind, base, cost, lead, table in (
                ("adv", inst.base_adv, inst.adv_cost, inst.adv_lead, m.adv),
                ("mod", inst.base_model, inst.model_cost, inst.model_lead, m.mod),
            ):
                if base[c]:
                    continue
                if inst.absorption is not None and cost[c] / lead > inst.absorption + 1e-9:
                    continue
                opts = []
                for s in years:
                    if s + lead - 1 > inst.horizon_end:
                        break
                    v = prob.add_variable(f"{kind}_{c}_{s}", cat=pulp.LpBinary)
                    opts.append((s, v))
                    for y in inst.spend_years(s, lead):
                        t = inst.year_index(y)
                        class_spend[(int(inst.commune_upgrade_class[c]), t)].append((v, MONEY * cost[c] / lead))
                        commune_spend[(c, t)].append((v, MONEY * cost[c] / lead))
                if opts:
                    table[c] = opts
            if c in m.adv:
                prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for _, v in m.adv[c]]) - ze,
                                                     pulp.LpConstraintLE, rhs=0))
            if c in m.mod:
                prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for _, v in m.mod[c]]) - m.adv_expr(c),
                                                     pulp.LpConstraintLE, rhs=0))

    # ----- district units -------------------------------------------------------------------
    if need_tiers:
        for d, members in enumerate(inst.district_members):
            if len(members) == 0:
                continue
            w = prob.add_variable(f"w_{d}", cat=pulp.LpBinary)
            m.w[d] = w
            for c in members:
                ze = m.z_end(int(c))
                if isinstance(ze, float):
                    if ze == 0.0:
                        w.upBound = 0
                    continue
                prob.addConstraint(pulp.LpConstraint(w - ze, pulp.LpConstraintLE, rhs=0))
            adv_sum = pulp.lpSum(m.adv_expr(int(c)) for c in members)
            prob.addConstraint(pulp.LpConstraint(adv_sum - int(inst.district_need_adv[d]) * w,
                                                 pulp.LpConstraintGE, rhs=0))
            if not inst.district_recognised[d]:
                m.dx[d] = _district_project(m, d, "dx", MONEY * float(inst.district_cost[d]), class_spend)
                prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for _, v in m.dx[d]]) - w,
                                                     pulp.LpConstraintEQ, rhs=0))
            # advanced district
            m.dax[d] = _district_project(m, d, "dax", MONEY * float(inst.district_adv_cost[d]), class_spend)
            wa = lin([(v, 1.0) for _, v in m.dax[d]])
            prob.addConstraint(pulp.LpConstraint(wa - w, pulp.LpConstraintLE, rhs=0))
            prob.addConstraint(pulp.LpConstraint(adv_sum - int(inst.district_need_adv2[d]) * wa,
                                                 pulp.LpConstraintGE, rhs=0))
            model_sum = pulp.lpSum(m.model_expr(int(c)) for c in members)
            prob.addConstraint(pulp.LpConstraint(model_sum - int(inst.district_need_model2[d]) * wa,
                                                 pulp.LpConstraintGE, rhs=0))

    # ----- villages ------------------------------------------------------------------------------
    if {"villages_ntm", "villages_model"} & enforced:
        for c in range(inst.n_communes):
            if c in forbid_c:
                continue
            room = int(inst.villages[c] - inst.villages_ntm[c])
            model_room0 = int(inst.villages_ntm[c] - inst.villages_model[c])
            if room <= 0 and model_room0 <= 0:
                continue
            vns, vms = [], []
            for t in range(n_t):
                vn = prob.add_variable(f"vn_{c}_{t}", lowBound=0, upBound=max(room, 0), cat=pulp.LpInteger)
                vm = prob.add_variable(f"vm_{c}_{t}", lowBound=0, upBound=max(room + model_room0, 0),
                                     cat=pulp.LpInteger)
                m.vn[(c, t)], m.vm[(c, t)] = vn, vm
                vns.append(vn)
                vms.append(vm)
                for v, unit in ((vn, inst.village_ntm_cost[c]), (vm, inst.village_model_cost[c])):
                    class_spend[(int(inst.commune_upgrade_class[c]), t)].append((v, MONEY * float(unit)))
                    commune_spend[(c, t)].append((v, MONEY * float(unit)))
                prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for v in vms] + [(v, -1.0) for v in vns]),
                                                     pulp.LpConstraintLE, rhs=model_room0))
            prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for v in vns]), pulp.LpConstraintLE, rhs=room))

    # ----- money: classes ← sources, budgets, absorption ----------------------------------
    n_f = len(inst.sources)
    for g, cls in enumerate(inst.classes):
        for t in range(n_t):
            pairs = []
            for f in cls:
                v = prob.add_variable(f"u_{f}_{g}_{t}", lowBound=0)
                m.u[(f, g, t)] = v
                pairs.append((v, 1.0))
            need = [(v, -c) for v, c in class_spend.get((g, t), [])]
            prob.addConstraint(pulp.LpConstraint(lin(pairs + need), pulp.LpConstraintEQ,
                                                 rhs=float(class_const[g, t])))
    for f in range(n_f):
        cum: list[tuple[pulp.LpVariable, float]] = []
        budget = 0.0
        for t in range(n_t):
            row = [(m.u[(f, g, t)], 1.0) for g in range(len(inst.classes)) if (f, g, t) in m.u]
            if inst.carry_over:
                cum = cum + row
                budget += MONEY * float(inst.budget[f, t])
                prob.addConstraint(pulp.LpConstraint(lin(cum), pulp.LpConstraintLE, rhs=budget))
            else:
                prob.addConstraint(pulp.LpConstraint(lin(row), pulp.LpConstraintLE,
                                                     rhs=MONEY * float(inst.budget[f, t])))
    if inst.absorption is not None:
        for (c, t), pairs in commune_spend.items():
            prob.addConstraint(pulp.LpConstraint(lin(pairs), pulp.LpConstraintLE,
                                                 rhs=MONEY * inst.absorption - commune_const[c, t]))

    # ----- district shares of the money ---------------------------------------------------
    total_spend = lin([(v, 1.0) for v in m.u.values()])
    if inst.district_floor:
        for d, floor in inst.district_floor.items():
            members = set(int(c) for c in inst.district_members[d])
            pairs = [(v, a) for (c, _t), vs in commune_spend.items() if c in members for v, a in vs]
            for table, cost in ((m.dx, inst.district_cost), (m.dax, inst.district_adv_cost)):
                pairs += [(v, MONEY * float(cost[d])) for _, v in table.get(d, [])]
            const = float(sum(commune_const[c].sum() for c in members))
            prob.addConstraint(pulp.LpConstraint(lin(pairs, const) - floor * total_spend,
                                                 pulp.LpConstraintGE, rhs=0))

    # ----- elastic targets and forced locks ----------------------------------------------------
    x_sum = {p: lin([(v, 1.0) for _, v in opts]) for p, opts in m.x.items()}

    def criteria_met_end(c: int) -> pulp.LpAffineExpression:
        pairs = [(v, 1.0) for p in projects_of[c] for _, v in m.x.get(int(p), [])]
        const = float(inst.base_criteria_met[c]) + sum(done_const.get((int(p), last), 0.0) for p in projects_of[c])
        return lin(pairs, const)

    def elastic(key: str, label: str, achieved: pulp.LpAffineExpression | float, needed: float,
                weight: float = 1.0) -> None:
        sh = prob.add_variable(f"short_{len(m.shortfalls)}", lowBound=0)
        if isinstance(achieved, pulp.LpAffineExpression):
            achieved_e = achieved
        elif isinstance(achieved, pulp.LpVariable):
            achieved_e = lin([(achieved, 1.0)])
        else:
            achieved_e = lin([], float(achieved))
        prob.addConstraint(pulp.LpConstraint(achieved_e + sh, pulp.LpConstraintGE, rhs=float(needed)))
        m.shortfalls.append(Shortfall(key, label, sh, float(needed), weight, achieved_e))

    ntm_total = lin([(m.z[(c, last)], 1.0) for c in range(inst.n_communes) if (c, last) in m.z],
                    float(sum(1 for c in m.ntm_const if m.ntm_const[c])))
    for c in locks.force_commune:
        elastic(f"lock:commune:{inst.communes[c]}", f"locked commune {inst.communes[c]} reaches NTM",
                m.z_end(c), 1.0, LOCK_WEIGHT)
    for p, year in locks.force_project:
        opts = [v for s, v in m.x.get(p, []) if year is None or s == year]
        label = f"locked project {inst.communes[inst.proj_commune[p]]} {inst.criteria[inst.proj_criterion[p]]}"
        elastic(f"lock:project:{p}", label, lin([(v, 1.0) for v in opts],
                float(inst.proj_committed_start[p] >= 0)), 1.0, LOCK_WEIGHT)
    if "communes_ntm" in enforced and targets.communes_ntm is not None:
        elastic("communes_ntm", "communes NTM", ntm_total, targets.communes_ntm)
    if "advanced" in enforced and targets.advanced is not None:
        elastic("advanced", "advanced communes", pulp.lpSum(m.adv_expr(c) for c in range(inst.n_communes)),
                targets.advanced)
    if "model" in enforced and targets.model is not None:
        elastic("model", "model communes", pulp.lpSum(m.model_expr(c) for c in range(inst.n_communes)),
                targets.model)
    if "district_units" in enforced:
        for d in targets.district_units:
            elastic(f"district_units:{inst.districts[d]}", f"district unit {inst.districts[d]}",
                    m.w.get(d, 0.0) + lin([]), 1.0)
    if "advanced_districts" in enforced:
        for d in targets.advanced_districts:
            elastic(f"advanced_districts:{inst.districts[d]}", f"advanced district {inst.districts[d]}",
                    lin([(v, 1.0) for _, v in m.dax.get(d, [])]), 1.0)
    if "villages_ntm" in enforced and targets.villages_ntm is not None:
        elastic("villages_ntm", "new NTM villages", lin([(v, 1.0) for v in m.vn.values()]), targets.villages_ntm)
    if "villages_model" in enforced and targets.villages_model is not None:
        elastic("villages_model", "new model villages", lin([(v, 1.0) for v in m.vm.values()]),
                targets.villages_model)
    if "min_criteria" in enforced and targets.min_criteria is not None:
        for c in range(inst.n_communes):
            if inst.base_criteria_met[c] < targets.min_criteria:
                elastic(f"min_criteria:{inst.communes[c]}", f"commune {inst.communes[c]} ≥ "
                        f"{targets.min_criteria} criteria", criteria_met_end(c), targets.min_criteria)
    if "avg_criteria" in enforced and targets.avg_criteria_total is not None:
        total = pulp.lpSum(criteria_met_end(c) for c in range(inst.n_communes))
        elastic("avg_criteria", f"average {targets.avg_criteria} criteria per commune", total,
                targets.avg_criteria_total)
    if "criterion_communes" in enforced:
        for k, need in targets.criterion_communes.items():
            ps = [p for p in range(inst.n_projects) if inst.proj_criterion[p] == k]
            achieved = lin([(v, 1.0) for p in ps for _, v in m.x.get(p, [])],
                           float(inst.base_met[:, k].sum()) + sum(done_const.get((p, last), 0.0) for p in ps))
            elastic(f"criterion_communes:{inst.criteria[k]}", f"communes meeting {inst.criteria[k]}",
                    achieved, need)

    # ----- stage objectives ------------------------------------------------------------------------
    if m.shortfalls:
        m.stages["targets"] = (lin([(s.var, s.weight) for s in m.shortfalls]), False)
    if mode == "min-cost":
        m.stages["cost"] = (total_spend, False)
        m.stages["gap"] = (lin([(v, 1.0) for (f, _, _), v in m.u.items() if f == inst.gap_source]), False)
        return m
    district_expr = lin([(v, 1.0) for v in m.w.values()] + [(v, 1.0) for opts in m.dax.values() for _, v in opts])
    tier_expr = pulp.lpSum([m.adv_expr(c) for c in range(inst.n_communes)]
                           + [m.model_expr(c) for c in range(inst.n_communes)])
    criteria_expr = lin([(v, 1.0) for opts in m.x.values() for _, v in opts])
    earliness = lin([(v, 1.0) for v in m.z.values()])
    exprs = {
        "communes_ntm": (ntm_total, True),
        "district_units": (district_expr, True),
        "tiers": (tier_expr if isinstance(tier_expr, pulp.LpAffineExpression) else lin([]), True),
        "criteria_met": (criteria_expr, True),
        "earliness": (earliness, True),
        "cost": (total_spend, False),
    }
    weights = inst.scenario.objective.weights
    if weights:
        combo = lin([])
        for name, wgt in weights.items():
            expr, maximize = exprs[name]
            combo += (wgt if maximize else -wgt) * expr
        m.stages["weighted"] = (combo, True)
    else:
        for name in inst.scenario.objective.order:
            m.stages[name] = exprs[name]
    del x_sum
    return m


def _district_project(m: PlanModel, d: int, prefix: str, cost: float,
                      class_spend: dict) -> list[tuple[int, pulp.LpVariable]]:
    inst = m.inst
    opts = []
    for s in inst.years:
        v = m.prob.add_variable(f"{prefix}_{d}_{int(s)}", cat=pulp.LpBinary)
        opts.append((int(s), v))
        class_spend[(int(inst.district_upgrade_class[d]), inst.year_index(int(s)))].append((v, cost))
    m.prob.addConstraint(pulp.LpConstraint(lin([(v, 1.0) for _, v in opts]), pulp.LpConstraintLE, rhs=1))
    return opts


def integral(name: str) -> bool:
    """Whether a stage's objective takes integer values (so it can be fixed exactly)."""
    return name in ("communes_ntm", "district_units", "tiers", "criteria_met", "earliness")


def stage_tolerance(value: float, maximize: bool, name: str) -> tuple[float, float]:
    """Bounds that keep a solved stage at its value in later stages."""
    if integral(name):
        v = float(round(value))
        return (v - 1e-6, math.inf) if maximize else (-math.inf, v + 1e-6)
    slack = 1e-6 * max(1.0, abs(value))
    return (value - slack, math.inf) if maximize else (-math.inf, value + slack)
