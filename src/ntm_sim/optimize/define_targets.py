"""The model's money, targets and objectives, one ``define_*`` step each.

Money flows, envelopes, absorption and district shares; targets and locks (elastic);
the objective stages (see :mod:`ntm_sim.optimize.model` for the model as a whole).
"""

from __future__ import annotations

import math

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.optimize.linear import LinExpr
from ntm_sim.optimize.model_build import ModelBuild, total_of
from ntm_sim.optimize.plan_model import LOCK_WEIGHT, MONEY, PlanModel, Shortfall


def define_money_flows(build: ModelBuild) -> None:
    """Money ``u[f, g, t]`` from each source to each class and year, and the class balance.

    One row per class and year: ``Σ_f u[f, g, t] - spend[g, t] = committed spend[g, t]``.

    Parameters
    ----------
    build
        The model being built (its spending is complete: every column step has run).
    """
    inst, b = build.inst, build.b
    n_t = inst.n_years
    build.spent = sg, _, st, scol, sv = build.spend.arrays()
    u_f = np.array([f for cls in inst.classes for _t in range(n_t) for f in cls], dtype=np.int64)
    u_g = np.array([g for g, cls in enumerate(inst.classes) for _t in range(n_t) for _f in cls], dtype=np.int64)
    u_t = np.array([t for cls in inst.classes for t in range(n_t) for _f in cls], dtype=np.int64)
    u_cols = np.array(b.cols([f"u_{f}_{g}_{t}" for f, g, t in zip(u_f.tolist(), u_g.tolist(), u_t.tolist(),
                                                                    strict=True)], 0.0, math.inf, integer=False),
                      dtype=np.int64)
    build.m.u.update(zip(zip(u_f.tolist(), u_g.tolist(), u_t.tolist(), strict=True), u_cols.tolist(), strict=True))
    build.u_source, build.u_year, build.u_cols = u_f, u_t, u_cols
    b.rows(np.concatenate([u_g * n_t + u_t, sg * n_t + st]), np.concatenate([u_cols, scol]),
           np.concatenate([np.ones(len(u_cols)), -sv]), build.class_const.ravel(), build.class_const.ravel())


def define_budget_envelopes(build: ModelBuild) -> None:
    """Each source's envelope per year, cumulative when money carries over.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst = build.inst
    n_t, n_f = inst.n_years, len(inst.sources)
    u_f, u_t, u_cols = build.u_source, build.u_year, build.u_cols
    rr, cc = [], []
    for t in range(n_t):
        sel = u_t <= t if inst.carry_over else u_t == t
        rr.append(u_f[sel] * n_t + t)
        cc.append(u_cols[sel])
    money = MONEY * inst.budget
    rhs = np.cumsum(money, axis=1) if inst.carry_over else money
    build.b.rows(np.concatenate(rr), np.concatenate(cc), np.ones(sum(len(x) for x in cc)),
                 np.full(n_f * n_t, -math.inf), rhs.ravel())


def define_absorption(build: ModelBuild) -> None:
    """A commune's spending per year within the absorption limit, if there is one.

    One row per commune and year with spending, but none for late communes: they can
    never exceed it.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst = build.inst
    if inst.absorption is None:
        return
    n_t = inst.n_years
    _, sc, st, scol, sv = build.spent
    keep = (sc >= 0) & ~build.late[np.maximum(sc, 0)]
    keys, local = np.unique(sc[keep] * n_t + st[keep], return_inverse=True)
    build.b.rows(local, scol[keep], sv[keep], np.full(len(keys), -math.inf),
                 MONEY * inst.absorption - build.commune_const[keys // n_t, keys % n_t])


def define_district_shares(build: ModelBuild) -> None:
    """Each district's floor on its share of all the money the plan spends.

    Parameters
    ----------
    build
        The model being built (after :func:`define_money_flows`).
    """
    inst, m = build.inst, build.m
    if not inst.district_floor:
        return
    _, sc, _, scol, sv = build.spent
    total_spend = LinExpr.of(build.u_cols)
    for d, floor in inst.district_floor.items():
        members = inst.district_members[d]
        mine = np.isin(sc, members)
        expr = LinExpr.of(scol[mine], sv[mine], float(build.commune_const[members].sum()))
        for table, cost in ((m.dx, inst.district_cost), (m.dax, inst.district_adv_cost)):
            expr = expr + LinExpr.of([v for _, v in table.get(d, [])], MONEY * float(cost[d]))
        build.b.expr_row(expr - total_spend * floor, 0.0, math.inf)


def _elastic(build: ModelBuild, key: str, label: str, achieved: LinExpr, needed: float,
             weight: float | None = None) -> None:
    """Add ``achieved + short >= needed`` with a shortfall column."""
    m = build.m
    # a shortfall weighs as the share of its target missed (one district unit is all of its
    # target, one village a hundredth of its): targets in different units add up fairly
    weight = (1.0 / max(float(needed), 1.0)) if weight is None else weight
    sh = build.b.col(f"short_{len(m.shortfalls)}", 0.0, math.inf, integer=False)
    build.b.expr_row(achieved + LinExpr.of([sh]), float(needed), math.inf)
    m.shortfalls.append(Shortfall(key, label, sh, float(needed), weight, achieved))


def _totals(build: ModelBuild) -> tuple[LinExpr, LinExpr, LinExpr]:
    """Communes NTM, advanced and model at the horizon (computed once, after the tiers)."""
    if build.totals is None:
        m, n_c, last = build.m, build.inst.n_communes, build.inst.n_years - 1
        z_last = [v for (c, t), v in m.z.items() if t == last]
        ntm_total = LinExpr.of(z_last + m.blocks["y"].columns(), 1.0, float(len(m.ntm_const)))
        adv_cols, adv_k = total_of([m._adv_cols(c) for c in range(n_c)])
        mod_cols, mod_k = total_of([m._model_cols(c) for c in range(n_c)])
        build.totals = (ntm_total, LinExpr.of(adv_cols, 1.0, adv_k), LinExpr.of(mod_cols, 1.0, mod_k))
    return build.totals


def _communes_counted(build: ModelBuild) -> LinExpr:
    """What the ``communes_ntm`` target counts (``targets.communes_count``; see :class:`ntm_sim.model.targets.Target`).

    ``meeting``: communes meeting every criterion at the horizon, so a recognised commune
    short of criteria counts only once its re-qualification projects are done.
    ``recognised``: communes recognised at the start count (kept), plus the others that
    come to meet every criterion ("duy trì và đạt chuẩn").
    """
    inst, m = build.inst, build.m
    expr = _totals(build)[0]
    if inst.targets.communes_count != "recognised":
        return expr
    for c in np.flatnonzero(inst.recognised & ~inst.base_ntm).tolist():
        cols, k = m._recognised_end_cols(c)
        expr = expr - m.z_end(c) + LinExpr.of(cols, 1.0, k)
    return expr


def define_locks(build: ModelBuild) -> None:
    """Forced communes and projects, as elastic rows weighing ``LOCK_WEIGHT``.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m = build.inst, build.m
    for c in inst.locks.force_commune:
        ze, ze_k = m._z_end_cols(c)
        _elastic(build, f"lock:commune:{inst.communes[c]}", f"locked commune {inst.communes[c]} reaches NTM",
                 LinExpr.of(ze, 1.0, ze_k), 1.0, LOCK_WEIGHT)
    for p, year in inst.locks.force_project:
        opts = [v for s, v in m.x.get(p, []) if year is None or s == year]
        label = f"locked project {inst.communes[inst.proj_commune[p]]} {inst.criteria[inst.proj_criterion[p]]}"
        _elastic(build, f"lock:project:{p}", label,
                 LinExpr.of(opts, 1.0, float(inst.proj_committed_start[p] >= 0)), 1.0, LOCK_WEIGHT)


def define_count_targets(build: ModelBuild) -> None:
    """Enforced counts: communes NTM, advanced, model, district units, new villages.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m, enforced, targets = build.inst, build.m, build.enforced, build.inst.targets
    _, all_adv, all_model = _totals(build)
    crit = inst.criteria_set
    tier_of = {"advanced": crit.advanced_tier, "model": crit.top_tier}
    for name, expr in (("communes_ntm", _communes_counted(build)), ("advanced", all_adv), ("model", all_model)):
        tier = tier_of.get(name)
        label = "communes NTM" if tier is None else f"{tier.label_en} communes"  # the set's own tier name
        if name in enforced and getattr(targets, name) is not None:
            _elastic(build, name, label, expr, getattr(targets, name))
    if "district_units" in enforced:
        for d in targets.district_units:
            _elastic(build, f"district_units:{inst.districts[d]}", f"district unit {inst.districts[d]}",
                     LinExpr.of([m.w[d]] if d in m.w else []), 1.0)
    if "advanced_districts" in enforced:
        for d in targets.advanced_districts:
            _elastic(build, f"advanced_districts:{inst.districts[d]}", f"advanced district {inst.districts[d]}",
                     LinExpr.of([v for _, v in m.dax.get(d, [])]), 1.0)
    for name, label, block in (("villages_ntm", "new NTM villages", "vn"),
                               ("villages_model", "new model villages", "vm")):
        if name in enforced and getattr(targets, name) is not None:
            _elastic(build, name, label, LinExpr.of(m.blocks[block].columns()), getattr(targets, name))


def _funded(m: PlanModel, p: int) -> tuple[list[int], list[float]]:
    """Project ``p`` funded (it then finishes within the horizon)."""
    if p in m.q:
        ys = [v for _, v in m.y[int(m.inst.proj_commune[p])]]
        return ys + [m.q[p]], [1.0] * (len(ys) + 1)
    xs = [v for _, v in m.x.get(p, [])]
    return xs, [1.0] * len(xs)


def _criteria_met_end(build: ModelBuild, c: int) -> tuple[list[int], list[float], float]:
    """Criteria commune ``c`` meets at the horizon: columns, coefficients, constant."""
    inst, m = build.inst, build.m
    ps = [int(p) for p in inst.projects_of[c]]
    base_met = inst.base_criteria_met
    if c in m.y:
        ys = [v for _, v in m.y[c]]
        return (ys + [m.q[p] for p in ps], [float(len(ps))] * len(ys) + [1.0] * len(ps),
                float(base_met[c]))
    xs = [v for p in ps for _, v in m.x.get(p, [])]
    last = inst.n_years - 1
    return xs, [1.0] * len(xs), float(base_met[c]) + sum(build.done_const.get((p, last), 0.0) for p in ps)


def define_criteria_targets(build: ModelBuild) -> None:
    """Enforced criteria: a minimum per commune, an average, communes meeting a criterion.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, enforced, targets = build.inst, build.enforced, build.inst.targets
    base_met = inst.base_criteria_met
    last = inst.n_years - 1
    if "min_criteria" in enforced and targets.min_criteria is not None:
        for c in range(inst.n_communes):
            if base_met[c] < targets.min_criteria:
                _elastic(build, f"min_criteria:{inst.communes[c]}", f"commune {inst.communes[c]} ≥ "
                         f"{targets.min_criteria} criteria", LinExpr.of(*_criteria_met_end(build, c)),
                         targets.min_criteria)
    if "avg_criteria" in enforced and targets.avg_criteria_total is not None:
        parts = [_criteria_met_end(build, c) for c in range(inst.n_communes)]
        _elastic(build, "avg_criteria", f"average {targets.avg_criteria} criteria per commune",
                 LinExpr.of([v for cols, _, _ in parts for v in cols], [a for _, vals, _ in parts for a in vals],
                            sum(k for _, _, k in parts)), targets.avg_criteria_total)
    if "criterion_communes" in enforced:
        for k, need in targets.criterion_communes.items():
            ps = np.flatnonzero(inst.proj_criterion == k).tolist()
            parts = [_funded(build.m, p) for p in ps]
            const = float(inst.base_met[:, k].sum()) + sum(build.done_const.get((p, last), 0.0) for p in ps)
            _elastic(build, f"criterion_communes:{inst.criteria[k]}", f"communes meeting {inst.criteria[k]}",
                     LinExpr.of([v for cols, _ in parts for v in cols], [a for _, vals in parts for a in vals],
                                const), need)


def define_objective_stages(build: ModelBuild) -> None:
    """The stage objectives, in lexicographic order: targets first, then the mode's stages.

    Min-cost: cost, funding gap, gap as late as it can be. Max-achievement: the
    scenario's order, or one weighted stage when the scenario sets weights.

    Parameters
    ----------
    build
        The model being built (every column is in).
    """
    inst, m = build.inst, build.m
    if m.shortfalls:
        m.stages["targets"] = (LinExpr.of([s.var for s in m.shortfalls], [s.weight for s in m.shortfalls]), False)
    if build.mode == "min-cost":
        n_t = inst.n_years
        m.stages["cost"] = (LinExpr.of(build.u_cols), False)
        gap_cols = [(t, v) for (f, _, t), v in m.u.items() if f == inst.gap_source]
        m.stages["gap"] = (LinExpr.of([v for _, v in gap_cols]), False)
        # the same gap, asked for as late as it can be (money raised early sits idle)
        m.stages["gap_timing"] = (LinExpr.of([v for _, v in gap_cols], [float(n_t - t) for t, _ in gap_cols]), False)
        return
    exprs = _achievement_exprs(build)
    stage_weights = inst.scenario.objective.weights
    if stage_weights:
        combo = LinExpr.const(0.0)
        for name, wgt in stage_weights.items():
            expr, maximize = exprs[name]
            combo = combo + expr * (wgt if maximize else -wgt)
        m.stages["weighted"] = (combo, True)
    else:
        for name in inst.scenario.objective.order:
            if name in absent_stages(inst):
                continue  # the criteria set has nothing for it to count (Decision 51: no district units)
            m.stages[name] = exprs[name]


def absent_stages(inst: Instance) -> set[str]:
    """Stages that count nothing under the instance's criteria set: district units, or tiers, it does not issue."""
    out = set()
    if not inst.has_district_units:
        out.add("district_units")
    if not inst.has_model_tier:
        out.add("tiers")
    return out


def _achievement_exprs(build: ModelBuild) -> dict[str, tuple[LinExpr, bool]]:
    """Every max-achievement stage's objective and sense."""
    inst, m = build.inst, build.m
    n_t = inst.n_years
    _, all_adv, all_model = _totals(build)
    y_all = m.blocks["y"].columns()
    district_expr = LinExpr.of(m.blocks["w"].columns() + m.blocks["dax"].columns())
    # criteria met is Σ x; a commune in y form that completes counts all its projects
    n_proj = np.bincount(inst.proj_commune, minlength=inst.n_communes)
    x_all = m.blocks["x"].columns()
    criteria_expr = LinExpr.of(x_all + y_all + m.blocks["q"].columns(),
                               [1.0] * len(x_all) + [float(n_proj[c]) for c, opts in m.y.items() for _ in opts]
                               + [1.0] * len(m.q))
    # earliness is Σ z; completing in year t counts every year from t to the horizon
    earliness = LinExpr.of(m.blocks["z"].columns() + y_all,
                           [1.0] * len(m.z) + [float(n_t - t) for opts in m.y.values() for t, _ in opts])
    return {
        "communes_ntm": (_communes_counted(build), True),
        "expected_communes": (_expected(m, build.weights), True),
        "district_units": (district_expr, True),
        "tiers": (all_adv + all_model, True),
        "criteria_met": (criteria_expr, True),
        "earliness": (earliness, True),
        "cost": (LinExpr.of(build.u_cols), False),
    }


def _expected(m: PlanModel, weights: np.ndarray | None) -> LinExpr:
    """Σ over communes of their chance of being counted at the horizon (``weights``, non-increasing in the year).

    Counting recognised communes (``targets.communes_count``), a commune recognised at the
    start counts with the chance of keeping its recognition: 1 unless the revocation rule
    holds it; then 1 if the plan gets it out by the review, else the chance that no review
    of the horizon carries the rule out (``revocation_probability``).
    """
    if weights is None:
        return LinExpr.const(math.nan)
    inst = m.inst
    n_t = inst.n_years
    w = np.concatenate([np.asarray(weights, dtype=float), np.zeros((len(weights), 1))], axis=1)
    skip = inst.recognised if inst.targets.communes_count == "recognised" else np.zeros(inst.n_communes, bool)
    cols, coefs = [], []
    for (c, t), col in m.z.items():      # z: NTM by year t, so completing in t weighs w[t] − w[t + 1]
        if not skip[c]:
            cols.append(col)
            coefs.append(w[c, t + 1] - (w[c, t + 2] if t + 1 < n_t else 0.0))
    for c, opts in m.y.items():          # y: completing in year t
        if not skip[c]:
            for t, col in opts:
                cols.append(col)
                coefs.append(w[c, t + 1])
    const = float(sum(w[c, 0] for c in m.ntm_const if not skip[c])) + float((skip & ~inst.at_risk).sum())
    if inst.recognition is not None and (skip & inst.at_risk).any():
        reviews = n_t - inst.recognition.review_from
        stay = (1.0 - inst.scenario.uncertainty.revocation_probability) ** reviews
        for c in np.flatnonzero(skip & inst.at_risk).tolist():
            cols.append(m.rk[(c, "keep")])
            coefs.append(1.0 - stay)
            const += stay
    return LinExpr.of(cols, coefs, const)
