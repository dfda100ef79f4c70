"""The Monte Carlo engine: a fixed plan over many draws, vectorised in NumPy.

One call evaluates a *block* of draws at once: arrays are draws × items (money),
draws × communes × criteria (status) and draws × districts × years (disasters). The
only Python loop is over the (few) years of the horizon, and over the few eligibility
classes when money is reallocated.

How a year goes, in every draw
------------------------------
1. Each source disburses a share of its envelope plus what it still owed from earlier
   years; the rest arrives later. Disbursed money, plus what the source carried over,
   pays each eligibility class's planned flow (scaled down when the source is short).
   A class given more than its projects ask this year releases the rest to its sources
   in proportion to what each gave; a class short of money then draws on what the
   sources have left, the classes with fewest eligible sources first and, within a
   class, the most restricted sources first.
2. Projects already under way are paid first, then projects due to start, each class
   in the plan's priority order: when money runs out, the remaining projects wait a
   year (strict priority: the first project that does not fit stops its class for that
   pass; the draw records the slip). A project that could no longer finish by the
   horizon does not start; projects under way before the horizon (re-planning) have
   their earlier years paid. Money a class could not use returns to its sources and is
   carried over (or lapses, without carry-over).
3. A project is finished when it has been paid for ``lead`` years; its criterion is
   met then, or later (lead-time delays), or not at all (development criteria can fail).
4. Met criteria can fall back below the standard and be regained; disasters can knock
   out a district's infrastructure criteria until they are rebuilt. Simplifications: a
   criterion slips at most once within the horizon, and only the first disaster in
   its district after it is met can damage it (one damage draw per commune and
   criterion).

``unspent`` is every envelope of the horizon minus what was spent (money still owed by
late disbursement, carried over, or lapsed). ``slipped_projects`` counts projects that
started late or never.

Random numbers are drawn for every *potential* project (every unmet commune ×
criterion, every tier upgrade, village and district project), not only for those in the
plan, so that several plans evaluated with the same seed meet the same world (common
random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ntm_sim.instance import Instance
from ntm_sim.plan import Decisions, allocate_flows, class_spend
from ntm_sim.simulate.settings import UncertaintySettings

NEVER = 10_000  # a year index meaning "not within the horizon"
KIND_CODES = {"criterion": 0, "advanced": 1, "model": 2, "village_ntm": 3, "village_model": 4, "district": 5,
              "district_advanced": 6}
OVERRUN_KINDS = ("infrastructure", "development", "governance", "upgrade")
MONEY_TOL = 1e-2  # million VND: solver round-off on planned flows


@dataclass(frozen=True)
class RandomKeys:
    """Where each potential project's random numbers sit (plan-independent)."""

    n_projects: int
    n_communes: int
    n_years: int
    n_districts: int

    @property
    def adv(self) -> int:
        """Offset of the advanced-upgrade keys."""
        return self.n_projects

    @property
    def model(self) -> int:
        """Offset of the model-upgrade keys."""
        return self.adv + self.n_communes

    @property
    def village_ntm(self) -> int:
        """Offset of the village keys (one per commune)."""
        return self.model + self.n_communes

    @property
    def village_model(self) -> int:
        """Offset of the model-village keys (one per commune)."""
        return self.village_ntm + self.n_communes

    @property
    def district(self) -> int:
        """Offset of the district keys."""
        return self.village_model + self.n_communes

    @property
    def district_adv(self) -> int:
        """Offset of the advanced-district keys."""
        return self.district + self.n_districts

    @property
    def total(self) -> int:
        """Number of potential projects."""
        return self.district_adv + self.n_districts


@dataclass
class PlanItems:
    """The funded projects of a plan, as arrays sorted by the plan's priority."""

    kind: np.ndarray
    commune: np.ndarray       # -1 for district projects
    district: np.ndarray
    criterion: np.ndarray     # -1 unless a criterion project
    key: np.ndarray           # index into the potential-project random numbers
    cls: np.ndarray
    cost: np.ndarray
    lead: np.ndarray
    start: np.ndarray         # planned start year
    quantity: np.ndarray
    overrun_kind: np.ndarray  # index into OVERRUN_KINDS

    def __len__(self) -> int:
        return len(self.cost)


def plan_items(inst: Instance, dec: Decisions) -> PlanItems:
    """Turn a plan's decisions into items ordered by the plan's priority."""
    keys = random_keys(inst)
    rows: list[tuple] = []
    prio = dec.priority if dec.priority is not None else np.arange(inst.n_projects, dtype=float)
    kinds = inst.dataset.criteria
    kind_of_criterion = [OVERRUN_KINDS.index(kinds[k].kind) for k in inst.criteria]
    up = OVERRUN_KINDS.index("upgrade")
    for p in np.flatnonzero(dec.proj_start >= 0):
        c = int(inst.proj_commune[p])
        k = int(inst.proj_criterion[p])
        rows.append((float(prio[p]), 0, c, int(inst.commune_district[c]), k, int(p), int(inst.proj_class[p]),
                     float(inst.proj_cost[p]), int(inst.proj_lead[p]), int(dec.proj_start[p]), 1,
                     kind_of_criterion[k]))
    big = float(inst.n_projects + 1)
    for code, starts, cost, lead, offset in ((1, dec.adv_start, inst.adv_cost, inst.adv_lead, keys.adv),
                                             (2, dec.model_start, inst.model_cost, inst.model_lead, keys.model)):
        for c in np.flatnonzero(starts >= 0):
            rows.append((big + code, code, int(c), int(inst.commune_district[c]), -1, offset + int(c),
                         int(inst.commune_upgrade_class[c]), float(cost[c]), int(lead), int(starts[c]), 1, up))
    for code, counts, unit, offset in ((3, dec.village_ntm, inst.village_ntm_cost, keys.village_ntm),
                                       (4, dec.village_model, inst.village_model_cost, keys.village_model)):
        for c, t in zip(*np.nonzero(counts), strict=True):
            q = int(counts[c, t])
            rows.append((big + code, code, int(c), int(inst.commune_district[c]), -1,
                         offset + int(c), int(inst.commune_upgrade_class[c]),
                         float(unit[c] * q), 1, int(inst.years[t]), q, up))
    for code, starts, cost, offset in ((5, dec.district_start, inst.district_cost, keys.district),
                                       (6, dec.district_adv_start, inst.district_adv_cost, keys.district_adv)):
        for d in np.flatnonzero(starts >= 0):
            rows.append((big + code, code, -1, int(d), -1, offset + int(d), int(inst.district_upgrade_class[d]),
                         float(cost[d]), 1, int(starts[d]), 1, up))
    rows.sort(key=lambda r: (r[0], r[9], r[5]))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 12
    arr = lambda i, dt: np.array(cols[i], dtype=dt)  # noqa: E731
    return PlanItems(kind=arr(1, np.int8), commune=arr(2, np.int64), district=arr(3, np.int64),
                     criterion=arr(4, np.int64), key=arr(5, np.int64), cls=arr(6, np.int64),
                     cost=arr(7, np.float64), lead=arr(8, np.int64), start=arr(9, np.int64),
                     quantity=arr(10, np.int64), overrun_kind=arr(11, np.int64))


def random_keys(inst: Instance) -> RandomKeys:
    """Layout of the potential-project random numbers for an instance."""
    return RandomKeys(inst.n_projects, inst.n_communes, inst.n_years, len(inst.districts))


@dataclass
class BlockRandoms:
    """Micro-level random numbers of a block of draws (independent of the plan)."""

    overrun_district: np.ndarray   # (B, n_districts, n_years) standard normal
    overrun_own: np.ndarray        # (B, n_keys) standard normal
    disbursement: np.ndarray       # (B, n_sources, n_years) standard normal
    delay: np.ndarray              # (B, n_projects) uniform in (0, 1]
    failure: np.ndarray            # (B, n_projects) uniform in [0, 1)
    slip: np.ndarray               # (B, n_communes, n_criteria) −log(uniform), float32
    recover: np.ndarray            # (B, n_communes, n_criteria) −log(uniform), float32
    hit: np.ndarray                # (B, n_districts, n_years) uniform in [0, 1)
    damage: np.ndarray             # (B, n_communes, n_infrastructure) uniform in [0, 1), float32
    rebuild: np.ndarray            # (B, n_communes, n_infrastructure) −log(uniform), float32

    @property
    def n_draws(self) -> int:
        """Draws in the block."""
        return self.overrun_own.shape[0]

    def take(self, rows: slice | np.ndarray) -> BlockRandoms:
        """A sub-block (the same numbers for a subset of draws)."""
        return BlockRandoms(**{k: v[rows] for k, v in self.__dict__.items()})


def draw_block(inst: Instance, n_draws: int, seed: np.random.SeedSequence) -> BlockRandoms:
    """Draw the micro-level random numbers of one block, in a fixed order."""
    rng = np.random.default_rng(seed)
    keys = random_keys(inst)
    n_c, n_k, n_t, n_d, n_f = inst.n_communes, len(inst.criteria), inst.n_years, len(inst.districts), len(
        inst.sources)
    n_infra = int(infrastructure_mask(inst).sum())

    def exp32(shape: tuple[int, ...]) -> np.ndarray:
        # waiting times need −log(u), u in (0, 1]; computing it once here keeps the engine lean
        return -np.log(np.float32(1.0) - rng.random(shape, dtype=np.float32))

    return BlockRandoms(
        overrun_district=rng.standard_normal((n_draws, n_d, n_t)),
        overrun_own=rng.standard_normal((n_draws, keys.total)),
        disbursement=rng.standard_normal((n_draws, n_f, n_t)),
        delay=1.0 - rng.random((n_draws, inst.n_projects)),
        failure=rng.random((n_draws, inst.n_projects)),
        slip=exp32((n_draws, n_c, n_k)),
        recover=exp32((n_draws, n_c, n_k)),
        hit=rng.random((n_draws, n_d, n_t)),
        damage=rng.random((n_draws, n_c, n_infra), dtype=np.float32),
        rebuild=exp32((n_draws, n_c, n_infra)),
    )


def infrastructure_mask(inst: Instance) -> np.ndarray:
    """Which criteria are infrastructure (the ones disasters damage)."""
    crit = inst.dataset.criteria
    return np.array([crit[k].kind == "infrastructure" for k in inst.criteria])


@dataclass
class BlockOutcomes:
    """Outcomes of a block of draws (per draw), plus per-commune counts summed over draws."""

    ntm_by_year: np.ndarray          # (B, T)
    advanced: np.ndarray             # (B,)
    model: np.ndarray
    district_units: np.ndarray       # (B, n_districts) bool
    district_advanced: np.ndarray    # (B, n_districts) bool
    villages_ntm: np.ndarray
    villages_model: np.ndarray
    avg_criteria: np.ndarray
    min_criteria: np.ndarray         # lowest criteria count of any commune at the horizon
    below_floor: np.ndarray          # communes below the scenario's floor (0 if none set)
    criterion_communes: np.ndarray   # (B, n_criteria)
    spent: np.ndarray                # money spent (million VND)
    unspent: np.ndarray              # money available but not spent, incl. not yet disbursed
    slipped_projects: np.ndarray     # projects that started later than planned
    unfinished_projects: np.ndarray  # planned projects not finished by the horizon
    commune_ntm_count: np.ndarray    # (n_communes, T): draws in which the commune is NTM by year
    extra: dict[str, np.ndarray] = field(default_factory=dict)


_LOWEST_BIT = np.array([NEVER] + [(i & -i).bit_length() - 1 for i in range(1, 1 << 16)], dtype=np.int16)


def geometric_years(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Number of further years an event with yearly probability ``p`` keeps happening.

    ``u`` is uniform in (0, 1]; returns 0 with probability ``1 - p``, 1 with
    ``p (1 - p)``, and so on (``p = 0`` gives 0 everywhere).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.floor(np.log(u) / np.log(p))
    return np.where(p > 0, np.nan_to_num(out, nan=0.0, posinf=NEVER), 0).astype(np.int64)


def waiting_years(e: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Years until an event with yearly probability ``p`` first happens (≥ 1; NEVER if p = 0).

    ``e`` holds standard exponential variates (−log of uniforms): the year count is
    ``1 + floor(e / -log(1 - p))``, a geometric variate.
    """
    p = np.minimum(np.asarray(p, dtype=np.float32), np.float32(1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.float32(1.0) / -np.log1p(-p)          # inf when p = 0, 0 when p = 1
        years = np.fmin(np.floor(e * rate), np.float32(NEVER - 1))  # nan (0 × inf) → NEVER - 1
    return (years + 1).astype(np.int16)


def _release(give: np.ndarray, src_left: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``amount`` of each class's money to its sources, in proportion to what each gave.

    ``give`` is (B, F, G) money from source to class, ``src_left`` (B, F), ``amount`` (B, G).
    """
    total = give.sum(axis=1, keepdims=True)                               # (B, 1, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        back = np.where(total > 0, give / total, 0.0) * amount[:, None, :]
    return give - back, src_left + back.sum(axis=2)


class Engine:
    """Evaluates one plan of one instance under a set of uncertainty settings."""

    def __init__(self, inst: Instance, dec: Decisions, settings: UncertaintySettings) -> None:
        if inst.n_years > 15:
            raise ValueError("the engine handles horizons of up to 15 years")
        self.inst = inst
        self.settings = settings
        self.items = it = plan_items(inst, dec)
        self.flows = dec.flows if dec.flows is not None else allocate_flows(inst, class_spend(inst, dec))[0]
        n_g = len(inst.classes)
        # items sorted by (class, priority): each class is one contiguous segment
        self.order = np.lexsort((np.arange(len(it)), it.cls))
        self.seg_of_sorted = it.cls[self.order]
        self.seg_start = np.searchsorted(self.seg_of_sorted, np.arange(n_g))
        self.onehot = np.zeros((len(it), n_g))
        self.onehot[np.arange(len(it)), it.cls] = 1.0
        self.onehot_sorted = self.onehot[self.order]
        crit = inst.dataset.criteria
        kinds = [crit[k].kind for k in inst.criteria]
        self.delay_p = np.array(settings.per_criterion(settings.delay_probability, inst.criteria, kinds))
        self.fail_p = np.array(settings.per_criterion(settings.failure_probability, inst.criteria, kinds))
        self.slip_p = np.array(settings.per_criterion(settings.slip_probability, inst.criteria, kinds),
                               dtype=np.float32)
        self.sigma = np.array([settings.overrun_sigma.get(k, 0.0) for k in OVERRUN_KINDS])
        self.infra = np.flatnonzero(infrastructure_mask(inst))
        self.crit_items = np.flatnonzero(it.kind == 0)
        self.class_order = sorted(range(n_g), key=lambda g: len(inst.classes[g]))
        # within a class, the most restricted sources pay first (as the baselines' ledger does)
        width = {f: sum(f in cls for cls in inst.classes) for f in range(len(inst.sources))}
        self.source_order = [sorted(cls, key=lambda f: (width[f], f)) for cls in inst.classes]
        self.base_start = np.where(inst.base_met, -1, NEVER).astype(np.int16)

    # ----- money ---------------------------------------------------------------------------------
    def _pay(self, demand: np.ndarray, wanted: np.ndarray, money: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pay the wanted items in class-priority order while money lasts; return paid mask and money used.

        ``wanted`` says which items ask to be paid (an item may cost nothing), ``demand``
        what they cost (zero elsewhere).
        """
        paid = np.zeros(demand.shape, dtype=bool)
        # only items someone asks money for this year (in priority order within classes)
        cols = self.order[wanted[:, self.order].any(axis=0)]
        if cols.size == 0:
            return paid, np.zeros_like(money)
        seg = self.items.cls[cols]
        d = demand[:, cols]
        cum = np.cumsum(d, axis=1)
        first = np.searchsorted(seg, seg)  # first column of each item's class segment
        before = np.concatenate([np.zeros((d.shape[0], 1)), cum], axis=1)[:, first]
        ok = wanted[:, cols] & (cum - before <= money[:, seg] * (1 + 1e-12) + MONEY_TOL)
        paid[:, cols] = ok
        return paid, (d * ok) @ self.onehot[cols]

    @staticmethod
    def _span(lo: np.ndarray, hi: np.ndarray, n_t: int) -> np.ndarray:
        """Year masks with bits [lo, hi) set, from int16 year indices (clipped to the horizon)."""
        one = np.uint16(1)
        lo = np.clip(lo, 0, n_t).astype(np.uint16)
        hi = np.clip(hi, 0, n_t).astype(np.uint16)
        return ((one << hi) - one) & ~((one << lo) - one)

    # ----- one block -------------------------------------------------------------------------------
    def run(self, params: dict[str, np.ndarray], rnd: BlockRandoms) -> BlockOutcomes:
        """Simulate a block: ``params`` holds one value per draw for each experiment parameter."""
        inst, it, s = self.inst, self.items, self.settings
        n_b = rnd.n_draws
        n_t, t0 = inst.n_years, int(inst.years[0])
        end = inst.horizon_end

        # --- what each item costs in each draw
        rho = s.overrun_district_correlation
        start_idx = np.clip(it.start - t0, 0, n_t - 1)
        z = np.sqrt(rho) * rnd.overrun_district[:, it.district, start_idx] + np.sqrt(1 - rho) * rnd.overrun_own[
            :, it.key]
        annual = (params["overrun_median"][:, None] * (it.cost / it.lead)[None, :]
                  * np.exp(self.sigma[it.overrun_kind][None, :] * z))

        # --- money, year by year
        ratio = np.clip(params["disbursement_mean"][:, None, None] + s.disbursement_sd * rnd.disbursement, 0, 1)
        budget, flows = inst.budget, self.flows
        n_f = budget.shape[0]
        backlog = np.zeros((n_b, n_f))
        carry_src = np.zeros((n_b, n_f))
        # projects under way before the horizon (re-planning) have paid their earlier years
        before = np.clip(t0 - it.start, 0, it.lead).astype(np.int16)
        paid_years = np.repeat(before[None, :], n_b, axis=0)
        started = paid_years > 0
        start_year = np.where(started, (it.start - t0).astype(np.int16), np.int16(NEVER))
        done_year = np.where(started & (paid_years == it.lead), (it.start + it.lead - 1 - t0).astype(np.int16),
                             np.int16(NEVER))
        spent = np.zeros(n_b)
        lead = it.lead.astype(np.int16)[None, :]
        for t in range(n_t):
            year = t0 + t
            due = backlog + budget[None, :, t]
            disbursed = due * ratio[:, :, t]
            backlog = due - disbursed
            avail = carry_src + disbursed
            planned = flows[:, :, t].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(planned[None, :] > 0, np.minimum(1.0, avail / planned[None, :]), 0.0)
            give = scale[:, :, None] * flows[None, :, :, t]                      # (B, F, G) source → class
            src_left = avail - give.sum(axis=2)
            committed = started & (paid_years < lead)
            eligible_new = (year + it.lead - 1 <= end) & (it.start <= year)
            due_new = ~started & eligible_new[None, :]
            demand_c = np.where(committed, annual, 0.0)
            demand_n = np.where(due_new, annual, 0.0)
            need = (demand_c + demand_n) @ self.onehot
            # a class given more than its projects ask releases the rest to its sources …
            give, src_left = _release(give, src_left, np.maximum(0.0, give.sum(axis=1) - need))
            money = give.sum(axis=1)
            # … and a class short of money draws on what the sources have left
            short = np.maximum(0.0, need - money)
            for g in self.class_order:
                if not short[:, g].any():
                    continue
                for f in self.source_order[g]:
                    take = np.minimum(short[:, g], src_left[:, f])
                    give[:, f, g] += take
                    src_left[:, f] -= take
                    short[:, g] -= take
            money = give.sum(axis=1)
            paid_c, used_c = self._pay(demand_c, committed, money)
            paid_n, used_n = self._pay(demand_n, due_new, money - used_c)
            started |= paid_n
            start_year[paid_n] = year - t0
            paid = paid_c | paid_n
            paid_years += paid
            done_year[paid & (paid_years == lead)] = t
            used = used_c + used_n
            spent += used.sum(axis=1)
            # money a class could not use goes back to its sources (carried over, or lapses)
            _, src_left = _release(give, src_left, np.maximum(0.0, money - used))
            carry_src = src_left if inst.carry_over else np.zeros_like(src_left)
        unspent = budget.sum() - spent
        planned_start = (it.start - t0)[None, :]
        slipped_projects = ((start_year > planned_start) | (start_year == NEVER)).sum(axis=1)
        unfinished = (done_year == NEVER).sum(axis=1)

        # --- when each criterion is met (year index; -1 = before the horizon, NEVER = not)
        met_start = np.repeat(self.base_start[None, :, :], n_b, axis=0)
        ci = self.crit_items
        if len(ci):
            c_of, k_of, p_of = it.commune[ci], it.criterion[ci], it.key[ci]
            q = np.minimum(0.95, self.delay_p[k_of][None, :] * params["delay_multiplier"][:, None])
            delay = geometric_years(rnd.delay[:, p_of], q)
            fail = rnd.failure[:, p_of] < self.fail_p[k_of][None, :]
            done = done_year[:, ci].astype(np.int64)
            when = np.where((done < NEVER) & ~fail, np.minimum(done + delay, NEVER), NEVER)
            met_start[:, c_of, k_of] = when
        # slipping back, then regained
        slip_p = np.minimum(np.float32(0.9), self.slip_p[None, None, :] * params["slip_multiplier"][:, None, None]
                            .astype(np.float32))
        slip_at = met_start + waiting_years(rnd.slip, slip_p)
        slip_end = slip_at + waiting_years(rnd.recover, s.recovery_probability)
        mask = self._span(met_start, np.int16(n_t), n_t) & ~self._span(slip_at, slip_end, n_t)
        # disasters: the first hit of the commune's district after an infrastructure criterion is met
        if self.infra.size:
            hits = rnd.hit < params["disaster_rate"][:, None, None]                               # (B, D, T)
            hit_bits = (hits << np.arange(n_t)[None, None, :]).sum(axis=2).astype(np.uint16)     # (B, D)
            c_hits = hit_bits[:, inst.commune_district]                                           # (B, C)
            m_inf = met_start[:, :, self.infra]
            after = ~self._span(np.int16(0), m_inf + 1, n_t)
            first_hit = _LOWEST_BIT[c_hits[:, :, None] & after]
            damaged = (rnd.damage < params["disaster_damage"][:, None, None]) & (m_inf < NEVER)
            dis_at = np.where(damaged, first_hit, np.int16(NEVER))
            dis_end = dis_at + waiting_years(rnd.rebuild, s.disaster_recovery_probability)
            mask[:, :, self.infra] &= ~self._span(dis_at, dis_end, n_t)

        # --- outcomes
        last = n_t - 1
        ntm_mask = np.bitwise_and.reduce(mask, axis=2)                                        # (B, C)
        ntm_by_t = ((ntm_mask[:, :, None] >> np.arange(n_t, dtype=np.uint16)) & 1).astype(bool)  # (B, C, T)
        ntm_end = ntm_by_t[:, :, last]
        met_end = ((mask >> np.uint16(last)) & 1).astype(bool)                                 # (B, C, K)
        criteria_end = met_end.sum(axis=2)
        done_by_end = done_year < NEVER
        adv_done = np.repeat(inst.base_adv[None, :], n_b, axis=0)
        model_done = np.repeat(inst.base_model[None, :], n_b, axis=0)
        for code, target in ((1, adv_done), (2, model_done)):
            idx = np.flatnonzero(it.kind == code)
            target[:, it.commune[idx]] |= done_by_end[:, idx]
        advanced = ntm_end & adv_done
        model = advanced & model_done
        village = {}
        for code in (3, 4):
            idx = np.flatnonzero(it.kind == code)
            village[code] = done_by_end[:, idx] @ it.quantity[idx]
        n_d = len(inst.districts)
        d_crit = np.repeat(inst.district_recognised[None, :], n_b, axis=0)
        d_adv_done = np.zeros((n_b, n_d), dtype=bool)
        for code, target in ((5, d_crit), (6, d_adv_done)):
            idx = np.flatnonzero(it.kind == code)
            target[:, it.district[idx]] |= done_by_end[:, idx]
        units = np.zeros((n_b, n_d), dtype=bool)
        units_adv = np.zeros((n_b, n_d), dtype=bool)
        for d, members in enumerate(inst.district_members):
            if len(members) == 0:
                continue
            n_adv = advanced[:, members].sum(axis=1)
            units[:, d] = ntm_end[:, members].all(axis=1) & (n_adv >= inst.district_need_adv[d]) & d_crit[:, d]
            units_adv[:, d] = (units[:, d] & (n_adv >= inst.district_need_adv2[d])
                               & (model[:, members].sum(axis=1) >= inst.district_need_model2[d]) & d_adv_done[:, d])
        floor = inst.targets.min_criteria
        return BlockOutcomes(
            ntm_by_year=ntm_by_t.sum(axis=1),
            advanced=advanced.sum(axis=1),
            model=model.sum(axis=1),
            district_units=units,
            district_advanced=units_adv,
            villages_ntm=village[3],
            villages_model=village[4],
            avg_criteria=criteria_end.mean(axis=1),
            min_criteria=criteria_end.min(axis=1),
            below_floor=(criteria_end < floor).sum(axis=1) if floor is not None else np.zeros(n_b, dtype=int),
            criterion_communes=met_end.sum(axis=1),
            spent=spent,
            unspent=unspent,
            slipped_projects=slipped_projects,
            unfinished_projects=unfinished,
            commune_ntm_count=ntm_by_t.sum(axis=0),
        )
