"""What the engine works on, block by block of draws.

A plan as arrays of items, the random numbers of a block of draws, and the yearly state
the engine carries (prices, progress, money, payments, outcomes).

Random numbers are drawn for every *potential* project (every unmet commune ×
criterion, every tier upgrade, village and district project), not only for those in the
plan, so that several plans evaluated with the same seed meet the same world (common
random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import Decisions
from ntm_sim.model.uncertainty import source_kind
from ntm_sim.simulate.settings import UncertaintySettings

NEVER = 10_000  # a year index meaning "not within the horizon"
KIND_CODES = {"criterion": 0, "advanced": 1, "model": 2, "village_ntm": 3, "village_model": 4, "district": 5,
              "district_advanced": 6}
OVERRUN_KINDS = ("infrastructure", "development", "governance", "upgrade")
MONEY_TOL = 1e-2  # million VND: solver round-off on planned flows


@dataclass(frozen=True, slots=True)
class RandomKeys:
    """Where each potential project's random numbers sit (plan-independent).

    The keys run in blocks: the criterion projects (``0 … n_projects``), then one key per
    commune for the advanced upgrade (from :attr:`adv`), the model upgrade (:attr:`model`),
    the villages (:attr:`village_ntm`) and the model villages (:attr:`village_model`), then
    one per district for the district unit (:attr:`district`) and the advanced district
    (:attr:`district_adv`); :attr:`total` is the number of keys.
    """

    n_projects: int
    n_communes: int
    n_years: int
    n_districts: int
    adv: int = field(init=False)
    model: int = field(init=False)
    village_ntm: int = field(init=False)
    village_model: int = field(init=False)
    district: int = field(init=False)
    district_adv: int = field(init=False)
    total: int = field(init=False)

    def __post_init__(self) -> None:
        c, d = self.n_communes, self.n_districts
        ends = np.cumsum([self.n_projects, c, c, c, c, d, d])  # where each block starts, then the end
        for name, at in zip(_KEY_BLOCKS, ends, strict=True):
            object.__setattr__(self, name, int(at))  # frozen: set once, here


_KEY_BLOCKS = ("adv", "model", "village_ntm", "village_model", "district", "district_adv", "total")


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


def waiting_rate(p: np.ndarray | float) -> np.ndarray:
    """The float32 rate ``1 / -log(1 - p)`` of :func:`waiting_years` (inf when p = 0, 0 when p = 1)."""
    p = np.minimum(np.asarray(p, dtype=np.float32), np.float32(1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.float32(1.0) / -np.log1p(-p)


def waiting_years(e: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """Years until an event with yearly probability ``p`` first happens (≥ 1; NEVER if p = 0).

    ``e`` holds standard exponential variates (−log of uniforms): the year count is
    ``1 + floor(e / -log(1 - p))``, a geometric variate.
    """
    rate = waiting_rate(p)
    with np.errstate(invalid="ignore"):
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
    by_commune: np.ndarray  # (B, C) communes by distance to completion at the last ranking (sorted again each year)


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
