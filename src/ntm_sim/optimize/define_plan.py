"""The model's plan families, one ``define_*`` step each.

Project starts, commune completion (and recognition kept), tiers, district units and villages
(see :mod:`ntm_sim.optimize.model` for the model as a whole).
"""

from __future__ import annotations

import math

import numpy as np

from ntm_sim.optimize.model_build import ModelBuild, total_of
from ntm_sim.optimize.plan_model import MONEY


def define_project_starts(build: ModelBuild) -> None:
    """Start-year binaries ``x[p, s]`` of the criteria projects of communes in x form.

    One start at most per project. Projects under way are constants (their money in
    ``class_const`` and ``commune_const``); projects with no allowed start are recorded
    as impossible.

    Parameters
    ----------
    build
        The model being built.
    """
    inst = build.inst
    for p in np.flatnonzero(~build.sched[inst.proj_commune]).tolist():
        if int(inst.proj_committed_start[p]) >= 0:
            _committed_project(build, p)
            continue
        opts = _project_options(build, p)
        if not opts:
            build.impossible.add(p)
        else:
            build.m.x[p] = opts
            build.b.row([v for _, v in opts], 1.0, -math.inf, 1.0)


def _committed_project(build: ModelBuild, p: int) -> None:
    """A project under way: its money and completion are constants."""
    inst = build.inst
    c, lead, cost, g = (int(inst.proj_commune[p]), int(inst.proj_lead[p]), float(inst.proj_cost[p]),
                        int(inst.proj_class[p]))
    committed = int(inst.proj_committed_start[p])
    for y in inst.spend_years(committed, lead):
        build.class_const[g, inst.year_index(y)] += MONEY * cost / lead
        build.commune_const[c, inst.year_index(y)] += MONEY * cost / lead
    for t, y in enumerate(build.years):
        if committed + lead - 1 <= y:
            build.done_const[(p, t)] = 1.0


def _project_options(build: ModelBuild, p: int) -> list[tuple[int, int]]:
    """Columns of project ``p``'s allowed start years, with their spending and completion years."""
    inst = build.inst
    c, lead, cost, g = (int(inst.proj_commune[p]), int(inst.proj_lead[p]), float(inst.proj_cost[p]),
                        int(inst.proj_class[p]))
    opts: list[tuple[int, int]] = []
    if c in build.forbid_c or p in build.forbid_p:
        return opts
    for s in inst.start_years(p):
        if (p, s) in build.forbid_py or (c, s) in build.forbid_cy:
            continue
        if inst.absorption is not None and cost / lead > inst.absorption + 1e-9:
            continue
        v = build.b.col(f"x_{p}_{s}")
        opts.append((s, v))
        build.spend.add(g, c, [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * cost / lead)
        for t, y in enumerate(build.years):
            if s + lead - 1 <= y:
                build.done_by.setdefault((p, t), []).append(v)
    return opts


def define_commune_completion(build: ModelBuild) -> None:
    """Binaries ``z[c, t]``: commune ``c`` (x form) NTM by year index ``t``.

    ``z[c, t]`` needs every project of the commune finished by ``t``; there is no
    column for a year before its slowest project can finish, and none for a commune
    that is forbidden or has an impossible project.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    for c in np.flatnonzero(~build.sched & build.has_projects).tolist():
        ps = [int(p) for p in inst.projects_of[c]]
        if c in build.forbid_c or any(p in build.impossible for p in ps):
            continue
        for t in range(inst.n_years):
            if any(build.done_const.get((p, t), 0.0) == 0.0 and not build.done_by.get((p, t)) for p in ps):
                continue
            v = b.col(f"z_{c}_{t}")
            m.z[(c, t)] = v
            for p in ps:
                if build.done_const.get((p, t), 0.0) >= 1.0:
                    continue
                xs = build.done_by[(p, t)]
                b.row([v, *xs], [1.0] + [-1.0] * len(xs), -math.inf, 0.0)


def define_dominance(build: ModelBuild) -> None:
    """With carry-over and no absorption limit, no project finishes before its commune does.

    Spending later never hurts then, so every project may finish exactly when its
    commune does (or at the horizon): this removes schedules that differ only in when
    money sits idle, and speeds up every stage.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, m = build.inst, build.m
    if not (inst.carry_over and inst.absorption is None):
        return
    for p in m.x:
        c = int(inst.proj_commune[p])
        if inst.at_risk[c]:
            continue  # finishing before the review keeps a recognition: earlier can be better
        for t in range(inst.n_years - 1):
            done = build.done_by.get((p, t))
            if not done:
                continue
            z = m.z.get((c, t))
            if z is None:
                build.b.row(list(done), 1.0, -math.inf, 0.0)
            else:
                build.b.row([*done, z], [1.0] * len(done) + [-1.0], -math.inf, 0.0)


def define_completion_years(build: ModelBuild) -> None:
    """Communes in y/q form: ``y[c, t]`` per completion year, ``q[p]`` per project funded alone.

    A project funded without its commune completing finishes at the horizon; a commune
    completes in one year at most, and then funds all its projects (``q[p] + Σ_t y[c, t]
    <= 1``).

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    n_c, n_t = inst.n_communes, inst.n_years
    sched_ps = np.flatnonzero(build.sched[inst.proj_commune])
    if not len(sched_ps):
        return
    pc = inst.proj_commune[sched_ps]
    max_lead = np.zeros(n_c, dtype=int)
    np.maximum.at(max_lead, pc, inst.proj_lead[sched_ps])
    sched_c = np.flatnonzero(build.sched)
    first = max_lead[sched_c] - 1  # first year index in which the commune can complete
    yc = np.repeat(sched_c, n_t - first)
    yt = np.concatenate([np.arange(f, n_t) for f in first])
    ycols = np.array(b.cols([f"y_{c}_{t}" for c, t in zip(yc.tolist(), yt.tolist(), strict=True)]))
    ycol = np.full((n_c, n_t), -1, dtype=np.int64)
    ycol[yc, yt] = ycols
    for c, t, v in zip(yc.tolist(), yt.tolist(), ycols.tolist(), strict=True):
        m.y.setdefault(c, []).append((t, v))
    qcols = np.array(b.cols([f"q_{p}" for p in sched_ps.tolist()]))
    m.q.update(zip(sched_ps.tolist(), qcols.tolist(), strict=True))
    # q[p] + Σ_t y[c, t] <= 1
    y_of_p = ycol[pc]
    rr, tt = np.nonzero(y_of_p >= 0)
    n_sp = len(sched_ps)
    b.rows(np.concatenate([np.arange(n_sp), rr]), np.concatenate([qcols, y_of_p[rr, tt]]),
           np.ones(n_sp + len(rr)), np.full(n_sp, -math.inf), np.ones(n_sp))
    _completion_spending(build, sched_ps, ycol, qcols)


def _completion_spending(build: ModelBuild, sched_ps: np.ndarray, ycol: np.ndarray, qcols: np.ndarray) -> None:
    """Completing in year ``e``, project ``p`` spends in ``e - lead + 1 … e``; funded alone, at the end."""
    inst = build.inst
    pc = inst.proj_commune[sched_ps]
    lead = inst.proj_lead[sched_ps]
    share = MONEY * inst.proj_cost[sched_ps] / lead
    cls = inst.proj_class[sched_ps]
    for e in range(inst.n_years):
        has = ycol[pc, e] >= 0
        for k in range(int(lead.max())):
            sel = has & (k < lead)
            build.spend.block(cls[sel], pc[sel], e - k, ycol[pc[sel], e], share[sel])
    for k in range(int(lead.max())):
        sel = k < lead
        build.spend.block(cls[sel], pc[sel], inst.n_years - 1 - k, qcols[sel], share[sel])


def define_recognition(build: ModelBuild) -> None:
    """Communes recognised at the start that the revocation rule can take away (``rk``).

    For each such commune (:attr:`Instance.at_risk`): ``keep`` (its recognition survives
    the first review), through ``few`` (fewer unmet criteria by the review's year than
    revoke with a key one) or ``keys`` (fewer than revoke alone, and every key criterion
    met); ``counted`` (recognised at the horizon: kept, or meeting every criterion then,
    which recognises it anew). On paper criteria are only gained, so the first review
    decides.

    Parameters
    ----------
    build
        The model being built.
    """
    inst, b, m = build.inst, build.b, build.m
    rec = inst.recognition
    risk = np.flatnonzero(inst.at_risk).tolist()
    if rec is None or not risk:
        return
    r, n_k, inf = rec.review_from, len(inst.criteria), math.inf
    for c in risk:
        ps = [int(p) for p in inst.projects_of[c]]
        met_cols = [v for p in ps for v in build.done_by.get((p, r), [])]
        met_k = float(inst.base_criteria_met[c]) + sum(build.done_const.get((p, r), 0.0) for p in ps)
        keep, few, keys, counted = b.cols([f"rk_{c}_{part}" for part in ("keep", "few", "keys", "counted")])
        m.rk.update({(c, "keep"): keep, (c, "few"): few, (c, "keys"): keys, (c, "counted"): counted})
        b.row([keep, few, keys], [1.0, -1.0, -1.0], -inf, 0.0)
        for way, unmet in ((few, rec.unmet_with_key), (keys, rec.unmet_alone)):
            # criteria met by the review ≥ (n − unmet + 1) · way
            b.row(met_cols + [way], [1.0] * len(met_cols) + [-float(n_k - unmet + 1)], -met_k, inf)
        for p in ps:
            if rec.key[inst.proj_criterion[p]] and build.done_const.get((p, r), 0.0) < 1.0:
                done = build.done_by.get((p, r), [])
                b.row(done + [keys], [1.0] * len(done) + [-1.0], 0.0, inf)
        ze, ze_k = m._z_end_cols(c)
        b.row([counted, keep, *ze], [1.0, -1.0] + [-1.0] * len(ze), -inf, ze_k)


def define_tiers(build: ModelBuild) -> None:
    """Start-year binaries of each commune's advanced (``adv``) and top-tier (``mod``) upgrades.

    Only the tiers the criteria set issues: under Decision 51 there is no advanced
    upgrade, and the top tier (the modern commune) nests directly on NTM. An upgrade
    needs the commune NTM at the horizon (the top tier: the tier it requires) and
    finishes no earlier than the year the commune reaches NTM (the top tier's, no earlier
    than the advanced one: :func:`define_tier_order`). Its lead time is stretched to the
    absorption limit, as a criterion project's is.

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.need_tiers:
        return
    inst, b, m = build.inst, build.b, build.m
    for c in range(inst.n_communes):
        if c in build.forbid_c:
            continue
        ze, ze_k = m._z_end_cols(c)
        if not ze and ze_k == 0.0:
            continue
        if inst.has_advanced_tier:
            _tier_upgrade(build, c, "adv", inst.base_adv, inst.adv_cost, inst.adv_lead)
        _tier_upgrade(build, c, "mod", inst.base_model, inst.model_cost, inst.model_lead)
        if c in m.adv:
            cols = [v for _, v in m.adv[c]]
            b.row(cols + ze, [1.0] * len(cols) + [-1.0] * len(ze), -math.inf, ze_k)
        if c in m.mod:
            cols = [v for _, v in m.mod[c]]
            req, req_k = m._model_prereq_cols(c)
            b.row(cols + req, [1.0] * len(cols) + [-1.0] * len(req), -math.inf, req_k)


def _tier_upgrade(build: ModelBuild, c: int, kind: str, base: np.ndarray, cost: np.ndarray,
                  leads: np.ndarray) -> None:
    """Columns of one upgrade (block ``kind``) of commune ``c``, with its money and NTM-year rows.

    ``leads`` are the upgrade's years per commune, stretched to the absorption limit.
    """
    inst, b = build.inst, build.b
    if base[c]:
        return
    lead = int(leads[c])
    starts = [s for s in build.years if s + lead - 1 <= inst.horizon_end]
    if build.late[c]:
        starts = starts[-1:]  # spending later never hurts: start as late as possible
    if not starts:
        return
    cols = b.cols([f"{kind}_{c}_{s}" for s in starts])
    build.m.blocks[kind].cols[c] = list(zip(starts, cols, strict=True))
    for s, v in zip(starts, cols, strict=True):
        build.spend.add(int(inst.commune_upgrade_class[c]), c,
                        [inst.year_index(y) for y in inst.spend_years(s, lead)], v, MONEY * float(cost[c]) / lead)
        # an upgrade finishes no earlier than the year the commune reaches NTM
        by, by_k = build.m._ntm_by_cols(c, inst.year_index(s + lead - 1))
        if by_k < 1.0:
            b.row([v, *by], [1.0] + [-1.0] * len(by), -math.inf, by_k)


def define_tier_order(build: ModelBuild) -> None:
    """A top-tier upgrade finishes no earlier than its commune's advanced upgrade (tiers nest in time).

    A row per top-tier start whose finishing year some advanced start would overrun:
    ``mod[c, s] <= Σ adv[c, s']`` over the advanced starts finished by then (the other
    starts are covered by ``Σ mod <= Σ adv``). Communes whose upgrades all start in the
    last year need none. The rows come after the targets'; :func:`ntm_sim.optimize.solve`
    first solves without them and adds them only when its plan breaks the order.

    Parameters
    ----------
    build
        The model being built (after :func:`define_tiers`).
    """
    inst, m = build.inst, build.m
    if not (build.tier_order and build.need_tiers and inst.has_advanced_tier):
        return
    for c, mods in m.mod.items():
        if inst.base_adv[c] or c not in m.adv:
            continue  # advanced at the start, or never: Σ mod <= Σ adv says all
        adv_end = [(s + int(inst.adv_lead[c]) - 1, v) for s, v in m.adv[c]]
        last = max(e for e, _ in adv_end)
        for s, v in mods:
            done = s + int(inst.model_lead[c]) - 1
            if done < last:
                early = [a for e, a in adv_end if e <= done]
                build.b.row([v, *early], [1.0] + [-1.0] * len(early), -math.inf, 0.0)


def define_district_units(build: ModelBuild) -> None:
    """District units ``w[d]``, district NTM projects ``dx`` and advanced-district projects ``dax``.

    A district unit needs every member commune NTM, enough advanced communes, and its
    own NTM project unless already recognised; an advanced district needs the unit and
    enough advanced and model communes. Only the district tiers the criteria set issues
    (Decision 51: none). Whatever asks for district units (the stage, a target, a
    district rule needing advanced communes) also asks for the tier upgrades they need.

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.need_districts:
        return
    for d, members in enumerate(build.inst.district_members):
        if len(members) == 0:
            continue
        _district_unit(build, d, [int(c) for c in members])


def _district_unit(build: ModelBuild, d: int, members: list[int]) -> None:
    """Columns and rows of district ``d``."""
    inst, b, m = build.inst, build.b, build.m
    inf = math.inf
    if inst.district_recognised[d]:
        _recognised_district(build, d, members)
        return
    zes = [m._z_end_cols(c) for c in members]
    w = b.col(f"w_{d}", 0.0, 0.0 if any(not ze and k == 0.0 for ze, k in zes) else 1.0)
    m.w[d] = w
    for ze, _ in zes:
        if ze:
            b.row([w, *ze], [1.0] + [-1.0] * len(ze), -inf, 0.0)
    adv, adv_k = total_of([m._adv_cols(c) for c in members])
    b.row(adv + [w], [1.0] * len(adv) + [-float(inst.district_need_adv[d])], -adv_k, inf)
    if not inst.district_recognised[d]:
        m.dx[d] = dx = _district_project(build, d, "dx", MONEY * float(inst.district_cost[d]))
        b.row([v for _, v in dx] + [w], [1.0] * len(dx) + [-1.0], 0.0, 0.0)
    if not inst.has_advanced_districts:
        return
    # advanced district
    m.dax[d] = wa = _district_project(build, d, "dax", MONEY * float(inst.district_adv_cost[d]))
    wa_cols = [v for _, v in wa]
    b.row(wa_cols + [w], [1.0] * len(wa_cols) + [-1.0], -inf, 0.0)
    b.row(adv + wa_cols, [1.0] * len(adv) + [-float(inst.district_need_adv2[d])] * len(wa_cols), -adv_k, inf)
    mod, mod_k = total_of([m._model_cols(c) for c in members])
    b.row(mod + wa_cols, [1.0] * len(mod) + [-float(inst.district_need_model2[d])] * len(wa_cols), -mod_k, inf)


def _recognised_district(build: ModelBuild, d: int, members: list[int]) -> None:
    """A recognised district unit: kept unless the district rule revokes it; its advanced-district project.

    The unit ``w[d]`` is 1 only if fewer of its communes than ``Recognition.district_limit``
    lose their recognition at the review.
    """
    inst, b, m = build.inst, build.b, build.m
    inf = math.inf
    w = m.w[d] = b.col(f"w_{d}")
    keeps = [m.rk[(c, "keep")] for c in members if (c, "keep") in m.rk]
    if keeps and inst.recognition is not None:
        # revoked members (len(keeps) − Σ keep) ≤ limit − 1 when the unit counts
        b.row(keeps + [w], [-1.0] * len(keeps) + [float(len(keeps))], -inf,
              float(inst.recognition.district_limit[d] - 1))
    m.dax[d] = wa = _district_project(build, d, "dax", MONEY * float(inst.district_adv_cost[d]))
    wa_cols = [v for _, v in wa]
    b.row(wa_cols + [w], [1.0] * len(wa_cols) + [-1.0], -inf, 0.0)
    adv, adv_k = total_of([m._adv_cols(c) for c in members])
    b.row(adv + wa_cols, [1.0] * len(adv) + [-float(inst.district_need_adv2[d])] * len(wa_cols), -adv_k, inf)
    mod, mod_k = total_of([m._model_cols(c) for c in members])
    b.row(mod + wa_cols, [1.0] * len(mod) + [-float(inst.district_need_model2[d])] * len(wa_cols), -mod_k, inf)


def _district_project(build: ModelBuild, d: int, prefix: str, cost: float) -> list[tuple[int, int]]:
    """Start-year options of one district project (last year only when ``late_districts``)."""
    inst = build.inst
    d_years = build.years[-1:] if build.m.late_districts else build.years
    cols = build.b.cols([f"{prefix}_{d}_{s}" for s in d_years])
    for s, v in zip(d_years, cols, strict=True):
        build.spend.add(int(inst.district_upgrade_class[d]), -1, [inst.year_index(s)], v, cost)
    build.b.row(cols, 1.0, -math.inf, 1.0)
    return list(zip(d_years, cols, strict=True))


def define_villages(build: ModelBuild) -> None:
    """New NTM villages ``vn[c, t]`` and model villages ``vm[c, t]`` (when a village target is enforced).

    Parameters
    ----------
    build
        The model being built.
    """
    if not build.villages_on:
        return
    for c in range(build.inst.n_communes):
        if c not in build.forbid_c:
            _commune_villages(build, c)


def _commune_villages(build: ModelBuild, c: int) -> None:
    """Village columns of commune ``c``: no more new villages than it has, model ones among NTM ones."""
    inst, b, m = build.inst, build.b, build.m
    room = int(inst.villages[c] - inst.villages_ntm[c])
    model_room0 = int(inst.villages_ntm[c] - inst.villages_model[c])
    if room <= 0 and model_room0 <= 0:
        return
    vns: list[int] = []
    vms: list[int] = []
    unit_class = int(inst.commune_upgrade_class[c])
    for t in ([inst.n_years - 1] if build.late[c] else range(inst.n_years)):  # late communes: all in the last year
        vn = b.col(f"vn_{c}_{t}", 0.0, max(room, 0))
        vm = b.col(f"vm_{c}_{t}", 0.0, max(room + model_room0, 0))
        m.vn[(c, t)], m.vm[(c, t)] = vn, vm
        vns.append(vn)
        vms.append(vm)
        build.spend.add(unit_class, c, [t], vn, MONEY * float(inst.village_ntm_cost[c]))
        build.spend.add(unit_class, c, [t], vm, MONEY * float(inst.village_model_cost[c]))
        b.row(vms + vns, [1.0] * len(vms) + [-1.0] * len(vns), -math.inf, model_room0)
    b.row(vns, 1.0, -math.inf, room)
