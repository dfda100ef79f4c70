"""The Monte Carlo engine: a fixed plan over many draws, vectorised in NumPy.

One call evaluates a *block* of draws at once: arrays are draws × items (money),
draws × communes × criteria (status) and draws × districts × years (disasters). The
only Python loops are over the (few) years of the horizon, and over the few
eligibility classes when money is reallocated.

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

Random numbers are drawn for every *potential* project (every unmet commune ×
criterion, every tier upgrade, village and district project), not only for those in the
plan, so that several plans evaluated with the same seed meet the same world (common
random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.model.ledger import allocate_flows, class_spend
from ntm_sim.model.plan import Decisions
from ntm_sim.model.uncertainty import source_kind
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
    """The projects of a plan (and its reserve list), as arrays in a fixed order.

    ``unit`` says whose distance to completion ranks the item (see the module
    docstring): the commune ``c`` for criterion projects, ``n_communes + c`` for the
    commune's tier upgrades and villages, ``2 · n_communes + d`` for district projects.
    """

    kind: np.ndarray
    commune: np.ndarray       # -1 for district projects
    district: np.ndarray
    criterion: np.ndarray     # -1 unless a criterion project
    key: np.ndarray           # index into the potential-project random numbers
    cls: np.ndarray
    cost: np.ndarray
    lead: np.ndarray
    start: np.ndarray         # planned start year (NO_START for the reserve list)
    quantity: np.ndarray
    overrun_kind: np.ndarray  # index into OVERRUN_KINDS
    reserve: np.ndarray       # on the plan's reserve list
    unit: np.ndarray

    def __len__(self) -> int:
        return len(self.cost)


NO_START = 1_000_000  # planned start of a reserve project: none


def plan_items(inst: Instance, dec: Decisions) -> PlanItems:
    """Turn a plan's decisions into items: criterion projects (with the reserve list), then the rest."""
    keys = random_keys(inst)
    n_c = inst.n_communes
    kinds = inst.dataset.criteria
    kind_of_criterion = np.array([OVERRUN_KINDS.index(kinds[k].kind) for k in inst.criteria], dtype=np.int64)
    up = OVERRUN_KINDS.index("upgrade")
    reserve = dec.reserve if dec.reserve is not None else np.zeros(inst.n_projects, dtype=bool)
    core = dec.proj_start >= 0
    ps = np.flatnonzero(core | reserve)
    parts: list[dict[str, np.ndarray]] = [{
        "kind": np.zeros(len(ps)), "commune": inst.proj_commune[ps], "district": inst.commune_district[
            inst.proj_commune[ps]], "criterion": inst.proj_criterion[ps], "key": ps, "cls": inst.proj_class[ps],
        "cost": inst.proj_cost[ps], "lead": inst.proj_lead[ps],
        "start": np.where(core[ps], dec.proj_start[ps], NO_START), "quantity": np.ones(len(ps)),
        "overrun_kind": kind_of_criterion[inst.proj_criterion[ps]], "reserve": ~core[ps],
        "unit": inst.proj_commune[ps]}]

    def commune_part(code: int, cs: np.ndarray, cost: np.ndarray, lead: np.ndarray | int, start: np.ndarray,
                     qty: np.ndarray | int, offset: int) -> dict[str, np.ndarray]:
        n = len(cs)
        return {"kind": np.full(n, code), "commune": cs, "district": inst.commune_district[cs],
                "criterion": np.full(n, -1), "key": offset + cs, "cls": inst.commune_upgrade_class[cs],
                "cost": cost, "lead": np.broadcast_to(lead, n), "start": start, "quantity": np.broadcast_to(qty, n),
                "overrun_kind": np.full(n, up), "reserve": np.zeros(n, dtype=bool), "unit": n_c + cs}

    for code, starts, cost, lead, offset in ((1, dec.adv_start, inst.adv_cost, inst.adv_lead, keys.adv),
                                             (2, dec.model_start, inst.model_cost, inst.model_lead, keys.model)):
        cs = np.flatnonzero(starts >= 0)  # leads per commune: stretched to the absorption limit
        parts.append(commune_part(code, cs, cost[cs], lead[cs], starts[cs], 1, offset))
    for code, counts, unit_cost, offset in ((3, dec.village_ntm, inst.village_ntm_cost, keys.village_ntm),
                                            (4, dec.village_model, inst.village_model_cost, keys.village_model)):
        cs, ts = np.nonzero(counts)
        q = counts[cs, ts]
        parts.append(commune_part(code, cs, unit_cost[cs] * q, 1, inst.years[ts], q, offset))
    for code, starts, cost, offset in ((5, dec.district_start, inst.district_cost, keys.district),
                                       (6, dec.district_adv_start, inst.district_adv_cost, keys.district_adv)):
        ds = np.flatnonzero(starts >= 0)
        n = len(ds)
        parts.append({"kind": np.full(n, code), "commune": np.full(n, -1), "district": ds,
                      "criterion": np.full(n, -1), "key": offset + ds, "cls": inst.district_upgrade_class[ds],
                      "cost": cost[ds], "lead": np.ones(n), "start": starts[ds], "quantity": np.ones(n),
                      "overrun_kind": np.full(n, up), "reserve": np.zeros(n, dtype=bool), "unit": 2 * n_c + ds})
    dtypes = {"kind": np.int8, "cost": np.float64, "reserve": bool}
    cols = {name: np.concatenate([np.asarray(p[name]) for p in parts]).astype(dtypes.get(name, np.int64))
            for name in parts[0]}
    return PlanItems(**cols)


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
    event: np.ndarray              # (B, n_years) uniform in [0, 1): a province-wide disaster this year
    revoke: np.ndarray             # (B, n_communes, n_years) uniform in [0, 1): a review carries the rule out

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
    # communes without a district (units from 1 July 2025) share one more area, the province, for the
    # area-wide shocks (cost overruns, disasters): position -1 of the area axis
    n_d += bool((inst.commune_district < 0).any())
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
        event=rng.random((n_draws, n_t)),
        revoke=rng.random((n_draws, n_c, n_t), dtype=np.float32),
    )


def infrastructure_mask(inst: Instance) -> np.ndarray:
    """Which criteria are infrastructure (the ones disasters damage)."""
    crit = inst.dataset.criteria
    return np.array([crit[k].kind == "infrastructure" for k in inst.criteria])


@dataclass
class BlockOutcomes:
    """Outcomes of a block of draws (per draw), plus per-commune counts summed over draws."""

    ntm_by_year: np.ndarray          # (B, T) communes counted NTM (as targets.communes_count says: recognised)
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
    slipped_projects: np.ndarray     # planned projects that started later than planned, or never
    unfinished_projects: np.ndarray  # planned projects not finished by the horizon
    reserve_funded: np.ndarray       # reserve-list projects finished by the horizon
    recovery: np.ndarray             # money taken from the flexible sources for disaster recovery
    recognised_by_year: np.ndarray   # (B, T) communes recognised NTM (kept until a review revokes it)
    meeting_by_year: np.ndarray      # (B, T) communes meeting every criterion
    commune_ntm_count: np.ndarray    # (n_communes, T): draws in which the commune is counted NTM by year
    criteria_by_year: np.ndarray     # (B, T) average criteria met per commune
    advanced_by_year: np.ndarray     # (B, T) communes recognised advanced
    advanced_criteria: np.ndarray    # (B, T) criteria met by them, summed (divide by the count for the mean)
    start_recognised: np.ndarray     # (B, T, 7) communes recognised at the start and still recognised:
                                     # count, criteria met summed, how many meet every criterion / are short
                                     # of fewer than the rule's with-key count / than its own count; and the
                                     # communes advanced at the start still advanced: count, criteria summed
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


BIG = 1e9      # million VND: distance added for each unmet criterion the plan does not fund


def spare_reserve(inst: Instance, flows: np.ndarray) -> np.ndarray:
    """Money each source must keep after year ``t`` for the plan's later years (n_f × n_t).

    The largest cumulative amount by which the plan's planned spending from the source
    exceeds its envelopes over any run of later years; zero without carry-over (money
    left over lapses anyway).
    """
    n_f, n_t = inst.budget.shape
    keep = np.zeros((n_f, n_t))
    if not inst.carry_over:
        return keep
    excess = flows.sum(axis=1) - inst.budget            # (n_f, n_t)
    for t in range(n_t - 1):
        keep[:, t] = np.maximum(0.0, np.cumsum(excess[:, t + 1:], axis=1).max(axis=1))
    return keep


@dataclass
class ItemPrices:
    """Yearly price of every item (B × items) if it starts in a given year, for one block.

    The price is the item's cost per year of lead time, times the draw's overrun median
    and a lognormal factor: a district-and-year part (correlation ``rho`` within a
    district) and the item's own part.
    """

    base: np.ndarray        # (B, items) overrun median × cost per year of lead
    sigma: np.ndarray       # (1, items) lognormal spread of the item's kind
    own: np.ndarray         # (B, items) the item's own normal part, already scaled by √(1 − ρ)
    root_rho: float         # √ρ: weight of the district-and-year part
    district_normal: np.ndarray  # (B, n_districts, T) the block's district-and-year normals
    district: np.ndarray    # (items,) each item's district

    def at(self, t: int) -> np.ndarray:
        """Prices (B × items) of items starting in year index ``t``."""
        return self.base * np.exp(self.sigma * (self.root_rho * self.district_normal[:, self.district, t] + self.own))


@dataclass
class ItemProgress:
    """Where every item stands in every draw (B × items); updated in place year by year."""

    paid_years: np.ndarray  # int16: years paid so far
    started: np.ndarray     # bool: paid at least once
    annual: np.ndarray      # yearly price, fixed when the item starts (0 before)
    start_year: np.ndarray  # int16 year index of the first payment (NEVER: not started)
    done_year: np.ndarray   # int16 year index of the last payment (NEVER: not finished)


@dataclass
class SourceMoney:
    """Every source's money in every draw (B × sources), carried from year to year."""

    ratio: np.ndarray    # (B, F, T) share of what is due that each source disburses each year
    backlog: np.ndarray  # owed by late disbursement, not yet paid out
    carry: np.ndarray    # left over from earlier years (zero without carry-over)
    spent: np.ndarray    # (B,) money spent so far
    take: np.ndarray     # (B, T) share of the flexible sources' money in hand taken for disaster recovery
    recovery: np.ndarray  # (B,) money taken for recovery so far


@dataclass
class YearItems:
    """One year's view of the items (B × items): price, payment order and who asks for money."""

    cost: np.ndarray        # what each item costs this year (its fixed price once started)
    order: np.ndarray       # (B, pairs) the (class, unit) pairs in payment order
    under_way: np.ndarray   # started and not yet paid for ``lead`` years
    due_new: np.ndarray     # planned projects due to start (planned start reached, able to finish)
    can_finish: np.ndarray  # (1, items) would finish by the horizon if it started this year


@dataclass
class Payments:
    """What one year pays: items paid (B × items, bool) and money used per class (B × G)."""

    paid: np.ndarray
    used: np.ndarray

    def add(self, paid: np.ndarray, used: np.ndarray) -> None:
        """Add a further pass's payments (in place)."""
        self.paid |= paid
        self.used += used


def threshold_risk(inst: Instance, settings: UncertaintySettings) -> np.ndarray:
    """Multiplier (C × K) of failure and slip probabilities: distance from the threshold.

    ``1 + threshold_zone3_factor × Zone III + threshold_gap_factor × share of criteria
    missed at the start`` for the threshold criteria (income, poverty), 1 elsewhere.
    """
    n_k = len(inst.criteria)
    missed = 1.0 - inst.base_met.sum(axis=1) / max(n_k, 1)
    commune = (1.0 + settings.threshold_zone3_factor * inst.especially_difficult.astype(float)
               + settings.threshold_gap_factor * missed)
    threshold = np.isin(inst.criteria, settings.threshold_criteria)
    return np.where(threshold[None, :], commune[:, None], 1.0)


def disbursement_factor(inst: Instance, settings: UncertaintySettings) -> np.ndarray:
    """Multiplier (F × T) of the draw's disbursement mean: kind of source times year."""
    table = inst.dataset.sources
    kinds = [source_kind(sid, *(str(table.loc[sid, col]) if sid in table.index and col in table.columns else ""
                                for col in ("name_vi", "name_en"))) for sid in inst.sources]
    kind = np.array([settings.disbursement_kind_factor.get(k, 1.0) for k in kinds])
    year = np.array([settings.disbursement_year_factor.get(int(y), 1.0) for y in inst.years])
    return kind[:, None] * year[None, :]


def flexible_sources(inst: Instance) -> np.ndarray:
    """The flexible sources, which disaster recovery draws on (the gap source excluded).

    They may pay for a commune's tiers and villages (eligible for everything): in Lào Cai
    the provincial and district budgets.
    """
    flexible = sorted({f for g in set(inst.commune_upgrade_class.tolist()) for f in inst.classes[g]}
                      - {inst.gap_source})
    return np.array(flexible, dtype=np.int64)


class Engine:
    """Evaluates one plan of one instance under a set of uncertainty settings."""

    def __init__(self, inst: Instance, dec: Decisions, settings: UncertaintySettings) -> None:
        if inst.n_years > 15:
            raise ValueError("the engine handles horizons of up to 15 years")
        self.inst = inst
        self.settings = settings
        self.items = it = plan_items(inst, dec)
        self.flows = dec.flows if dec.flows is not None else allocate_flows(inst, class_spend(inst, dec))[0]
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
        self.has_reserve = bool(it.reserve.any())
        self.core = ~it.reserve[None, :]            # (1, items): the plan's own projects, not its reserve list
        self.lead = it.lead.astype(np.int16)[None, :]

    # ----- ranking ---------------------------------------------------------------------------------
    def _pair_order(self, cost: np.ndarray, paid_years: np.ndarray) -> np.ndarray:
        """Per draw, the (class, unit) pairs in payment order: by class, then units closest to completion."""
        inst, it = self.inst, self.items
        n_b, n_c = cost.shape[0], inst.n_communes
        if not len(it):
            return np.zeros((n_b, 0), dtype=np.int64)
        ci = self.crit_items
        left = cost[:, ci] * (it.lead[ci] - paid_years[:, ci])                  # money still needed
        rows = np.repeat(np.arange(n_b) * n_c, len(ci)) + np.tile(it.commune[ci], n_b)
        distance = np.bincount(rows, weights=left.ravel(), minlength=n_b * n_c).reshape(n_b, n_c).astype(float)
        distance += BIG * self.outside[None, :]
        n_d = len(inst.districts)
        own = np.where(inst.commune_district >= 0, inst.commune_district, n_d)  # n_d: no district, dropped
        rows = np.repeat(np.arange(n_b) * (n_d + 1), n_c) + np.tile(own, n_b)
        district = np.bincount(rows, weights=distance.ravel(), minlength=n_b * (n_d + 1)).reshape(
            n_b, n_d + 1)[:, :n_d]
        # units in order: criterion projects by commune distance, then the communes' upgrades in the
        # same order, then districts by the sum of their communes' distances (ties by unit number)
        by_commune = np.argsort(distance, axis=1, kind="stable")
        groups = (by_commune, n_c + by_commune, 2 * n_c + np.argsort(district, axis=1, kind="stable"))
        parts = []
        for g in self.classes_with_pairs:   # each class's pairs: its units picked out of every row, in order
            for k in self.class_groups[g]:
                units = groups[k]
                parts.append(self.pair_of_unit[g][units[self.unit_in_class[g][units]].reshape(n_b, -1)])
        return np.concatenate(parts, axis=1)

    # ----- money -----------------------------------------------------------------------------------
    def _class_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum item values (B × items, item order) per class (B × classes)."""
        out = np.zeros((values.shape[0], len(self.inst.classes)))
        if len(self.sorted):
            out[:, self.class_of_segment] = np.add.reduceat(values[:, self.sorted], self.class_first, axis=1)
        return out

    def _pay(self, demand: np.ndarray, wanted: np.ndarray, money: np.ndarray,
             order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pay the wanted items in each class's order while money lasts; return paid mask and money used.

        ``demand`` is what every item would cost this year, ``wanted`` which items ask to
        be paid (an item may cost nothing), ``order`` the pairs' payment order per draw.
        """
        paid = np.zeros(demand.shape, dtype=bool)
        wanted_s = wanted[:, self.sorted]
        pos = np.flatnonzero(wanted_s.any(axis=0))  # only items some draw asks money for
        if not len(pos):
            return paid, np.zeros_like(money)
        items = self.sorted[pos]
        want = wanted_s[:, pos]
        d = np.where(want, demand[:, items], 0.0)
        pairs = self.pair_of_sorted[pos]
        first = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
        segment = np.cumsum(np.r_[True, pairs[1:] != pairs[:-1]]) - 1
        cum = np.cumsum(d, axis=1)
        within = cum - (cum - d)[:, first][:, segment]            # up to the item, within its pair
        pair_total = np.zeros((d.shape[0], len(self.pair_first)))
        pair_total[:, pairs[first]] = np.add.reduceat(d, first, axis=1)
        ranked = np.take_along_axis(pair_total, order, axis=1)
        before = np.empty_like(ranked)
        for g in range(len(self.class_pos) - 1):   # exclusive running sum within each class's range
            lo, hi = self.class_pos[g], self.class_pos[g + 1]
            if hi > lo:
                seg = np.cumsum(ranked[:, lo:hi], axis=1)
                before[:, lo:hi] = seg - ranked[:, lo:hi]
        pair_before = np.empty_like(before)
        np.put_along_axis(pair_before, order, before, axis=1)
        cls = self.cls_sorted[pos]
        ok = want & (pair_before[:, pairs] + within <= money[:, cls] * (1 + 1e-12) + MONEY_TOL)
        paid[:, items] = ok
        used = np.zeros_like(money)
        starts = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
        used[:, cls[starts]] = np.add.reduceat(np.where(ok, d, 0.0), starts, axis=1)
        return paid, used

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

    @staticmethod
    def _span(lo: np.ndarray, hi: np.ndarray, n_t: int) -> np.ndarray:
        """Year masks with bits [lo, hi) set, from int16 year indices (clipped to the horizon)."""
        one = np.uint16(1)
        lo = np.clip(lo, 0, n_t).astype(np.uint16)
        hi = np.clip(hi, 0, n_t).astype(np.uint16)
        return ((one << hi) - one) & ~((one << lo) - one)

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
        # when each criterion is met (year index; -1 = before the horizon, NEVER = not)
        met_start = np.repeat(self.base_start[None, :, :], n_b, axis=0)
        if len(projects):
            c_of, k_of = inst.proj_commune[projects], inst.proj_criterion[projects]
            q = np.minimum(0.95, self.delay_p[k_of][None, :] * params["delay_multiplier"][:, None])
            delay = geometric_years(rnd.delay[:, projects], q)
            fail = rnd.failure[:, projects] < np.minimum(0.95, self.fail_p[k_of] * self.risk[c_of, k_of])[None, :]
            done = done.astype(np.int64)
            when = np.where((done < NEVER) & ~fail, np.minimum(done + delay, NEVER), NEVER)
            met_start[:, c_of, k_of] = when
        # slipping back, then regained
        slip_p = np.minimum(np.float32(0.9), self.slip_ck[None, :, :] * params["slip_multiplier"][:, None, None]
                            .astype(np.float32))
        slip_at = met_start + waiting_years(rnd.slip, slip_p)
        slip_end = slip_at + waiting_years(rnd.recover, s.recovery_probability)
        mask = self._span(met_start, np.int16(n_t), n_t) & ~self._span(slip_at, slip_end, n_t)
        # disasters: the first hit of the commune's district after an infrastructure criterion is met
        if self.infra.size:
            intensity = self.disasters(params, rnd)                                               # (B, D, T)
            hit_bits = ((intensity > 0) << np.arange(n_t)[None, None, :]).sum(axis=2).astype(np.uint16)  # (B, D)
            c_hits = hit_bits[:, inst.commune_district]                                           # (B, C)
            m_inf = met_start[:, :, self.infra]
            after = ~self._span(np.int16(0), m_inf + 1, n_t)
            first_hit = _LOWEST_BIT[c_hits[:, :, None] & after]                                   # (B, C, I)
            at_hit = np.take_along_axis(intensity[:, inst.commune_district, :],
                                        np.minimum(first_hit, n_t - 1).astype(np.int64), axis=2)
            damage_p = np.minimum(1.0, params["disaster_damage"][:, None, None] * 2.0 * at_hit)
            damaged = (rnd.damage < damage_p) & (m_inf < NEVER) & (first_hit < NEVER)
            dis_at = np.where(damaged, first_hit, np.int16(NEVER))
            dis_end = dis_at + waiting_years(rnd.rebuild, s.disaster_recovery_probability)
            mask[:, :, self.infra] &= ~self._span(dis_at, dis_end, n_t)
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
            order=self._pair_order(cost, progress.paid_years),
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
        need = self._class_sums(np.where((y.under_way & core) | y.due_new, y.cost, 0.0))
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
            need = self._class_sums(np.where(wanted, y.cost, 0.0))
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

    # ----- outcomes ----------------------------------------------------------------------------------
    def _outcomes(self, mask: np.ndarray, progress: ItemProgress, money: SourceMoney,
                  revoke: np.ndarray) -> BlockOutcomes:
        """Per-draw outcomes from the criteria's year masks, the items' progress and the reviews."""
        inst, it = self.inst, self.items
        n_b, n_t = mask.shape[0], inst.n_years
        last = n_t - 1
        rec = inst.recognition
        if rec is not None and rec.assessed_from > 0:  # before the set is in force: the old set, which they met
            mask = mask.copy()
            mask[:, inst.recognised, :] |= np.uint16((1 << rec.assessed_from) - 1)
        ntm_mask = np.bitwise_and.reduce(mask, axis=2)                                        # (B, C)
        ntm_by_t = ((ntm_mask[:, :, None] >> np.arange(n_t, dtype=np.uint16)) & 1).astype(bool)  # (B, C, T)
        ntm_end = ntm_by_t[:, :, last]
        met_end = ((mask >> np.uint16(last)) & 1).astype(bool)                                 # (B, C, K)
        criteria_by_t = np.stack([((mask >> np.uint16(t)) & 1).sum(axis=2, dtype=np.int16) for t in range(n_t)],
                                 axis=2)                                                       # (B, C, T)
        criteria_end = criteria_by_t[:, :, last]
        recognised, ever_revoked = self._recognised(mask, ntm_by_t, revoke)
        advanced_t, model_t = self._tiers(progress, ntm_by_t, recognised)
        advanced, model = advanced_t[:, :, last], model_t[:, :, last]
        done_by_end = progress.done_year < NEVER
        units, units_adv = self._district_units(done_by_end, ntm_end, advanced, model, ever_revoked)
        village = {}
        for code in (3, 4):  # new NTM villages, new model villages
            idx = np.flatnonzero(it.kind == code)
            village[code] = done_by_end[:, idx] @ it.quantity[idx]
        floor = inst.targets.min_criteria
        n_adv = advanced_t.sum(axis=1)
        adv_criteria = (criteria_by_t * advanced_t).sum(axis=1)
        counted = recognised if inst.targets.communes_count == "recognised" else ntm_by_t
        return BlockOutcomes(
            ntm_by_year=counted.sum(axis=1),
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
            spent=money.spent,
            unspent=inst.budget.sum() - money.spent,
            **self._project_counts(progress),
            recovery=money.recovery,
            recognised_by_year=recognised.sum(axis=1),
            meeting_by_year=ntm_by_t.sum(axis=1),
            commune_ntm_count=counted.sum(axis=0),
            criteria_by_year=criteria_by_t.mean(axis=1),
            advanced_by_year=n_adv,
            advanced_criteria=adv_criteria,
            start_recognised=self._start_recognised(criteria_by_t, recognised, advanced_t),
        )

    def _recognised(self, mask: np.ndarray, ntm_by_t: np.ndarray,
                    revoke: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Recognition (B × C × T) kept until a review carries the revocation rule out; and who lost it (B × C).

        A commune recognised at the start is recognised; one meeting every criterion at
        the end of a year is recognised then; from the first review on, a recognised
        commune that the rule holds at the end of a year (:meth:`Recognition.triggered`) loses
        its recognition with ``revocation_probability``.
        """
        inst = self.inst
        rec = inst.recognition
        recognised = np.repeat(inst.recognised[None, :], ntm_by_t.shape[0], axis=0)
        ever_revoked = np.zeros_like(recognised)
        out = np.zeros_like(ntm_by_t)
        p = np.float32(self.settings.revocation_probability)
        for t in range(ntm_by_t.shape[2]):
            meets = ntm_by_t[:, :, t]
            if rec is not None and t >= rec.review_from:
                met = ((mask >> np.uint16(t)) & 1).astype(bool)
                revoked = recognised & ~meets & rec.triggered(met) & (revoke[:, :, t] < p)
                ever_revoked |= revoked
                recognised = (recognised & ~revoked) | meets
            else:
                recognised = recognised | meets
            out[:, :, t] = recognised
        return out, ever_revoked

    def _start_recognised(self, criteria_by_t: np.ndarray, recognised: np.ndarray,
                          advanced: np.ndarray) -> np.ndarray:
        """Communes recognised (and advanced) at the start and still so, by year (B × T × 7 ints).

        See :class:`BlockOutcomes` for the seven columns.
        """
        inst = self.inst
        n_k = len(inst.criteria)
        rec = inst.recognition
        with_key, alone = ((rec.unmet_with_key, rec.unmet_alone) if rec is not None
                           else (math.ceil(0.3 * n_k - 1e-9), math.ceil(0.5 * n_k - 1e-9)))
        keep = recognised[:, inst.recognised, :]                       # (B, R, T)
        crit = criteria_by_t[:, inst.recognised, :]
        unmet = n_k - crit
        adv = advanced[:, inst.base_adv, :]
        return np.stack([keep.sum(axis=1), (crit * keep).sum(axis=1), (keep & (unmet == 0)).sum(axis=1),
                         (keep & (unmet < with_key)).sum(axis=1), (keep & (unmet < alone)).sum(axis=1),
                         adv.sum(axis=1), (criteria_by_t[:, inst.base_adv, :] * adv).sum(axis=1)],
                        axis=2).astype(np.int32)

    def _project_counts(self, progress: ItemProgress) -> dict[str, np.ndarray]:
        """Per draw: planned projects that slipped or did not finish, and reserve projects finished."""
        it = self.items
        planned_start = (it.start - int(self.inst.years[0]))[None, :]
        start_year, done_year = progress.start_year, progress.done_year
        return {
            "slipped_projects": (self.core & ((start_year > planned_start) | (start_year == NEVER))).sum(axis=1),
            "unfinished_projects": (self.core & (done_year == NEVER)).sum(axis=1),
            "reserve_funded": (~self.core & (done_year < NEVER)).sum(axis=1),
        }

    def _tiers(self, progress: ItemProgress, ntm_by_t: np.ndarray,
               recognised: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advanced and top-tier communes by year (B × C × T, bool).

        Only the tiers the criteria set issues. A tier recognised at the start is kept with
        the commune's recognition; a new one counts from the year its upgrade is done while
        the commune meets every criterion and has the tier it requires (the top tier: the
        advanced one, or NTM under a set without an advanced tier, Decision 51).
        """
        inst, it = self.inst, self.items
        n_b, n_c, n_t = ntm_by_t.shape
        years = np.arange(n_t, dtype=np.int16)
        new = {}
        for code in (1, 2):
            idx = np.flatnonzero(it.kind == code)
            done = np.zeros((n_b, n_c, n_t), dtype=bool)
            done[:, it.commune[idx], :] = progress.done_year[:, idx, None] <= years[None, None, :]
            new[code] = done
        advanced = ((inst.base_adv[None, :, None] & recognised) | (ntm_by_t & new[1])) & inst.has_advanced_tier
        required = advanced if inst.has_advanced_tier else ntm_by_t
        model = ((inst.base_model[None, :, None] & recognised) | (required & new[2])) & inst.has_model_tier
        return advanced, model

    def _district_units(self, done_by_end: np.ndarray, ntm_end: np.ndarray, advanced: np.ndarray,
                        model: np.ndarray, ever_revoked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """District-level units and advanced districts at the horizon (B × n_districts, bool).

        A recognised unit is kept until the district rule triggers (``district_limit`` of
        its communes revoked); a new one needs every commune meeting every criterion,
        enough advanced communes and its district criteria.
        """
        inst, it = self.inst, self.items
        n_b, n_d = done_by_end.shape[0], len(inst.districts)
        d_crit = np.repeat(inst.district_recognised[None, :], n_b, axis=0)
        d_adv_done = np.zeros((n_b, n_d), dtype=bool)
        for code, target in ((5, d_crit), (6, d_adv_done)):
            idx = np.flatnonzero(it.kind == code)
            target[:, it.district[idx]] |= done_by_end[:, idx]
        units = np.zeros((n_b, n_d), dtype=bool)
        units_adv = np.zeros((n_b, n_d), dtype=bool)
        for d, members in enumerate(inst.district_members):
            if len(members) == 0 or not inst.has_district_units:
                continue  # the criteria set recognises no district unit (Decision 51)
            n_adv = advanced[:, members].sum(axis=1)
            kept = np.zeros(n_b, dtype=bool)
            if inst.district_recognised[d]:
                limit = inst.recognition.district_limit[d] if inst.recognition is not None else len(members) + 1
                kept = ever_revoked[:, members].sum(axis=1) < limit
            units[:, d] = kept | (ntm_end[:, members].all(axis=1) & (n_adv >= inst.district_need_adv[d]) & d_crit[:, d])
            units_adv[:, d] = (units[:, d] & inst.has_advanced_districts & (n_adv >= inst.district_need_adv2[d])
                               & (model[:, members].sum(axis=1) >= inst.district_need_model2[d]) & d_adv_done[:, d])
        return units, units_adv
