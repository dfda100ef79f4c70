"""An independent, slow reference for the Monte Carlo engine (tests and benchmarks only).

Plain Python: a loop over draws, years, items, communes and criteria, with plain floats
and ints. It takes the inputs ``Engine(inst, dec, settings).run(params, rnd)`` takes —
the instance, the plan's decisions, the uncertainty settings, one value per draw of each
experiment parameter and the block's random numbers, read element by element — and
re-derives every rule from the documented semantics (the module docstring of
``ntm_sim.simulate.engine``, the docstrings of ``UncertaintySettings`` and the
conventions of ``ntm_sim.model.instance``). It imports nothing from the engine.

The rules, as implemented here
------------------------------
Cost
    An item (criterion project, tier upgrade, villages of a commune and year, district
    project) costs ``median × cost / lead × exp(σ_kind · z)`` per year it is paid, with
    ``z = √ρ · z_district,year + √(1 − ρ) · z_own``, the year being the one it starts in
    (the first horizon year for items under way before the horizon); its yearly price is
    fixed when it starts.
Money, each year
    Each source disburses ``clip(mean · kind factor · year factor + sd · ε, 0, 1)`` of
    its envelope plus what it still owed; the rest stays owed. In a year with disasters,
    each flexible source (one paying some commune's tiers) first loses
    ``min(1, 2 · money share · Σ_d intensity_d · communes_d / communes)`` of its money in
    hand to recovery. Disbursed money plus the source money carried over
    pays each class's planned flow, scaled down when the source is short; the source
    money beyond the plan stays with the source. A class given more than its demand
    releases the excess to its sources in proportion to what each gave. Classes whose
    demand exceeds their money then take the sources' unused money, classes with fewer
    eligible sources first, and within a class the sources eligible for the fewest
    classes first. Money a class does not use goes back to its sources the same way;
    with carry-over the sources keep it, without it lapses (money still owed does not).
    Unspent money is every envelope of the horizon minus what was spent.
Payment, each year
    The plan's items already under way are paid first, then its items due to start
    (planned start reached, able to finish by the horizon). In each pass every class
    pays its items in one order, whatever the plan: units closest to completion first.
    A commune's distance is what its unfinished listed criterion projects (scheduled or
    on the reserve list) still cost — this year's price for one not started, its fixed
    price for one under way, times the years still unpaid — plus 10⁹ for each unmet
    criterion on no list. Units are ranked by criterion projects of a commune (its
    distance), then its upgrades and villages (10¹³ + distance), then a district's
    projects (2·10¹³ + the sum of its communes' distances), ties by unit number
    (communes, then communes' upgrades, then districts); items of a unit by project key.
    The first item that does not fit stops the class for that pass. Reserve-list items
    come after the plan's passes: those under way, then new ones able to finish, paid
    from the sources' spare money (what a source has left minus the largest run of the
    plan's later planned spending beyond its envelopes, with carry-over; all of it
    without), drawn as a shortfall is drawn; with carry-over the spare money of all
    sources together is scaled down to the money in hand beyond what the plan's
    unfinished items still need at their prices. An item is finished when it has been paid
    for ``lead`` years. Items that started before the horizon (re-planning) are under
    way from the first year, with the years before the horizon already paid.
Criteria
    A finished criterion project meets its criterion at the end of its last paid year,
    plus ``n`` extra years with probability ``qⁿ`` (``q`` = delay probability × the draw's
    multiplier), or never (failure). A met criterion falls back after a geometric
    number of years (slip probability × multiplier) and is regained after another
    (recovery probability). Failure and slip probabilities of the threshold criteria are
    multiplied by ``1 + zone3 factor · Zone III + gap factor · share missed at the start``.
    A province-wide disaster happens in year t when its uniform is below the year's rate;
    it hits district d when d's uniform u is below the district share, at intensity
    ``1 − u / share``. An infrastructure criterion is lost in the first disaster that hits
    its district after it is met, if its damage uniform is below ``damage · 2 · intensity``,
    until rebuilt.
Outcomes
    A commune meets the standard at the end of a year when all its criteria are met then
    (``meeting_by_year``); it is *counted* NTM (``ntm_by_year``, the per-commune counts) as
    the scenario's ``targets.communes_count`` says: recognised (default) or meeting. Before the
    year its criteria set comes into force (``Recognition.assessed_from``), a commune
    recognised at the start counts every criterion met. Recognition: recognised at the
    start, or NTM at the end of any year, makes a commune recognised; from the first
    review year on, a recognised commune not NTM at the end of year t loses it when the
    revocation rule holds it then (at least ``unmet_alone`` criteria unmet, or at least
    ``unmet_with_key`` with a key criterion among them) and its review uniform of year t
    is below the revocation probability. A tier recognised at the start counts (each
    year) while the commune is recognised; a new one from the year its upgrade is paid
    for while the commune is NTM (model: advanced too). A recognised district unit counts
    while fewer of its communes than ``district_limit`` have lost their recognition; a new
    one needs every commune NTM at the horizon, enough advanced communes and its district
    criteria. Villages count at the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import Decisions
from ntm_sim.model.uncertainty import UncertaintySettings

FAR = 10**9  # a year index beyond any horizon ("never")
MONEY_TOL = 1e-2  # million VND: the engine's allowance for solver round-off on planned flows
DELAY_CAP = 0.95  # the engine caps the yearly delay probability (not in the docstrings)
SLIP_CAP = 0.9    # … and the yearly slip probability
UPGRADE_KINDS = ("advanced", "model", "village_ntm", "village_model", "district", "district_advanced")


@dataclass
class Item:
    """One item of the plan (scheduled, or on its reserve list)."""

    kind: str
    commune: int          # -1 for district items
    district: int
    criterion: int        # -1 unless a criterion project
    key: int              # column of the potential-project random numbers
    cls: int
    cost: float
    lead: int
    start: int            # planned start year (unused for reserve items)
    quantity: int
    overrun_kind: str
    reserve: bool = False
    unit: int = 0         # whose distance to completion ranks it


@dataclass
class Events:
    """How often each random event happened (to check that a test exercises them)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("short_money", "top_up", "class_stopped", "slipped_start", "never_started", "delay", "failure", "slip",
         "disaster_loss", "lapsed_money", "backlog"), 0))

    def add(self, name: str, n: int = 1) -> None:
        """Count an event."""
        self.counts[name] += n


def key_layout(inst: Instance) -> dict[str, int]:
    """Offsets of the potential-project random numbers (projects, then per commune, per district)."""
    n_p, n_c, n_d = inst.n_projects, inst.n_communes, len(inst.districts)
    return {"criterion": 0, "advanced": n_p, "model": n_p + n_c, "village_ntm": n_p + 2 * n_c,
            "village_model": n_p + 3 * n_c, "district": n_p + 4 * n_c, "district_advanced": n_p + 4 * n_c + n_d}


def plan_items(inst: Instance, dec: Decisions) -> list[Item]:
    """The plan's items: criterion projects (scheduled or on the reserve list), then the rest.

    The unit of a criterion project is its commune ``c``; of a commune's upgrade or
    villages ``n_communes + c``; of a district project ``2 · n_communes + d``.
    """
    offsets = key_layout(inst)
    crit = inst.dataset.criteria
    n_c = inst.n_communes
    reserve = [bool(x) for x in dec.reserve] if dec.reserve is not None else [False] * inst.n_projects
    items: list[Item] = []
    for p in range(inst.n_projects):
        start = int(dec.proj_start[p])
        if start < 0 and not reserve[p]:
            continue
        c, k = int(inst.proj_commune[p]), int(inst.proj_criterion[p])
        items.append(Item("criterion", c, int(inst.commune_district[c]), k, p, int(inst.proj_class[p]),
                          float(inst.proj_cost[p]), int(inst.proj_lead[p]), start, 1, crit[inst.criteria[k]].kind,
                          reserve=start < 0, unit=c))
    # the set's tiers above NTM: an advanced tier and a top tier on it, or a top tier alone (Decision 51)
    above = crit.tiers[1:]
    tier_of = {"advanced": above[0] if len(above) == 2 else None, "model": above[-1] if above else None}
    absorption = inst.scenario.budget.absorption_limit_mvnd
    for kind in UPGRADE_KINDS:
        if kind in ("advanced", "model"):
            starts = dec.adv_start if kind == "advanced" else dec.model_start
            costs = inst.adv_cost if kind == "advanced" else inst.model_cost
            tier = tier_of[kind]
            for c in range(n_c):
                if starts[c] >= 0:
                    # a year's share above the commune's absorption limit: built over more years
                    lead = tier.lead_time_years if tier is not None else 1
                    if absorption is not None:
                        lead = max(lead, math.ceil(float(costs[c]) / absorption - 1e-9))
                    items.append(Item(kind, c, int(inst.commune_district[c]), -1, offsets[kind] + c,
                                      int(inst.commune_upgrade_class[c]), float(costs[c]), lead, int(starts[c]),
                                      1, "upgrade", unit=n_c + c))
        elif kind in ("village_ntm", "village_model"):
            counts = dec.village_ntm if kind == "village_ntm" else dec.village_model
            unit = inst.village_ntm_cost if kind == "village_ntm" else inst.village_model_cost
            for c in range(n_c):
                for t in range(inst.n_years):
                    q = int(counts[c][t])
                    if q > 0:
                        items.append(Item(kind, c, int(inst.commune_district[c]), -1, offsets[kind] + c,
                                          int(inst.commune_upgrade_class[c]), float(unit[c] * q), 1,
                                          int(inst.years[t]), q, "upgrade", unit=n_c + c))
        else:
            starts = dec.district_start if kind == "district" else dec.district_adv_start
            costs = inst.district_cost if kind == "district" else inst.district_adv_cost
            for d in range(len(inst.districts)):
                if starts[d] >= 0:
                    items.append(Item(kind, -1, d, -1, offsets[kind] + d, int(inst.district_upgrade_class[d]),
                                      float(costs[d]), 1, int(starts[d]), 1, "upgrade", unit=2 * n_c + d))
    return items


def waiting_years(e: float, p: float) -> int:
    """Years until an event of yearly probability ``p`` first happens (≥ 1), from ``e = −log u``.

    The event has not happened by year ``n`` with probability ``(1 − p)ⁿ``, that is when
    ``e ≥ n · (−log(1 − p))``.
    """
    if p <= 0.0:
        return FAR
    if p >= 1.0:
        return 1
    rate = -math.log1p(-p)
    if e >= 100 * rate:  # far beyond any horizon the engine handles
        return FAR
    # the first n ≥ 1 with e < n · rate, counted up from just below the quotient (n · rate rises with n,
    # so no smaller n qualifies): the same n as counting from 1, without a hundred steps for a rare event
    n = max(1, int(e / rate) - 1)
    while n > 1 and e < (n - 1) * rate:
        n -= 1
    while e >= n * rate:
        n += 1
    return n


def extra_years(u: float, q: float) -> int:
    """Extra years late: at least ``n`` with probability ``qⁿ`` (``u`` uniform in (0, 1])."""
    if q <= 0.0:
        return 0
    n = 0
    while u <= q ** (n + 1):
        n += 1
        if n > 100:
            return FAR
    return n


def per_criterion(table: dict[str, float], inst: Instance) -> list[float]:
    """A kind-or-criterion table as one value per criterion (the criterion id wins)."""
    crit = inst.dataset.criteria
    return [float(table[k]) if k in table else float(table.get(crit[k].kind, 0.0)) for k in inst.criteria]


def recurrent_or_investment(source_id: str, name_vi: str = "", name_en: str = "") -> str:
    """A source's kind as the settings' docstring says it: recurrent (sự nghiệp) money, or investment."""
    import unicodedata

    text = unicodedata.normalize("NFC", f"{name_vi} {name_en}").casefold()
    return "recurrent" if "sự nghiệp" in text or "recurrent" in text or source_id.endswith("_sn") else "investment"


def reference_run(inst: Instance, dec: Decisions, settings: UncertaintySettings, params: dict[str, np.ndarray],
                  rnd: Any, events: Events | None = None) -> dict[str, np.ndarray]:
    """Simulate every draw of a block with plain loops; outcomes named like the engine's.

    ``rnd`` is the engine's ``BlockRandoms`` of the block, read as plain arrays.

    Returns per-draw arrays (``ntm_by_year`` (B, T), ``district_units`` (B, D), …) and
    ``commune_ntm_count`` (communes × years, summed over draws).
    """
    events = events or Events()
    items = plan_items(inst, dec)
    if dec.flows is None:  # the plan's money by source, class and year is part of the plan, not derived here
        raise ValueError("the reference takes the plan's flows as given (Decisions.flows)")
    flows = dec.flows
    n_f, n_g, n_t = len(inst.sources), len(inst.classes), inst.n_years
    n_c, n_k, n_d = inst.n_communes, len(inst.criteria), len(inst.districts)
    t0, end = int(inst.years[0]), int(inst.years[-1])
    crit = inst.dataset.criteria
    infra = [k for k in range(n_k) if crit[inst.criteria[k]].kind == "infrastructure"]
    budget = inst.budget.tolist()
    flow = flows.tolist()
    classes = [list(cls) for cls in inst.classes]
    class_order = sorted(range(n_g), key=lambda g: len(classes[g]))
    by_class = [[i for i, it in enumerate(items) if it.cls == g] for g in range(n_g)]
    delay_p = per_criterion(settings.delay_probability, inst)
    fail_p = per_criterion(settings.failure_probability, inst)
    slip_p = per_criterion(settings.slip_probability, inst)
    sigma = {kind: float(settings.overrun_sigma.get(kind, 0.0)) for kind in
             ("infrastructure", "development", "governance", "upgrade")}
    rho = settings.overrun_district_correlation
    base_met = inst.base_met.tolist()
    ed = [bool(x) for x in inst.especially_difficult]
    threshold = [k in settings.threshold_criteria for k in inst.criteria]

    def risk(c: int, k: int) -> float:
        if not threshold[k]:
            return 1.0
        missed = 1.0 - sum(base_met[c]) / n_k
        return 1.0 + settings.threshold_zone3_factor * ed[c] + settings.threshold_gap_factor * missed

    names = inst.dataset.sources
    factor = [[settings.disbursement_kind_factor.get(recurrent_or_investment(
        sid, *(str(names.loc[sid, col]) if sid in names.index else "" for col in ("name_vi", "name_en"))), 1.0)
        * settings.disbursement_year_factor.get(t0 + t, 1.0) for t in range(n_t)] for sid in inst.sources]
    flexible = set()
    for c in range(n_c):
        flexible |= set(classes[int(inst.commune_upgrade_class[c])])
    flexible.discard(inst.gap_source)
    district_of = [int(d) for d in inst.commune_district]
    members = [[c for c in range(n_c) if district_of[c] == d] for d in range(n_d)]
    floor = inst.targets.min_criteria
    # a commune's unmet criteria on no list of the plan
    listed = {it.key for it in items if it.kind == "criterion"}
    outside = [0] * n_c
    for p in range(inst.n_projects):
        if p not in listed:
            outside[int(inst.proj_commune[p])] += 1
    # money each source keeps after year t for the plan's later years (with carry-over)
    keep = [[0.0] * n_t for _ in range(n_f)]
    if inst.carry_over:
        for f in range(n_f):
            excess = [sum(flow[f][g][t] for g in range(n_g)) - budget[f][t] for t in range(n_t)]
            for t in range(n_t - 1):
                run, worst = 0.0, 0.0
                for tau in range(t + 1, n_t):
                    run += excess[tau]
                    worst = max(worst, run)
                keep[f][t] = worst
    # the random numbers, element by element
    z_dist, z_own = rnd.overrun_district.tolist(), rnd.overrun_own.tolist()
    eps = rnd.disbursement.tolist()
    u_delay, u_fail = rnd.delay.tolist(), rnd.failure.tolist()
    e_slip, e_recover = rnd.slip.tolist(), rnd.recover.tolist()
    u_hit, u_damage, e_rebuild = rnd.hit.tolist(), rnd.damage.tolist(), rnd.rebuild.tolist()
    u_event = rnd.event.tolist()
    u_revoke = rnd.revoke.tolist()
    par = {name: [float(x) for x in params[name]] for name in settings.PARAMETERS}
    n_b = len(z_own)

    out: dict[str, list] = {name: [] for name in (
        "ntm_by_year", "advanced", "model", "district_units", "district_advanced", "villages_ntm", "villages_model",
        "avg_criteria", "min_criteria", "below_floor", "criterion_communes", "spent", "unspent",
        "slipped_projects", "unfinished_projects", "reserve_funded", "recovery", "recognised_by_year",
        "meeting_by_year", "criteria_by_year", "advanced_by_year", "advanced_criteria", "start_recognised")}
    rec = inst.recognition
    recognised_start = [bool(x) for x in inst.recognised]
    commune_count = [[0] * n_t for _ in range(n_c)]

    for b in range(n_b):
        median, d_mean = par["overrun_median"][b], par["disbursement_mean"][b]
        # ----- disasters: each district's intensity per year (0: not hit)
        share_d = settings.disaster_district_share
        intensity = [[0.0] * n_t for _ in range(n_d)]
        for t in range(n_t):
            rate_t = settings.disaster_years.get(t0 + t, par["disaster_rate"][b])
            if u_event[b][t] < rate_t:
                for d in range(n_d):
                    if u_hit[b][d][t] < share_d:
                        intensity[d][t] = 1.0 - u_hit[b][d][t] / share_d
        take = [min(1.0, 2.0 * settings.disaster_money_share
                    * sum(intensity[d][t] * len(members[d]) for d in range(n_d)) / n_c) for t in range(n_t)]
        recovery = 0.0
        # ----- what each item costs per year if it starts in year t (fixed when it starts)
        def price(i: int, t: int, b: int = b, median: float = median) -> float:
            it = items[i]
            z = math.sqrt(rho) * z_dist[b][it.district][t] + math.sqrt(1 - rho) * z_own[b][it.key]
            return median * (it.cost / it.lead) * math.exp(sigma[it.overrun_kind] * z)

        # ----- money and payments, year by year
        started = [it.start < t0 and not it.reserve for it in items]
        annual = [price(i, 0) if started[i] else 0.0 for i in range(len(items))]
        start_t: list[int | None] = [it.start - t0 if started[i] else None for i, it in enumerate(items)]
        paid_years = [min(it.lead, t0 - it.start) if started[i] else 0 for i, it in enumerate(items)]
        done_t: list[int | None] = [it.start + it.lead - 1 - t0 if started[i] and it.start + it.lead - 1 < t0
                                    else None for i, it in enumerate(items)]
        owed = [0.0] * n_f
        carry_src = [0.0] * n_f
        spent = 0.0

        def give_back(gave: list[list[float]], src_left: list[float], g: int, amount: float) -> None:
            total = sum(gave[f][g] for f in range(n_f))
            if total <= 0:
                return
            parts = [gave[f][g] / total * amount for f in range(n_f)]
            for f in range(n_f):
                gave[f][g] -= parts[f]
                src_left[f] += parts[f]

        def draw(gave: list[list[float]], pool: list[float], demand: list[float]) -> None:
            """Classes with fewer sources first take what they lack from the pool, restricted sources first."""
            for g in class_order:
                short = max(0.0, demand[g] - sum(gave[f][g] for f in range(n_f)))
                if short > 0:
                    events.add("short_money")
                for f in sorted(classes[g], key=lambda f: (sum(f in c for c in classes), f)):
                    give = min(short, pool[f])
                    if give > 0:
                        events.add("top_up")
                    gave[f][g] += give
                    pool[f] -= give
                    short -= give

        for t in range(n_t):
            year = t0 + t
            cost = [annual[i] if started[i] else price(i, t) for i in range(len(items))]
            # ranking of units: distance to completion at the start of the year
            distance = [0.0] * n_c
            for i, it in enumerate(items):
                if it.kind == "criterion":
                    distance[it.commune] += cost[i] * (it.lead - paid_years[i])
            for c in range(n_c):
                distance[c] += 1e9 * outside[c]
            district_distance = [0.0] * n_d
            for c in range(n_c):
                district_distance[district_of[c]] += distance[c]
            unit_key = distance + [1e13 + x for x in distance] + [2e13 + x for x in district_distance]
            rank = {u: r for r, u in enumerate(sorted(range(len(unit_key)), key=lambda u: (unit_key[u], u)))}
            in_order = [sorted(by_class[g], key=lambda i: (rank[items[i].unit], items[i].key)) for g in range(n_g)]

            def pay(wanted: list[bool], money: list[float], used: list[float], paid_now: list[bool],
                    cost: list[float] = cost, in_order: list[list[int]] = in_order) -> None:
                for g in range(n_g):
                    room = money[g] - used[g]
                    total = 0.0
                    for i in in_order[g]:
                        if not wanted[i]:
                            continue
                        if total + cost[i] <= room * (1 + 1e-12) + MONEY_TOL:
                            total += cost[i]
                            paid_now[i] = True
                        else:
                            events.add("class_stopped")
                            break  # strict priority: the rest of the class waits a year
                    used[g] += total

            gave = [[0.0] * n_g for _ in range(n_f)]  # money from each source to each class
            src_left = []
            for f in range(n_f):
                share = min(1.0, max(0.0, d_mean * factor[f][t] + settings.disbursement_sd * eps[b][f][t]))
                due = owed[f] + budget[f][t]
                disbursed = due * share
                owed[f] = due - disbursed
                avail = carry_src[f] + disbursed
                if f in flexible:
                    recovery += take[t] * avail
                    avail -= take[t] * avail
                planned = sum(flow[f][g][t] for g in range(n_g))
                scale = min(1.0, avail / planned) if planned > 0 else 0.0
                for g in range(n_g):
                    gave[f][g] = scale * flow[f][g][t]
                src_left.append(avail - sum(gave[f]))
            under_way = [started[i] and paid_years[i] < it.lead for i, it in enumerate(items)]
            can_finish = [year + it.lead - 1 <= end for it in items]
            core_under = [under_way[i] and not it.reserve for i, it in enumerate(items)]
            due_new = [not started[i] and not it.reserve and it.start <= year and can_finish[i]
                       for i, it in enumerate(items)]
            demand = [sum(cost[i] for i in by_class[g] if core_under[i] or due_new[i]) for g in range(n_g)]
            # a class given more than it asks releases the rest to its sources
            for g in range(n_g):
                excess = sum(gave[f][g] for f in range(n_f)) - demand[g]
                if excess > 0:
                    give_back(gave, src_left, g, excess)
            # a class short of money takes what the sources have left
            draw(gave, src_left, demand)
            money = [sum(gave[f][g] for f in range(n_f)) for g in range(n_g)]
            used = [0.0] * n_g
            paid_now = [False] * len(items)
            pay(core_under, money, used, paid_now)
            pay(due_new, money, used, paid_now)
            for g in range(n_g):
                if money[g] - used[g] > 0:
                    give_back(gave, src_left, g, money[g] - used[g])
            # the reserve list, from money the plan's own projects will not ask for later
            spare = [max(0.0, src_left[f] - keep[f][t]) for f in range(n_f)]
            if inst.carry_over:
                later = sum(cost[i] * (it.lead - paid_years[i] - paid_now[i]) for i, it in enumerate(items)
                            if not it.reserve and paid_years[i] + paid_now[i] < it.lead)
                room = max(0.0, sum(src_left) - later)
                total = sum(spare)
                if total > room:
                    spare = [x * (room / total) for x in spare]
            for wanted in ([under_way[i] and it.reserve for i, it in enumerate(items)],
                           [not started[i] and it.reserve and can_finish[i] for i, it in enumerate(items)]):
                if not any(wanted):
                    continue
                need = [sum(cost[i] for i in by_class[g] if wanted[i]) for g in range(n_g)]
                gave_r = [[0.0] * n_g for _ in range(n_f)]
                pool = list(spare)
                draw(gave_r, pool, need)
                money_r = [sum(gave_r[f][g] for f in range(n_f)) for g in range(n_g)]
                used_r = [0.0] * n_g
                pay(wanted, money_r, used_r, paid_now)
                for g in range(n_g):
                    if money_r[g] - used_r[g] > 0:
                        give_back(gave_r, pool, g, money_r[g] - used_r[g])
                for f in range(n_f):
                    taken = sum(gave_r[f][g] for g in range(n_g))
                    src_left[f] -= taken
                    spare[f] -= taken
                for g in range(n_g):
                    used[g] += used_r[g]
            for i, it in enumerate(items):
                if not paid_now[i]:
                    continue
                if not started[i]:
                    started[i], start_t[i], annual[i] = True, t, cost[i]
                paid_years[i] += 1
                if paid_years[i] == it.lead:
                    done_t[i] = t
            spent += sum(used)
            if inst.carry_over:
                carry_src = src_left
            else:
                if sum(src_left) > 1e-9:
                    events.add("lapsed_money")
                carry_src = [0.0] * n_f
        if sum(owed) > 1e-9:
            events.add("backlog")
        unspent = sum(sum(row) for row in budget) - spent
        slipped = 0
        for i, it in enumerate(items):
            if it.reserve:
                continue
            if start_t[i] is None:
                slipped += 1
                events.add("never_started")
            elif start_t[i] > it.start - t0:
                slipped += 1
                events.add("slipped_start")
        unfinished = sum(1 for it, d in zip(items, done_t, strict=True) if d is None and not it.reserve)
        reserve_funded = sum(1 for it, d in zip(items, done_t, strict=True) if d is not None and it.reserve)

        # ----- when each criterion is met (year index; -1 before the horizon; FAR never)
        met = [[-1 if base_met[c][k] else FAR for k in range(n_k)] for c in range(n_c)]
        dm = par["delay_multiplier"][b]
        for i, it in enumerate(items):
            if it.kind != "criterion" or done_t[i] is None:
                continue
            p, c, k = it.key, it.commune, it.criterion
            if u_fail[b][p] < min(0.95, fail_p[k] * risk(c, k)):
                events.add("failure")
                continue
            late = extra_years(u_delay[b][p], min(DELAY_CAP, delay_p[k] * dm))
            if late:
                events.add("delay")
            met[c][k] = min(done_t[i] + late, FAR)
        # met at the end of year t: met by then, not slipped back, not lost to a disaster
        sm = par["slip_multiplier"][b]
        damage = par["disaster_damage"][b]
        ok = [[[False] * n_t for _ in range(n_k)] for _ in range(n_c)]
        for c in range(n_c):
            d = district_of[c]
            for k in range(n_k):
                m = met[c][k]
                if m >= FAR:
                    continue
                slip_at = m + waiting_years(e_slip[b][c][k], min(SLIP_CAP, slip_p[k] * risk(c, k) * sm))
                slip_end = slip_at + waiting_years(e_recover[b][c][k], settings.recovery_probability)
                lost_at, lost_end = FAR, FAR
                if k in infra:
                    j = infra.index(k)
                    hit = next((t for t in range(max(m + 1, 0), n_t) if intensity[d][t] > 0), None)
                    if hit is not None and u_damage[b][c][j] < min(1.0, damage * 2.0 * intensity[d][hit]):
                        lost_at = hit
                        lost_end = hit + waiting_years(e_rebuild[b][c][j], settings.disaster_recovery_probability)
                for t in range(n_t):
                    slipped_now = slip_at <= t < slip_end
                    lost_now = lost_at <= t < lost_end
                    ok[c][k][t] = m <= t and not slipped_now and not lost_now
                    if slipped_now:
                        events.add("slip")
                    if lost_now:
                        events.add("disaster_loss")

        # ----- outcomes
        last = n_t - 1
        assessed_from = rec.assessed_from if rec is not None else 0
        for c in range(n_c):
            if recognised_start[c]:
                for k in range(n_k):
                    for t in range(min(assessed_from, n_t)):
                        ok[c][k][t] = True
        ntm = [[all(ok[c][k][t] for k in range(n_k)) for t in range(n_t)] for c in range(n_c)]
        criteria = [[sum(1 for k in range(n_k) if ok[c][k][t]) for t in range(n_t)] for c in range(n_c)]
        ntm_end = [ntm[c][last] for c in range(n_c)]
        criteria_end = [criteria[c][last] for c in range(n_c)]
        # recognition, year by year
        recognised = list(recognised_start)
        revoked_ever = [False] * n_c
        rec_by_t = [[False] * n_t for _ in range(n_c)]
        p_revoke = settings.revocation_probability
        for t in range(n_t):
            for c in range(n_c):
                if ntm[c][t]:
                    recognised[c] = True
                elif recognised[c] and rec is not None and t >= rec.review_from:
                    unmet = [k for k in range(n_k) if not ok[c][k][t]]
                    holds = len(unmet) >= rec.unmet_alone or (
                        len(unmet) >= rec.unmet_with_key and any(rec.key[k] for k in unmet))
                    if holds and u_revoke[b][c][t] < p_revoke:
                        recognised[c] = False
                        revoked_ever[c] = True
                rec_by_t[c][t] = recognised[c]
        counted = rec_by_t if inst.targets.communes_count == "recognised" else ntm
        for c in range(n_c):
            for t in range(n_t):
                commune_count[c][t] += int(counted[c][t])

        def finished(kind: str, done: list[int | None] = done_t) -> list[Item]:
            return [it for it, d in zip(items, done, strict=True) if it.kind == kind and d is not None]

        adv_year: list[int | None] = [None] * n_c
        model_year: list[int | None] = [None] * n_c
        for i, it in enumerate(items):
            if it.kind in ("advanced", "model") and done_t[i] is not None:
                (adv_year if it.kind == "advanced" else model_year)[it.commune] = done_t[i]
        # tiers the criteria set issues: the top tier on the advanced one, or on NTM when there is none
        tiers = inst.dataset.criteria.tiers
        adv_t = [[len(tiers) == 3 and ((bool(inst.base_adv[c]) and rec_by_t[c][t])
                                       or (ntm[c][t] and adv_year[c] is not None and adv_year[c] <= t))
                  for t in range(n_t)] for c in range(n_c)]
        required = adv_t if len(tiers) == 3 else [[ntm[c][t] for t in range(n_t)] for c in range(n_c)]
        model_t = [[len(tiers) >= 2 and ((bool(inst.base_model[c]) and rec_by_t[c][t])
                                         or (required[c][t] and model_year[c] is not None and model_year[c] <= t))
                    for t in range(n_t)] for c in range(n_c)]
        advanced = [adv_t[c][last] for c in range(n_c)]
        model = [model_t[c][last] for c in range(n_c)]
        district_tiers = {t.id for t in inst.dataset.criteria.district_tiers}
        d_criteria = [bool(x) for x in inst.district_recognised]
        d_adv_project = [False] * n_d
        for it in finished("district"):
            d_criteria[it.district] = True
        for it in finished("district_advanced"):
            d_adv_project[it.district] = True
        units, units_adv = [], []
        for d in range(n_d):
            mem = members[d]
            n_adv = sum(1 for c in mem if advanced[c])
            n_mod = sum(1 for c in mem if model[c])
            kept = bool(inst.district_recognised[d]) and sum(1 for c in mem if revoked_ever[c]) < (
                rec.district_limit[d] if rec is not None else len(mem) + 1)
            unit = "ntm" in district_tiers and bool(mem) and (
                kept or (all(ntm_end[c] for c in mem) and n_adv >= inst.district_need_adv[d] and d_criteria[d]))
            units.append(unit)
            units_adv.append(unit and "advanced" in district_tiers and n_adv >= inst.district_need_adv2[d]
                             and n_mod >= inst.district_need_model2[d] and d_adv_project[d])
        out["ntm_by_year"].append([sum(1 for c in range(n_c) if counted[c][t]) for t in range(n_t)])
        out["meeting_by_year"].append([sum(1 for c in range(n_c) if ntm[c][t]) for t in range(n_t)])
        out["advanced"].append(sum(advanced))
        out["model"].append(sum(model))
        out["district_units"].append(units)
        out["district_advanced"].append(units_adv)
        out["villages_ntm"].append(sum(it.quantity for it in finished("village_ntm")))
        out["villages_model"].append(sum(it.quantity for it in finished("village_model")))
        out["avg_criteria"].append(sum(criteria_end) / n_c)
        out["min_criteria"].append(min(criteria_end))
        out["below_floor"].append(0 if floor is None else sum(1 for x in criteria_end if x < floor))
        out["criterion_communes"].append([sum(1 for c in range(n_c) if ok[c][k][last]) for k in range(n_k)])
        out["spent"].append(spent)
        out["unspent"].append(unspent)
        out["slipped_projects"].append(slipped)
        out["unfinished_projects"].append(unfinished)
        out["reserve_funded"].append(reserve_funded)
        out["recovery"].append(recovery)
        out["recognised_by_year"].append([sum(1 for c in range(n_c) if rec_by_t[c][t]) for t in range(n_t)])
        out["criteria_by_year"].append([sum(criteria[c][t] for c in range(n_c)) / n_c for t in range(n_t)])
        n_adv_t = [sum(1 for c in range(n_c) if adv_t[c][t]) for t in range(n_t)]
        out["advanced_by_year"].append(n_adv_t)
        out["advanced_criteria"].append([sum(criteria[c][t] for c in range(n_c) if adv_t[c][t]) for t in range(n_t)])
        with_key, alone = ((rec.unmet_with_key, rec.unmet_alone) if rec is not None
                           else (math.ceil(0.3 * n_k - 1e-9), math.ceil(0.5 * n_k - 1e-9)))
        start_rec = []
        for t in range(n_t):
            kept_c = [c for c in range(n_c) if recognised_start[c] and rec_by_t[c][t]]
            adv_c = [c for c in range(n_c) if inst.base_adv[c] and adv_t[c][t]]
            start_rec.append([len(kept_c), sum(criteria[c][t] for c in kept_c),
                              sum(1 for c in kept_c if criteria[c][t] == n_k),
                              sum(1 for c in kept_c if n_k - criteria[c][t] < with_key),
                              sum(1 for c in kept_c if n_k - criteria[c][t] < alone),
                              len(adv_c), sum(criteria[c][t] for c in adv_c)])
        out["start_recognised"].append(start_rec)

    result = {name: np.array(values) for name, values in out.items()}
    result["district_units"] = result["district_units"].reshape(n_b, n_d).astype(bool)
    result["district_advanced"] = result["district_advanced"].reshape(n_b, n_d).astype(bool)
    result["commune_ntm_count"] = np.array(commune_count).reshape(n_c, n_t)
    return result
