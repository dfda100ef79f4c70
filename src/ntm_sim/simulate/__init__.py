"""Monte Carlo evaluation of plans: experiments and outcomes on one index (EMA shape).

>>> result = simulate(inst, {"recommended": dec}, n_draws=10_000, seed=1)  # doctest: +SKIP
>>> result.experiments.head()                                          # doctest: +SKIP
>>> result.outcomes["recommended"]["communes_ntm"].mean()              # doctest: +SKIP

Draws are grouped in blocks of :data:`BLOCK` draws; block ``b`` always draws its random
numbers from ``SeedSequence([seed, 1, b])`` (the experiments table from
``SeedSequence([seed, 0])``), so the numbers do not depend on how many blocks run at once, on which
machine, or whether they run locally or on a Dask cluster.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ntm_sim.model.funding_gap import with_gap_funded
from ntm_sim.model.instance import Instance
from ntm_sim.model.plan import Decisions, make_plan
from ntm_sim.model.uncertainty import Range, UncertaintySettings
from ntm_sim.simulate.blocks import BlockOutcomes, BlockRandoms, draw_block
from ntm_sim.simulate.engine import Engine
from ntm_sim.simulate.runner import run_tasks

__all__ = ["BLOCK", "DrawCache", "MEMORY_LIMIT", "SAMPLERS", "SimulationResult", "UncertaintySettings", "Range",
           "memory_estimate", "sample_experiments", "simulate", "success_weights"]

BLOCK = 1000
# refuse a simulation whose estimate passes this (a fixed figure, so that the same input
# is accepted or refused on any machine; the suite's machines have 24 GiB)
MEMORY_LIMIT = 6 * 2**30
# bytes per draw, project and year while a block runs (measured: Lào Cai, 391 projects,
# 5 years, 4 plans, 1,000 draws: +110 MB); and copies of each kept outcome (arrays, the
# tidy table, its CSV text)
_BLOCK_BYTES = 64
_KEPT_COPIES = 3
Sampler = Literal["mc", "lhs", "sobol"]
SCALAR_OUTCOMES = ("communes_ntm", "advanced", "model", "district_units", "villages_ntm", "villages_model",
                   "avg_criteria", "min_criteria", "below_floor", "spent", "unspent", "slipped_projects",
                   "unfinished_projects", "reserve_funded", "recovery", "communes_recognised")


def _sobol(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc  # here: scipy.stats takes half a second to import, and "mc" needs none of it

    with warnings.catch_warnings():  # balance needs 2^m points; any n is still valid
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=d, scramble=True, seed=rng).random(n)


def _latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, seed=rng).random(n)


#: Samplers by name: (draws, dimensions, generator) → uniforms in [0, 1), one row per draw.
SAMPLERS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "mc": lambda n, d, rng: rng.random((n, d)),
    "lhs": _latin_hypercube,
    "sobol": _sobol,
}


def sample_experiments(settings: UncertaintySettings, n_draws: int, sampler: Sampler = "mc",
                       seed: int = 0) -> pd.DataFrame:
    """Sample the experiment parameters (one row per draw).

    Parameters
    ----------
    settings
        Ranges of the parameters; fixed ranges give a constant column.
    n_draws
        Number of draws.
    sampler
        ``mc`` (independent uniforms), ``lhs`` (Latin hypercube) or ``sobol`` (scrambled
        Sobol; best with a power of two draws).
    seed
        Seed; the same seed gives the same table.
    """
    ranges = settings.ranges()
    free = [name for name, r in ranges.items() if not r.fixed]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")
    if free:
        u = SAMPLERS[sampler](n_draws, len(free), rng)
    else:
        u = np.zeros((n_draws, 0))
    data = {}
    for name, r in ranges.items():
        data[name] = r.low + (u[:, free.index(name)] * (r.high - r.low) if name in free else 0.0)
    frame = pd.DataFrame(data, index=pd.RangeIndex(n_draws, name="draw"))
    return frame


@dataclass
class SimulationResult:
    """Experiments and outcomes of several plans on common random numbers.

    Attributes
    ----------
    experiments
        One row per draw: the sampled experiment parameters.
    outcomes
        Plan name → outcome name → array with one row per draw (``ntm_by_year`` has
        one column per year, ``criterion_communes`` one per criterion).
    commune_probability
        Plan name → communes × years: probability of being NTM by the end of each year.
    """

    instance: Instance = field(repr=False)
    settings: UncertaintySettings
    experiments: pd.DataFrame
    outcomes: dict[str, dict[str, np.ndarray]]
    commune_probability: dict[str, pd.DataFrame]
    seed: int
    sampler: str
    n_draws: int
    decisions: dict[str, Decisions] = field(default_factory=dict, repr=False)

    @property
    def plans(self) -> list[str]:
        """Names of the plans simulated."""
        return list(self.outcomes)

    def target_success(self, plan: str) -> dict[str, np.ndarray]:
        """Per draw, whether each target of the scenario is reached (and all of them)."""
        from ntm_sim.model.targets import achieved_on_draws, targets_of

        inst = self.instance
        out: dict[str, np.ndarray] = {}
        for target in targets_of(inst):
            out[target.key] = target.met(achieved_on_draws(target, self.outcomes[plan], inst))
        if out:
            out["all_targets"] = np.logical_and.reduce(list(out.values()))
        return out

    def select(self, names: dict[str, str]) -> SimulationResult:
        """The same draws for some plans only, renamed (new name → name here)."""
        return SimulationResult(instance=self.instance, settings=self.settings, experiments=self.experiments,
                                outcomes={new: self.outcomes[old] for new, old in names.items()},
                                commune_probability={new: self.commune_probability[old] for new, old in names.items()},
                                seed=self.seed, sampler=self.sampler, n_draws=self.n_draws,
                                decisions={new: self.decisions[old] for new, old in names.items()
                                           if old in self.decisions})

    def to_frame(self) -> pd.DataFrame:
        """Tidy outcomes: one row per plan and draw, joined to the experiments."""
        frames = []
        years = [int(y) for y in self.instance.years]
        for plan, o in self.outcomes.items():
            cols = {name: o[name] for name in scalar_outcomes(self.instance)}
            for i, y in enumerate(years):
                cols[f"ntm_{y}"] = o["ntm_by_year"][:, i]
            for name, ok in self.target_success(plan).items():
                cols[f"reach:{name}"] = ok
            frame = pd.DataFrame(cols, index=self.experiments.index)
            frame.insert(0, "plan", plan)
            frames.append(self.experiments.join(frame))
        return pd.concat(frames).reset_index()


def scalar_outcomes(inst: Instance) -> tuple[str, ...]:
    """The :data:`SCALAR_OUTCOMES` the criteria set has something to count for (:attr:`Instance.absent_outcomes`)."""
    return tuple(name for name in SCALAR_OUTCOMES if name not in inst.absent_outcomes)


def memory_estimate(inst: Instance, n_plans: int, n_draws: int) -> int:
    """Bytes a simulation of ``n_plans`` plans over ``n_draws`` draws needs, roughly (an upper estimate).

    One block of draws at a time (draws × projects × years), plus what is kept per plan
    and draw (outcomes, the tidy table and its text).
    """
    per_draw = (len(SCALAR_OUTCOMES) + 3 * inst.n_years + 2 * len(inst.districts) + len(inst.criteria)
                + len(UncertaintySettings.PARAMETERS) + 8)
    kept = _KEPT_COPIES * 8 * per_draw * n_draws * max(n_plans, 1)
    block = _BLOCK_BYTES * min(n_draws, BLOCK) * inst.n_projects * inst.n_years  # plans run one after another
    return int(kept + block)


def _mapped_bytes() -> int | None:
    """Address space this process has mapped (what ``RLIMIT_AS`` counts), from psutil; None if unknown."""
    import psutil

    try:
        return int(psutil.Process().memory_info().vms)
    except (psutil.Error, OSError):
        return None


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _cgroup_room() -> int | None:
    """Memory left under the tightest limit of this process's control groups (v2 or v1), or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    rooms = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base, files = Path("/sys/fs/cgroup"), ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base, files = Path("/sys/fs/cgroup/memory"), ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = base / path.lstrip("/")
        while True:  # the group's and each enclosing group's limit apply
            limit, used = _read_int(folder / files[0]), _read_int(folder / files[1])
            if limit is not None and used is not None and limit < 2**60:
                rooms.append(limit - used)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return min(rooms) if rooms else None


def memory_limit() -> tuple[int, str]:
    """The memory a simulation may take here, and which limit that is.

    :data:`MEMORY_LIMIT` (6 GiB), or less when the process is capped: its address-space
    limit (``ulimit -v``, ``RLIMIT_AS``) less what it has mapped already, or the memory left
    under its control group's limit (a container's or a service's). A simulation that fits
    6 GiB but not the cap would otherwise fail half-way with a ``MemoryError``.
    """
    limits = [(MEMORY_LIMIT, "memory.limit_fixed")]
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        mapped = _mapped_bytes()
        if soft != resource.RLIM_INFINITY and mapped is not None:
            limits.append((max(soft - mapped, 0), "memory.limit_as"))
    except (ImportError, OSError, ValueError):
        pass
    room = _cgroup_room()
    if room is not None:
        limits.append((max(room, 0), "memory.limit_cgroup"))
    return min(limits, key=lambda pair: pair[0])


def check_memory(inst: Instance, n_plans: int, n_draws: int) -> None:
    """Refuse, before any work, a simulation whose memory estimate passes the limit here (:func:`memory_limit`).

    Raises
    ------
    InputError
        With the estimate, the limit and which limit it is.
    """
    need = memory_estimate(inst, n_plans, n_draws)
    limit, which = memory_limit()
    if need > limit:
        from ntm_sim.errors import InputError, Problem, Text

        gib = 2**30
        fits = [n for n in (10**k for k in range(2, 9)) if memory_estimate(inst, n_plans, n) <= limit]
        most = max(fits, default=0)
        raise InputError([Problem("draws", Text("memory.over", draws=n_draws, plans=n_plans, need=need / gib,
                                                limit=limit / gib, which=Text(which)),
                                  expected=Text("memory.fewer", most=most) if most else Text("memory.smaller"),
                                  found=Text("memory.draws", draws=n_draws))])


def _block_sizes(n_draws: int) -> list[int]:
    full, rest = divmod(n_draws, BLOCK)
    return [BLOCK] * full + ([rest] if rest else [])


def _run_block(inst: Instance, plans: dict[str, Decisions], settings: UncertaintySettings, seed: int,
               block: tuple[int, dict[str, np.ndarray]]) -> dict[str, BlockOutcomes]:
    """One block of draws for every plan (a task of :func:`ntm_sim.simulate.runner.run_tasks`)."""
    b, params = block
    n = len(next(iter(params.values())))
    rnd = draw_block(inst, n, np.random.SeedSequence([seed, 1, b]))
    return {name: Engine(inst, dec, settings).run(params, rnd) for name, dec in plans.items()}


class DrawCache:
    """Block random numbers kept for reuse: several simulations on the same draws draw them once.

    The random numbers of a block depend only on the instance's shape, the seed, the
    block's index and its size (:func:`ntm_sim.simulate.blocks.draw_block`), never on the
    plan or the uncertainty settings; a search that simulates many plans, or the same
    plans under several settings, on the same seed keeps them here (common random
    numbers at the cost of drawing them once). A cache serves one instance shape.
    """

    def __init__(self) -> None:
        self._blocks: dict[tuple[int, int, int], BlockRandoms] = {}
        self._lock = threading.Lock()

    def block(self, inst: Instance, seed: int, b: int, size: int) -> BlockRandoms:
        """The random numbers of block ``b`` (``size`` draws) of stream ``seed``, drawn on first use."""
        key = (seed, b, size)
        with self._lock:
            found = self._blocks.get(key)
        if found is None:
            found = draw_block(inst, size, np.random.SeedSequence([seed, 1, b]))
            with self._lock:
                found = self._blocks.setdefault(key, found)
        return found


def local_workers() -> int:
    """Threads that run blocks of draws at once here: the machine's cores (the kernels release the GIL)."""
    return max(1, min(2, os.cpu_count() or 1))


def _run_here(inst: Instance, plans: dict[str, Decisions], settings: UncertaintySettings, seed: int,
              blocks: list[tuple[int, dict[str, np.ndarray]]], sizes: list[int], cache: DrawCache | None,
              done: Callable[[int], None]) -> list[dict[str, BlockOutcomes]]:
    """The blocks run here, on :func:`local_workers` threads, each plan's engine built once."""
    engines = {name: Engine(inst, dec, settings) for name, dec in plans.items()}

    def one(block: tuple[int, dict[str, np.ndarray]]) -> dict[str, BlockOutcomes]:
        b, params = block
        n = len(next(iter(params.values())))
        size = sizes[b]  # the block's full size: a block cut short (``first``) takes its first rows
        rnd = (cache.block(inst, seed, b, size) if cache is not None
               else draw_block(inst, size, np.random.SeedSequence([seed, 1, b])))
        if n < size:
            rnd = rnd.take(slice(0, n))
        return {name: engine.run(params, rnd) for name, engine in engines.items()}

    workers = min(local_workers(), len(blocks))
    if workers <= 1:
        results = []
        for block in blocks:
            results.append(one(block))
            done(block[0])
        return results
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, block) for block in blocks]
        results = []
        for block, future in zip(blocks, futures, strict=True):
            results.append(future.result())
            done(block[0])
    return results


def simulate(inst: Instance, plans: dict[str, Decisions], settings: UncertaintySettings | None = None, *,
             n_draws: int = 1000, seed: int = 0, sampler: Sampler = "mc", experiments: pd.DataFrame | None = None,
             scheduler: str | None = None, progress: Callable[[int, int], None] | None = None,
             draws: DrawCache | None = None, first: int | None = None) -> SimulationResult:
    """Simulate plans over ``n_draws`` draws on common random numbers.

    Parameters
    ----------
    inst
        The instance the plans were made for.
    plans
        Plan name → decisions.
    settings
        Uncertainties (default: :class:`UncertaintySettings` defaults).
    n_draws, seed, sampler
        How many draws, the seed, and how experiment parameters are sampled.
    experiments
        A ready experiments table (overrides ``n_draws``/``sampler``), e.g. to evaluate
        plans on a set of named futures.
    scheduler
        ``None`` runs locally; ``"local"`` starts a Dask ``LocalCluster``; otherwise a
        Dask scheduler address such as ``tcp://10.0.0.5:8786``.
    progress
        Called with (draws done, draws in all) after each block.
    draws
        Block random numbers kept from earlier simulations on this seed and instance
        (and kept for later ones); the numbers are the same with or without it.
    first
        Simulate only the first ``first`` of the ``n_draws`` draws (a screen; here, not on a cluster).
    """
    settings = settings or UncertaintySettings()
    check_memory(inst, len(plans), len(experiments) if experiments is not None else n_draws)
    inst = fund_gap(inst, plans)
    if experiments is None:
        experiments = sample_experiments(settings, n_draws, sampler, seed)
    n_draws = len(experiments)
    sizes = _block_sizes(n_draws)
    bounds = np.cumsum([0, *sizes])
    if first is not None:
        if scheduler is not None:
            raise ValueError("a screen on the first draws runs here, not on a cluster")
        n_draws = max(0, min(int(first), n_draws))
        experiments = experiments.iloc[:n_draws]
        bounds = np.minimum(bounds, n_draws)
    blocks = [(b, {name: experiments[name].to_numpy()[bounds[b]:bounds[b + 1]] for name in settings.PARAMETERS})
              for b in range(len(sizes)) if bounds[b + 1] > bounds[b]]
    finished = 0

    def block_done(b: int) -> None:
        nonlocal finished
        finished += int(bounds[b + 1] - bounds[b])
        if progress:
            progress(finished, n_draws)

    if scheduler is None:
        results = _run_here(inst, plans, settings, seed, blocks, sizes, draws, block_done)
    else:
        results = run_tasks(_run_block, blocks, shared=(inst, plans, settings, seed), scheduler=scheduler,
                            progress=block_done, name="ntm-block")
    return _assemble(inst, settings, experiments, plans, results, seed, sampler)


def success_weights(inst: Instance, settings: UncertaintySettings, *, n_draws: int = 1000,
                    seed: int = 0) -> np.ndarray:
    """How likely each commune is to be NTM at the horizon, by the year its last project is paid.

    Column 0 is for a commune whose criteria are all met before the horizon, column
    ``t + 1`` for one whose unmet criteria are all paid for by the end of year index
    ``t``. Estimated on ``n_draws`` draws of their own random stream (``SeedSequence([seed,
    2, block])``, apart from the draws that evaluate plans) with the engine's delays,
    failures, slipping back and disasters; money is assumed to arrive as planned. The
    columns are made non-increasing in the year (finishing earlier is never rated
    worse), which the optimizer's expected-communes objective relies on.

    Returns
    -------
    ndarray
        (n_communes × (n_years + 1)) probabilities.
    """
    experiments = sample_experiments(settings, n_draws, "mc", seed)
    sizes = _block_sizes(n_draws)
    bounds = np.cumsum([0, *sizes])
    engine = Engine(inst, Decisions.empty(inst), settings)
    projects = np.arange(inst.n_projects)
    last = np.uint16(inst.n_years - 1)
    counts = np.zeros((inst.n_communes, inst.n_years + 1))
    for b, size in enumerate(sizes):
        params = {name: experiments[name].to_numpy()[bounds[b]:bounds[b + 1]] for name in settings.PARAMETERS}
        rnd = draw_block(inst, size, np.random.SeedSequence([seed, 2, b]))
        for col, done in enumerate(range(-1, inst.n_years)):
            mask = engine.status(params, rnd, np.full((size, len(projects)), done, dtype=np.int16), projects)
            ntm_end = (np.bitwise_and.reduce(mask, axis=2) >> last) & 1
            counts[:, col] += ntm_end.sum(axis=0)
    weights = counts / n_draws
    return np.maximum.accumulate(weights[:, ::-1], axis=1)[:, ::-1]


def fund_gap(inst: Instance, plans: dict[str, Decisions]) -> Instance:
    """For an instance with a gap source: its envelope set to what the plans take from it.

    A min-cost plan is simulated as if the committee raised exactly the funding gap it
    asks for (the most any of the compared plans takes, year by year), and no more: when
    costs overrun there is no bottomless source to absorb them.
    """
    if inst.gap_source is None:
        return inst
    need = np.zeros(inst.n_years)
    for dec in plans.values():
        need = np.maximum(need, make_plan(inst, dec, "gap").outcomes.spend_by_source_year[inst.gap_source])
    return with_gap_funded(inst, need)


def _assemble(inst: Instance, settings: UncertaintySettings, experiments: pd.DataFrame,
              plans: dict[str, Decisions], results: list[dict[str, BlockOutcomes]], seed: int,
              sampler: str) -> SimulationResult:
    outcomes: dict[str, dict[str, np.ndarray]] = {}
    probability: dict[str, pd.DataFrame] = {}
    n = len(experiments)
    t = inst.targets
    for name in plans:
        parts = [r[name] for r in results]

        def cat(attr: str, parts: list[BlockOutcomes] = parts) -> np.ndarray:
            return np.concatenate([getattr(p, attr) for p in parts])

        units = cat("district_units")
        units_adv = cat("district_advanced")
        o = {
            "ntm_by_year": cat("ntm_by_year"),
            "advanced": cat("advanced"),
            "model": cat("model"),
            "district_units": units.sum(axis=1),
            "advanced_districts": units_adv.sum(axis=1),
            "named_district_units": units[:, list(t.district_units)],
            "named_advanced_districts": units_adv[:, list(t.advanced_districts)],
            "villages_ntm": cat("villages_ntm"),
            "villages_model": cat("villages_model"),
            "avg_criteria": cat("avg_criteria"),
            "min_criteria": cat("min_criteria"),
            "below_floor": cat("below_floor"),
            "criterion_communes": cat("criterion_communes"),
            "spent": cat("spent"),
            "unspent": cat("unspent"),
            "slipped_projects": cat("slipped_projects"),
            "unfinished_projects": cat("unfinished_projects"),
            "reserve_funded": cat("reserve_funded"),
            "recovery": cat("recovery"),
            "recognised_by_year": cat("recognised_by_year"),
            "meeting_by_year": cat("meeting_by_year"),
            "criteria_by_year": cat("criteria_by_year"),
            "advanced_by_year": cat("advanced_by_year"),
            "advanced_criteria": cat("advanced_criteria"),
            "start_recognised": cat("start_recognised"),
        }
        o["communes_ntm"] = o["ntm_by_year"][:, -1]
        o["communes_recognised"] = o["recognised_by_year"][:, -1]
        outcomes[name] = o
        counts = sum(p.commune_ntm_count for p in parts)
        probability[name] = pd.DataFrame(counts / n, index=pd.Index(inst.communes, name="commune_code"),
                                         columns=[int(y) for y in inst.years])
    return SimulationResult(instance=inst, settings=settings, experiments=experiments, outcomes=outcomes,
                            commune_probability=probability, seed=seed, sampler=sampler, n_draws=n,
                            decisions=dict(plans))
