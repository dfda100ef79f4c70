"""The Monte Carlo engine: a fixed plan over many draws, NumPy arrays in and out.

One call evaluates a *block* of draws at once: arrays are draws × items (money),
draws × communes × criteria (status) and draws × districts × years (disasters). The
only Python loops are over the (few) years of the horizon, and over the few
eligibility classes when money is reallocated; the loops inside a year – ranking the
communes, paying each class in that order, the criteria's year masks and the outcomes –
are compiled (:mod:`ntm_sim.simulate.kernels`, numba), with every sum in NumPy's order so
that the numbers are the ones the NumPy code gave, to the last digit.

The execution rule (the same for every plan)
--------------------------------------------
Plans are compared, not execution orders: every plan, whoever made it (optimizer,
planners' rule, cheapest first, Decision 07 share-out), is carried out by one recourse
rule, the way a provincial office re-plans each year when money is short or work
slips. Each year, in every draw:

1. Each source disburses a share of its envelope plus what it still owed from earlier
   years (late money); the rest arrives later. The share is the draw's mean times the
   factor of the source's kind (recurrent money is slower) and of the year, plus the
   source's own spread, clipped to [0, 1]. In a disaster year, recovery first takes its
   share of the flexible sources' money in hand (module docstring of
   :mod:`ntm_sim.model.uncertainty`: ``disaster_money_share``). Disbursed money, plus what the
   source carried over, pays each eligibility class's planned flow (scaled down when the
   source is short). A class given more than its projects ask this year releases the
   rest to its sources in proportion to what each gave; a class short of money then
   draws on what the sources have left, the classes with fewest eligible sources first
   and, within a class, the most restricted sources first.
2. The plan's projects are paid in two passes: first projects already under way, then
   projects due to start (planned start reached, including projects that slipped from
   earlier years, and able to finish by the horizon). In each pass every class pays
   its projects **communes closest to completion first**: a commune's distance is the
   money its unfinished planned criterion projects still need (this draw's prices),
   plus a large constant for each unmet criterion the plan does not fund at all (a
   commune the plan does not complete comes after every commune it does). Criterion
   projects come before tier upgrades and villages (same distance of their commune),
   which come before district projects (the sum of their communes' distances); ties
   go by unit index, and within a commune by project index. Strict priority: the
   first project that does not fit stops its class for that pass; it waits a year
   (the draw records the slip). A project that could no longer finish by the horizon
   does not start; projects under way before the horizon (re-planning) have their
   earlier years paid. Money a class could not use returns to its sources and is
   carried over (or lapses, without carry-over).
3. A plan may carry a *reserve list* (``Decisions.reserve``): criterion projects it
   does not schedule, to be funded only with money its own projects do not need. After
   the plan's passes, reserve projects under way and then new reserve projects (able
   to finish by the horizon) are paid in the same order from each source's *spare*
   money: what it has left beyond the largest shortfall the plan's remaining schedule
   would still ask of its carry-over; and, all sources together, no more than the money
   in hand beyond what the plan's unfinished projects still need at this draw's prices
   (money still owed or still to come is not counted on). Without carry-over a source's
   leftover lapses anyway, so all of it is spare.
4. A project's yearly price is fixed when it starts: its cost over its lead time times
   the draw's overrun median and its own lognormal factor, correlated within the
   district and the year it actually starts.
5. A project is finished when it has been paid for ``lead`` years; its criterion is
   met then, or later (lead-time delays), or not at all (development criteria can
   fail). Met criteria can fall back below the standard and be regained; disasters can
   knock out a district's infrastructure criteria until they are rebuilt. Income and
   poverty (the threshold criteria) fail and slip more often the further the commune is
   from the threshold (Zone III, criteria missed at the start). A disaster is a
   province-wide event of the year; each district is hit with a probability and an
   intensity, and a met infrastructure criterion of a hit district is lost with the
   draw's damage share times twice the intensity.
   Recognition is counted apart from criteria: a commune meeting every criterion is
   recognised and keeps its recognition until a review finds the criteria set's
   revocation rule triggered (too many criteria not met, :class:`ntm_sim.model.instance.Recognition`)
   and carries it out (``revocation_probability``); reviews are held every year from the
   province's first. Before the year the criteria set comes into force, a commune
   recognised at the start counts every criterion (it met the set then in force). A
   recognised tier (advanced, model) is kept with the commune's recognition; a new one
   needs every criterion met. A recognised district unit is kept until the district rule
   triggers (a share of its communes revoked).
   Simplifications: a criterion slips at most once within the horizon, and only the
   first disaster in its district after it is met can damage it (one damage draw per
   commune and criterion).

With no uncertainty a plan without a reserve list is carried out exactly as planned
(tested); a reserve list then uses only money the plan leaves unspent.

``unspent`` is every envelope of the horizon minus what was spent (money still owed by
late disbursement, carried over, or lapsed). ``slipped_projects`` counts planned
projects that started late or never; ``reserve_funded`` reserve projects finished.

The plan's items, the draws' random numbers and the yearly state are in
:mod:`ntm_sim.simulate.blocks`.
"""

from __future__ import annotations

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import allocate_flows, class_spend
from ntm_sim.model.plan import Decisions
from ntm_sim.simulate import kernels
from ntm_sim.simulate.blocks import (
    _LOWEST_BIT,
    BIG,
    NEVER,
    OVERRUN_KINDS,
    BlockOutcomes,
    BlockRandoms,
    ItemPrices,
    ItemProgress,
    Payments,
    SourceMoney,
    YearItems,
    _release,
    disbursement_factor,
    flexible_sources,
    geometric_years,
    infrastructure_mask,
    plan_items,
    spare_reserve,
    threshold_risk,
    waiting_rate,
)
from ntm_sim.simulate.outcomes import Outcomes
from ntm_sim.simulate.settings import UncertaintySettings


class Engine(Outcomes):
    """Evaluates one plan of one instance under a set of uncertainty settings."""

    def __init__(self, inst: Instance, dec: Decisions, settings: UncertaintySettings) -> None:
        if inst.n_years > 15:
            raise ValueError("the engine handles horizons of up to 15 years")
        self.inst = inst
        self.settings = settings
        self.items = plan_items(inst, dec)
        self.flows = dec.flows if dec.flows is not None else allocate_flows(inst, class_spend(inst, dec))[0]
        self._set_pairs()
        self._set_risks()
        self._set_tables()

    def _set_pairs(self) -> None:
        """The plan's items as (class, unit) pairs: the segments the yearly paying walks."""
        inst, it = self.inst, self.items
        n_g, n_c = len(inst.classes), inst.n_communes
        self.n_units = 2 * n_c + len(inst.districts)
        # items sorted by (class, unit, project): a class is one segment, a (class, unit) pair a sub-segment
        self.sorted = np.lexsort((it.key, it.unit, it.cls))
        cls_s, unit_s = it.cls[self.sorted], it.unit[self.sorted]
        new_pair = np.ones(len(it), dtype=bool)
        new_pair[1:] = (cls_s[1:] != cls_s[:-1]) | (unit_s[1:] != unit_s[:-1])
        self.pair_first = np.flatnonzero(new_pair)
        self.pair_of_sorted = np.cumsum(new_pair) - 1
        self.pair_cls = cls_s[self.pair_first]
        self.pair_unit = unit_s[self.pair_first]
        self.cls_sorted = cls_s
        self.class_first = np.flatnonzero(np.r_[True, cls_s[1:] != cls_s[:-1]]) if len(it) else np.zeros(0, int)
        self.class_of_segment = cls_s[self.class_first]
        # pairs ranked per draw keep classes in order: each class is a fixed range of positions
        self.class_pos = np.searchsorted(self.pair_cls, np.arange(n_g + 1))
        self.classes_with_pairs = [g for g in range(n_g) if self.class_pos[g + 1] > self.class_pos[g]]
        self.unit_in_class = {g: np.zeros(self.n_units, dtype=bool) for g in self.classes_with_pairs}
        self.pair_of_unit = {g: np.full(self.n_units, -1, dtype=np.int64) for g in self.classes_with_pairs}
        self.class_groups: dict[int, list[int]] = {g: [] for g in self.classes_with_pairs}
        for pair, (g, unit) in enumerate(zip(self.pair_cls.tolist(), self.pair_unit.tolist(), strict=True)):
            self.unit_in_class[g][unit] = True
            self.pair_of_unit[g][unit] = pair
            group = min(unit // n_c, 2)   # 0 criterion projects, 1 commune upgrades, 2 district projects
            if group not in self.class_groups[g]:
                self.class_groups[g].append(group)

    def _set_risks(self) -> None:
        """What each draw's chances are made of: delays, failures, slips, overruns, disasters, money."""
        inst, it, settings = self.inst, self.items, self.settings
        n_g, n_c = len(inst.classes), inst.n_communes
        # a commune's unmet criteria the plan does not fund (neither scheduled nor in reserve)
        listed = np.zeros(inst.n_projects, dtype=bool)
        listed[it.key[it.kind == 0]] = True
        self.outside = np.bincount(inst.proj_commune[~listed], minlength=n_c).astype(float)
        self.crit_items = np.flatnonzero(it.kind == 0)
        crit = inst.dataset.criteria
        kinds = [crit[k].kind for k in inst.criteria]
        self.delay_p = np.array(settings.per_criterion(settings.delay_probability, inst.criteria, kinds))
        self.fail_p = np.array(settings.per_criterion(settings.failure_probability, inst.criteria, kinds))
        risk = threshold_risk(inst, settings)                                      # (C, K)
        self.risk = risk
        self.slip_ck = (np.array(settings.per_criterion(settings.slip_probability, inst.criteria, kinds))[None, :]
                        * risk).astype(np.float32)
        self.disbursement_factor = disbursement_factor(inst, settings)             # (F, T)
        self.flexible = flexible_sources(inst)
        # each area's share of communes; communes without a district are the last area, the province
        # (draw_block adds it; commune_district -1 indexes it)
        areas = len(inst.districts) + bool((inst.commune_district < 0).any())
        own = np.where(inst.commune_district >= 0, inst.commune_district, areas - 1)
        self.district_weight = np.bincount(own, minlength=areas) / inst.n_communes
        self.sigma = np.array([settings.overrun_sigma.get(k, 0.0) for k in OVERRUN_KINDS])
        self.infra = np.flatnonzero(infrastructure_mask(inst))
        self.class_order = sorted(range(n_g), key=lambda g: len(inst.classes[g]))
        # within a class, the most restricted sources pay first (as the baselines' ledger does)
        width = {f: sum(f in cls for cls in inst.classes) for f in range(len(inst.sources))}
        self.source_order = [sorted(cls, key=lambda f: (width[f], f)) for cls in inst.classes]
        self.base_start = np.where(inst.base_met, -1, NEVER).astype(np.int16)
        self.keep = spare_reserve(inst, self.flows)

    def _set_tables(self) -> None:
        """The ranking kernel's tables and the per-item constants of the year loop."""
        inst, it = self.inst, self.items
        n_g, n_c = len(inst.classes), inst.n_communes
        # the ranking kernel's tables: each unit's pairs, and where each class's pairs of a unit group start
        by_unit = np.argsort(self.pair_unit, kind="stable")
        self.unit_pairs = by_unit.astype(np.int64)
        self.unit_ptr = np.searchsorted(self.pair_unit[by_unit], np.arange(self.n_units + 1)).astype(np.int64)
        pair_group = np.minimum(self.pair_unit // max(n_c, 1), 2)
        counts = np.zeros((n_g, 3), dtype=np.int64)
        np.add.at(counts, (self.pair_cls, pair_group), 1)
        self.group_start = (self.class_pos[:-1, None] + np.cumsum(counts, axis=1) - counts).astype(np.int64)
        self.outside_big = BIG * self.outside
        self.own_district = np.where(inst.commune_district >= 0, inst.commune_district,
                                     len(inst.districts)).astype(np.int64)
        # slip probabilities take few values (criterion × threshold risk): their rates are computed once each
        self.slip_values, slip_index = np.unique(self.slip_ck, return_inverse=True)
        self.slip_index = slip_index.reshape(self.slip_ck.shape).astype(np.int64)
        self.has_reserve = bool(it.reserve.any())
        self.core = ~it.reserve[None, :]            # (1, items): the plan's own projects, not its reserve list
        self.lead = it.lead.astype(np.int16)[None, :]

    # ----- ranking ---------------------------------------------------------------------------------
    def _pair_order(self, cost: np.ndarray, paid_years: np.ndarray, by_commune: np.ndarray) -> np.ndarray:
        """Per draw, the (class, unit) pairs in payment order: by class, then units closest to completion.

        Criterion projects by their commune's distance (what its unfinished planned
        projects still need at this draw's prices, plus ``BIG`` for each unmet criterion
        the plan does not fund), then the communes' upgrades in the same order, then
        districts by the sum of their communes' distances; ties by unit number
        (:func:`ntm_sim.simulate.kernels.pair_order`). ``by_commune`` (B × C) is last year's
        commune order, sorted again in place.
        """
        it = self.items
        if not len(it):
            return np.zeros((cost.shape[0], 0), dtype=np.int64)
        return kernels.pair_order(cost, paid_years, self.crit_items, it.lead, it.commune, self.outside_big,
                                  self.own_district, len(self.inst.districts), self.unit_ptr, self.unit_pairs,
                                  self.pair_cls.astype(np.int64), self.group_start, len(self.pair_first), by_commune)

    # ----- money -----------------------------------------------------------------------------------
    def _class_sums(self, cost: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """Sum ``cost`` of the ``wanted`` items (B × items) per class (B × classes)."""
        if not len(self.sorted):
            return np.zeros((cost.shape[0], len(self.inst.classes)))
        return kernels.class_sums(cost, wanted, self.sorted, self.class_first, self.class_of_segment,
                                  len(self.inst.classes))

    def _pay(self, demand: np.ndarray, wanted: np.ndarray, money: np.ndarray,
             order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pay the wanted items in each class's order while money lasts; return paid mask and money used.

        ``demand`` is what every item would cost this year, ``wanted`` which items ask to
        be paid (an item may cost nothing), ``order`` the pairs' payment order per draw.
        Strict priority within a class: an item is paid when the money its class has
        covers every wanted item ranked before it and itself
        (:func:`ntm_sim.simulate.kernels.pay`).
        """
        if not len(self.sorted):
            return np.zeros(demand.shape, dtype=bool), np.zeros_like(money)
        return kernels.pay(demand, wanted, money, order, self.sorted, self.pair_of_sorted, self.cls_sorted,
                           self.class_pos, len(self.pair_first))

    def _draw(self, src: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Money (B × F × G) the classes take from the sources' ``src`` (changed in place) towards ``need``."""
        give = np.zeros((src.shape[0], src.shape[1], need.shape[1]))
        short = need.copy()
        for g in self.class_order:
            if not short[:, g].any():
                continue
            for f in self.source_order[g]:
                take = np.minimum(short[:, g], src[:, f])
                give[:, f, g] += take
                src[:, f] -= take
                short[:, g] -= take
        return give

    # ----- criteria -------------------------------------------------------------------------------
    def status(self, params: dict[str, np.ndarray], rnd: BlockRandoms, done: np.ndarray,
               projects: np.ndarray) -> np.ndarray:
        """Year masks (B × communes × criteria, bit ``t`` set when met at the end of year ``t``).

        ``done`` (B × len(projects)) is the year index in which each of ``projects`` was
        paid for the last time (``NEVER``: not finished); every other unmet criterion
        stays unmet. Delays, failure, slipping back and disasters as in the module
        docstring.
        """
        inst, s = self.inst, self.settings
        n_b, n_t = done.shape[0], inst.n_years
        # when each of the plan's criterion projects meets its criterion (year index; NEVER = not)
        c_of, k_of = inst.proj_commune[projects], inst.proj_criterion[projects]
        if len(projects):
            q = np.minimum(0.95, self.delay_p[k_of][None, :] * params["delay_multiplier"][:, None])
            delay = geometric_years(rnd.delay[:, projects], q)
            fail = rnd.failure[:, projects] < np.minimum(0.95, self.fail_p[k_of] * self.risk[c_of, k_of])[None, :]
            done = done.astype(np.int64)
            when = np.where((done < NEVER) & ~fail, np.minimum(done + delay, NEVER), NEVER)
        else:
            when = np.zeros((n_b, 0), dtype=np.int64)
        # slipping back, then regained: the waiting times' float32 rates, once per distinct probability
        slip_p = np.minimum(np.float32(0.9), self.slip_values[None, :] * params["slip_multiplier"][:, None]
                            .astype(np.float32))
        mask, met_start = kernels.status_masks(
            self.base_start, c_of.astype(np.int64), k_of.astype(np.int64), when, rnd.slip, waiting_rate(slip_p),
            self.slip_index, rnd.recover, waiting_rate(s.recovery_probability)[()], n_t, NEVER)
        # disasters: the first hit of the commune's district after an infrastructure criterion is met
        if self.infra.size:
            intensity = self.disasters(params, rnd)                                               # (B, D, T)
            hit_bits = ((intensity > 0) << np.arange(n_t)[None, None, :]).sum(axis=2).astype(np.uint16)  # (B, D)
            kernels.disaster_damage(mask, met_start, self.infra.astype(np.int64), intensity, hit_bits,
                                    inst.commune_district.astype(np.int64), params["disaster_damage"],
                                    rnd.damage, rnd.rebuild, waiting_rate(s.disaster_recovery_probability)[()],
                                    _LOWEST_BIT, n_t, NEVER)
        return mask

    def disasters(self, params: dict[str, np.ndarray], rnd: BlockRandoms) -> np.ndarray:
        """Each district's disaster intensity per draw and year (B × D × T; 0: not hit).

        A province-wide event happens in a year with the draw's ``disaster_rate`` (or the
        year's probability in ``disaster_years``); it hits each district with probability
        ``disaster_district_share``, at an intensity uniform in (0, 1].
        """
        s, inst = self.settings, self.inst
        rate = np.repeat(params["disaster_rate"][:, None], inst.n_years, axis=1)            # (B, T)
        for t, year in enumerate(int(y) for y in inst.years):
            if year in s.disaster_years:
                rate[:, t] = s.disaster_years[year]
        event = rnd.event < rate
        share = s.disaster_district_share
        hit = event[:, None, :] & (rnd.hit < share)
        return np.where(hit, 1.0 - rnd.hit / share if share > 0 else 0.0, 0.0)

    def recovery_take(self, intensity: np.ndarray) -> np.ndarray:
        """Share (B × T) of the flexible sources' money in hand that recovery takes each year."""
        severity = np.einsum("bdt,d->bt", intensity, self.district_weight)
        return np.minimum(1.0, 2.0 * self.settings.disaster_money_share * severity)

    # ----- one block -------------------------------------------------------------------------------
    def run(self, params: dict[str, np.ndarray], rnd: BlockRandoms) -> BlockOutcomes:
        """Simulate a block of draws.

        Parameters
        ----------
        params
            One value per draw for each experiment parameter.
        rnd
            The block's random numbers.

        Returns
        -------
        BlockOutcomes
            Per-draw outcomes (see the module docstring for the execution rule).
        """
        prices = self._prices(params, rnd)
        progress = self._initial_progress(prices, rnd.n_draws)
        money = self._initial_money(params, rnd)
        for t in range(self.inst.n_years):
            self._year(t, prices, progress, money)
        mask = self.status(params, rnd, progress.done_year[:, self.crit_items], self.items.key[self.crit_items])
        return self._outcomes(mask, progress, money, rnd.revoke)

    def _prices(self, params: dict[str, np.ndarray], rnd: BlockRandoms) -> ItemPrices:
        """The block's item prices by start year (the overrun model of the module docstring)."""
        it = self.items
        rho = self.settings.overrun_district_correlation
        return ItemPrices(
            base=params["overrun_median"][:, None] * (it.cost / it.lead)[None, :],
            sigma=self.sigma[it.overrun_kind][None, :],
            own=np.sqrt(1 - rho) * rnd.overrun_own[:, it.key],
            root_rho=np.sqrt(rho),
            district_normal=rnd.overrun_district,
            district=it.district,
        )

    def _initial_progress(self, prices: ItemPrices, n_b: int) -> ItemProgress:
        """Items at the start of the horizon: those under way before it (re-planning) have paid their earlier years."""
        it, t0 = self.items, int(self.inst.years[0])
        before = np.clip(t0 - it.start, 0, it.lead).astype(np.int16)
        paid_years = np.repeat(before[None, :], n_b, axis=0)
        started = paid_years > 0
        return ItemProgress(
            paid_years=paid_years,
            started=started,
            annual=np.where(started, prices.at(0), 0.0),
            start_year=np.where(started, (it.start - t0).astype(np.int16), np.int16(NEVER)),
            done_year=np.where(started & (paid_years == it.lead), (it.start + it.lead - 1 - t0).astype(np.int16),
                               np.int16(NEVER)),
            by_commune=np.repeat(np.arange(self.inst.n_communes, dtype=np.int64)[None, :], n_b, axis=0),
        )

    def _initial_money(self, params: dict[str, np.ndarray], rnd: BlockRandoms) -> SourceMoney:
        """Sources before the first year: nothing owed, nothing carried, nothing spent."""
        n_b, n_f = rnd.n_draws, self.inst.budget.shape[0]
        s = self.settings
        mean = params["disbursement_mean"][:, None, None] * self.disbursement_factor[None, :, :]
        ratio = np.clip(mean + s.disbursement_sd * rnd.disbursement, 0, 1)
        return SourceMoney(ratio=ratio, backlog=np.zeros((n_b, n_f)), carry=np.zeros((n_b, n_f)), spent=np.zeros(n_b),
                           take=self.recovery_take(self.disasters(params, rnd)), recovery=np.zeros(n_b))

    # ----- one year ---------------------------------------------------------------------------------
    def _year(self, t: int, prices: ItemPrices, progress: ItemProgress, money: SourceMoney) -> None:
        """Carry out year index ``t`` of the execution rule, updating ``progress`` and ``money`` in place."""
        year_items = self._year_items(t, prices, progress)
        give, src_left = self._planned_money(money, t)
        pay, src_left = self._pay_plan(year_items, give, src_left)
        if self.has_reserve:
            self._pay_reserve(t, year_items, progress, pay, src_left)
        self._record(t, year_items.cost, pay.paid, progress)
        money.spent += pay.used.sum(axis=1)
        # without carry-over, what the sources have left lapses
        money.carry = src_left if self.inst.carry_over else np.zeros_like(src_left)

    def _year_items(self, t: int, prices: ItemPrices, progress: ItemProgress) -> YearItems:
        """Prices, payment order and the items asking for money in year index ``t``."""
        it = self.items
        year = int(self.inst.years[0]) + t
        cost = np.where(progress.started, progress.annual, prices.at(t))
        can_finish = (year + it.lead - 1 <= self.inst.horizon_end)[None, :]
        return YearItems(
            cost=cost,
            order=self._pair_order(cost, progress.paid_years, progress.by_commune),
            under_way=progress.started & (progress.paid_years < self.lead),
            due_new=~progress.started & self.core & ((it.start <= year)[None, :] & can_finish),
            can_finish=can_finish,
        )

    def _planned_money(self, money: SourceMoney, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Disburse the sources' money and give each class its planned flow (scaled down when short).

        Returns the money (B × F × G) each source gives each class and what the sources
        have left (B × F); updates the backlog of late money in place.
        """
        flows = self.flows
        due = money.backlog + self.inst.budget[None, :, t]
        disbursed = due * money.ratio[:, :, t]
        money.backlog = due - disbursed
        avail = money.carry + disbursed
        taken = np.zeros_like(avail)
        taken[:, self.flexible] = money.take[:, t, None] * avail[:, self.flexible]
        avail = avail - taken
        money.recovery += taken.sum(axis=1)
        planned = flows[:, :, t].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(planned[None, :] > 0, np.minimum(1.0, avail / planned[None, :]), 0.0)
        give = scale[:, :, None] * flows[None, :, :, t]                      # (B, F, G) source → class
        return give, avail - give.sum(axis=2)

    def _pay_plan(self, y: YearItems, give: np.ndarray, src_left: np.ndarray) -> tuple[Payments, np.ndarray]:
        """Pay the plan's projects: rebalance class money to their needs, then the two passes.

        Returns the payments and what the sources have left after the money the classes
        could not use went back to them.
        """
        core = self.core
        need = self._class_sums(y.cost, (y.under_way & core) | y.due_new)
        # a class given more than its projects ask releases the rest to its sources …
        give, src_left = _release(give, src_left, np.maximum(0.0, give.sum(axis=1) - need))
        # … and a class short of money draws on what the sources have left
        give += self._draw(src_left, np.maximum(0.0, need - give.sum(axis=1)))
        money = give.sum(axis=1)
        pay = Payments(*self._pay(y.cost, y.under_way & core, money, y.order))   # projects under way first
        pay.add(*self._pay(y.cost, y.due_new, money - pay.used, y.order))     # then those due to start
        # money a class could not use goes back to its sources
        _, src_left = _release(give, src_left, np.maximum(0.0, money - pay.used))
        return pay, src_left

    def _pay_reserve(self, t: int, y: YearItems, progress: ItemProgress, pay: Payments,
                     src_left: np.ndarray) -> None:
        """Pay reserve projects (under way, then new) from the sources' spare money.

        ``pay`` and ``src_left`` are updated in place.
        """
        spare = self._spare(t, y.cost, progress.paid_years, pay.paid, src_left)
        reserve = ~self.core
        for wanted in (y.under_way & reserve, ~progress.started & reserve & y.can_finish):
            need = self._class_sums(y.cost, wanted)
            left = spare.copy()
            give_r = self._draw(left, need)
            money_r = give_r.sum(axis=1)
            paid_r, used_r = self._pay(y.cost, wanted, money_r, y.order)
            give_r, _ = _release(give_r, left, np.maximum(0.0, money_r - used_r))
            taken = give_r.sum(axis=2)
            src_left -= taken
            spare -= taken
            pay.add(paid_r, used_r)

    def _spare(self, t: int, cost: np.ndarray, paid_years: np.ndarray, paid: np.ndarray,
               src_left: np.ndarray) -> np.ndarray:
        """Money (B × F) the reserve list may use: only what the plan's own projects will not ask for later."""
        spare = np.maximum(0.0, src_left - self.keep[None, :, t])
        if self.inst.carry_over:
            # all sources together: no more than the money in hand beyond what the plan's
            # unfinished projects still need at this draw's prices
            after = paid_years + paid
            later = np.where(self.core & (after < self.lead), cost * (self.lead - after), 0.0).sum(axis=1)
            room = np.maximum(0.0, src_left.sum(axis=1) - later)
            total = spare.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                spare *= np.where(total > room, room / total, 1.0)[:, None]
        return spare

    def _record(self, t: int, cost: np.ndarray, paid: np.ndarray, progress: ItemProgress) -> None:
        """Book the year's payments: new items fix their yearly price; items paid ``lead`` years finish."""
        new = paid & ~progress.started
        progress.annual = np.where(new, cost, progress.annual)
        progress.started |= new
        progress.start_year[new] = t
        progress.paid_years += paid
        progress.done_year[paid & (progress.paid_years == self.lead)] = t
