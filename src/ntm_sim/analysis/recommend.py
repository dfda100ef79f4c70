"""The recommended plan: the one that does best in the simulated world, not on paper.

A plan is judged by what it does when costs overrun, money arrives late, works slip and
criteria fall back, with every plan carried out by the same recourse rule (see
:mod:`ntm_sim.simulate.engine`). The search, in the vocabulary of exploratory modelling:

* **Levers.** The optimizer's objective, the money it plans with, and a contingency
  reserve. With the
  *expected-communes* objective each commune counts with its chance of being NTM at the
  horizon given the year its last project is paid (estimated on draws of their own,
  :func:`ntm_sim.simulate.success_weights`), so the plan finishes communes early where
  delays and failures make that matter, and prefers communes whose missing criteria are
  reliable. A reserve share ``r`` plans with ``(1 − r)`` of every envelope; the
  communes that the money left over could finish, cheapest to finish first, form the
  plan's reserve list, funded only from money its own projects do not need. The
  *expected-money* plan plans with what is expected to arrive and what things are
  expected to cost: each source's envelopes disbursed at the mean rate, late money a
  year later and the last year's backlog never, divided by the expected overrun factor
  (its reserve list takes up what is left).
* **Candidates.** The expected-communes plan for each reserve level and with expected
  money, the deterministic optimum (most communes on paper), and the baseline rules.
* **Choice, raced.** Every candidate is first simulated on the first
  :data:`SCREEN_DRAWS` of the *training* draws (common random numbers); a candidate whose
  paired 95% interval against the leader lies below zero (mean communes NTM, or the
  chance of the target under the probability objective) is dropped there. The finalists
  are simulated on all the training draws, and the best by the scenario's robustness
  objective (mean communes NTM, P(reaching the communes target), or a low percentile;
  the mean breaks ties) is recommended. A percentile objective has no paired interval:
  every candidate is a finalist.
* **Judgement.** The recommended plan, the other finalists, the deterministic optimum
  and the rules are simulated on *fresh* draws (the seed the user gives), and each
  difference is reported as a paired mean with its 95% interval (common random
  numbers). The value of the stochastic solution (VSS) is the recommended plan's gain
  over the deterministic optimum; the gain of picking the best plan judged in each draw
  with hindsight is a lower bound on the expected value of perfect information (EVPI).

The instance is built once and every stream of draws (weights, training, fresh) is drawn
once per search (:class:`SearchDraws`; a budget curve shares one across its levels); the
candidates' solves run at once, each in its own solver process, as many as the machine
has cores.

Every solve stops on work limits (gap, nodes), so the same scenario and seed give the
same recommendation on any machine.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ntm_sim.bounds import MAX_SEED
from ntm_sim.data.dataset import Dataset
from ntm_sim.model.instance import Instance, build_instance
from ntm_sim.model.plan import Decisions, Plan
from ntm_sim.model.scenario import Scenario
from ntm_sim.model.uncertainty import UncertaintySettings
from ntm_sim.optimize import SolveResult, solve
from ntm_sim.simulate import DrawCache, SimulationResult, local_workers, simulate, success_weights

DETERMINISTIC = "deterministic"
CANDIDATE_TIEBREAKERS = ("tiers", "cost")
# offsets from the user's seed: streams of their own, apart from every seed's fresh draws (seeds ≤ MAX_SEED)
WEIGHT_SEED, TRAIN_SEED = 1_000_003, 2_000_003
SCREEN_DRAWS = 300  # training draws every candidate is raced on before the finalists get all of them


EXPECTED_MONEY = "expected_money"


def candidate_name(reserve: float) -> str:
    """Name of the expected-communes candidate with a reserve share."""
    return f"expected_r{round(100 * reserve):02d}"


def expected_envelopes(inst: Instance, settings: UncertaintySettings) -> dict[str, dict[int, float]]:
    """Envelopes as expected to arrive, in money of expected cost (source → year → million VND).

    Each year a source disburses the mean share of what is due (its envelope plus what
    it still owes); the rest comes a year later, and what is still owed at the horizon
    never. Amounts are divided by the expected cost factor: the mean overrun median times
    ``exp(σ²/2)`` of each project's own lognormal factor, weighted by cost.
    """
    d = (settings.disbursement_mean.low + settings.disbursement_mean.high) / 2
    kinds = inst.dataset.criteria
    sigma = np.array([settings.overrun_sigma.get(kinds[inst.criteria[k]].kind, 0.0) for k in inst.proj_criterion])
    cost = inst.proj_cost
    spread = float((cost * np.exp(sigma ** 2 / 2)).sum() / cost.sum()) if cost.sum() > 0 else 1.0
    factor = (settings.overrun_median.low + settings.overrun_median.high) / 2 * spread
    out: dict[str, dict[int, float]] = {}
    for f, source in enumerate(inst.sources):
        owed, row = 0.0, {}
        for t, year in enumerate(inst.years):
            due = owed + float(inst.budget[f, t])
            row[int(year)] = d * due / factor
            owed = (1 - d) * due
        out[source] = row
    return out


@dataclass
class Candidate:
    """One plan the search considered."""

    name: str
    kind: str                   # "expected", "deterministic" or "rule"
    reserve: float
    decisions: Decisions        # with the reserve list, if any
    plan: Plan                  # the scheduled part, as tables
    result: SolveResult | None  # the solve behind it (None for a rule)

    @property
    def reserve_projects(self) -> int:
        """Projects on the reserve list."""
        return 0 if self.decisions.reserve is None else int(self.decisions.reserve.sum())


@dataclass
class Recommendation:
    """The recommended plan, the candidates, and how they compare on fresh draws.

    Attributes
    ----------
    chosen
        Name of the recommended candidate.
    training
        One row per candidate: lever values, what it reaches on paper, and its training
        scores (mean, P(target), percentile, score).
    fresh
        Every candidate simulated on fresh draws (the user's seed).
    comparison
        One row per candidate on the fresh draws: mean, percentiles, P(target), and the
        recommended plan's paired difference with its 95% interval (mean and P(target)).
    """

    scenario: Scenario
    instance: Instance
    objective: str
    chosen: str
    candidates: dict[str, Candidate]
    weights: np.ndarray
    training: pd.DataFrame
    fresh: SimulationResult
    comparison: pd.DataFrame
    vss: dict[str, float]
    evpi_lower: float
    seed: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def plan(self) -> Candidate:
        """The recommended candidate."""
        return self.candidates[self.chosen]

    def solve_result(self) -> SolveResult:
        """The recommended plan as a solve result: the baseline rules and the deterministic optimum beside it."""
        chosen = self.plan
        det = self.candidates[DETERMINISTIC]
        assert det.result is not None
        base = dict(det.result.baselines)
        if chosen.kind == "rule":
            # a rule won: the plan is that rule's (named so), its solve record the deterministic one's
            result = replace(det.result, plan=chosen.plan)
            base.pop(chosen.name)
        else:
            assert chosen.result is not None
            result = replace(chosen.result, plan=replace(chosen.plan, decisions=chosen.decisions))
        if chosen.name != DETERMINISTIC:
            base[DETERMINISTIC] = replace(det.plan, name=DETERMINISTIC)
        return replace(result, baselines=base)

    def fresh_plans(self) -> list[str]:
        """The plans a results folder keeps: the recommended one first, then those it is compared with."""
        return [self.chosen] + [n for n, c in self.candidates.items()
                                if n != self.chosen and c.kind in ("deterministic", "rule")]


@dataclass
class SearchDraws:
    """What searches on one seed share: the communes' success chances and the block random numbers.

    The success chances depend on the criteria, the uncertainty and the seed, not on the
    money; the block random numbers on the instance's shape and the seed. A budget curve
    passes one to every level's search, so that each stream is drawn once.
    """

    draws: DrawCache = field(default_factory=DrawCache)
    weights: dict[tuple[str, int, int], np.ndarray] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def success_weights(self, inst: Instance, settings: UncertaintySettings, n_draws: int, seed: int) -> np.ndarray:
        """:func:`ntm_sim.simulate.success_weights`, computed once per settings, draws and seed."""
        key = (settings.model_dump_json(), n_draws, seed)
        with self.lock:  # searches running side by side (a budget curve's chains) wait for the first
            if key not in self.weights:
                self.weights[key] = success_weights(inst, settings, n_draws=n_draws, seed=seed)
            return self.weights[key]


def recommend(ds: Dataset, scenario: Scenario, *, seed: int = 0, settings: UncertaintySettings | None = None,
              time_limit: float | None = None, parallel: int | None = None,
              on_stage: Callable[[str], None] | None = None, shared: SearchDraws | None = None,
              starts: dict[str, Decisions] | None = None) -> Recommendation:
    """Search for the plan that does best under uncertainty, and judge it on fresh draws.

    Parameters
    ----------
    ds, scenario
        The province and the scenario (its ``robustness`` section sets the objective,
        the reserve levels and the numbers of draws).
    seed
        Seed of the fresh draws that judge the plans (weights and training: streams derived from it).
    settings
        Uncertainties (default: the scenario's).
    time_limit
        Safety limit per solve (default: the scenario's).
    parallel
        Solves run at once, each in its own solver process (default: the machine's cores).
    on_stage
        Called with each stage's name as it starts (``weights``, ``solve``, ``train``, ``judge``).
    shared
        Chances and random numbers kept from other searches on this seed (a budget curve's
        other levels); the results are the same without it.
    starts
        Plans each candidate's solve may start from, by name (a budget curve's level below).

    Raises
    ------
    ValueError
        In min-cost mode (a reserve only moves spending onto the gap source there), or for a
        seed above :data:`ntm_sim.bounds.MAX_SEED`.
    """
    _check_search(scenario, seed)
    rob = scenario.robustness
    settings = settings or scenario.uncertainty
    shared, timings = (shared if shared is not None else SearchDraws()), {}
    with _stopwatch(timings, "weights_s", on_stage):
        inst = build_instance(ds, scenario)
        weights = shared.success_weights(inst, settings, rob.weight_draws, seed + WEIGHT_SEED)
    with _stopwatch(timings, "solve_s", on_stage):
        search = _Search(ds, scenario, _candidate_order(scenario), expected_envelopes(inst, settings), weights,
                         time_limit, starts or {})
        candidates = _solve_candidates(inst, search, parallel)
    plans = {n: c.decisions for n, c in candidates.items()}
    with _stopwatch(timings, "train_s", on_stage):
        target = inst.targets.communes_ntm
        objective = rob.objective if target is not None or rob.objective != "probability" else "expected"
        finalists, training = _race(inst, plans, candidates, settings, rob, seed + TRAIN_SEED, target, objective,
                                    shared.draws)
        chosen = _choose(training)
    with _stopwatch(timings, "judge_s", on_stage):
        judged = [n for n, c in candidates.items() if n in finalists or c.kind in ("deterministic", "rule")]
        fresh = simulate(inst, {n: plans[n] for n in judged}, settings, n_draws=rob.test_draws, seed=seed,
                         draws=shared.draws)
        verdict = _judge(fresh, chosen, judged, target)
    return Recommendation(scenario=scenario, instance=inst, objective=objective, chosen=chosen,
                          candidates=candidates, weights=weights, training=training, fresh=fresh,
                          comparison=verdict.comparison, vss=verdict.vss, evpi_lower=verdict.evpi_lower, seed=seed,
                          timings=timings)


def _check_search(scenario: Scenario, seed: int) -> None:
    """Refuse a search that cannot be made: min-cost mode, or a seed whose streams would meet another's."""
    if scenario.mode != "max-achievement":
        raise ValueError("a plan is recommended by simulation in max-achievement mode")
    if not 0 <= seed <= MAX_SEED:  # above it, a seed's fresh draws could be another seed's training draws
        raise ValueError(f"the seed must be a whole number from 0 to {MAX_SEED}")


def _solve_candidates(inst: Instance, search: _Search, parallel: int | None) -> dict[str, Candidate]:
    """Every lever of the search solved (each in its own solver process, ``parallel`` at once), and the rules."""
    rob = search.scenario.robustness
    levers: list[float | str | None] = [None, *rob.reserves, *([EXPECTED_MONEY] if rob.expected_money else [])]
    with ThreadPoolExecutor(max_workers=max(1, parallel or local_workers())) as pool:
        results = list(pool.map(search.solve_lever, levers))
    return _candidates(inst, levers, results)


def _race(inst: Instance, plans: dict[str, Decisions], candidates: dict[str, Candidate],
          settings: UncertaintySettings, rob: object, seed: int, target: int | None, objective: str,
          draws: DrawCache) -> tuple[list[str], pd.DataFrame]:
    """Screen every candidate on the first training draws, then the finalists on all of them.

    Returns the finalists and the training table: a finalist's scores are on every
    training draw; a candidate dropped at the screen keeps its screen figures (``draws``
    says how many), with no score, so that only finalists can be chosen.
    """
    n_train = rob.train_draws  # type: ignore[attr-defined]
    percentile = rob.percentile  # type: ignore[attr-defined]
    screen_n = min(SCREEN_DRAWS, n_train)
    finalists = list(plans)
    screen = None
    if objective != "percentile" and screen_n < n_train and len(plans) > 2:
        screen = simulate(inst, plans, settings, n_draws=n_train, seed=seed, draws=draws, first=screen_n)
        finalists = _screen(screen, target, objective)
    train = simulate(inst, {n: plans[n] for n in finalists}, settings, n_draws=n_train, seed=seed, draws=draws)
    table = _training_table(candidates, train, screen, target, percentile, objective)
    return finalists, table


def _screen(screen: SimulationResult, target: int | None, objective: str) -> list[str]:
    """The candidates not behind the leader beyond noise on the screen draws (paired 95% intervals)."""
    def value(name: str) -> np.ndarray:
        x = screen.outcomes[name]["communes_ntm"].astype(float)
        return (x >= target).astype(float) if objective == "probability" and target is not None else x

    names = screen.plans
    leader = max(names, key=lambda n: (value(n).mean(), -names.index(n)))
    return [n for n in names if n == leader or paired(value(n), value(leader))["high"] >= 0]


@contextmanager
def _stopwatch(timings: dict[str, float], key: str, on_stage: Callable[[str], None] | None = None
               ) -> Iterator[None]:
    """Record the wall time of the ``with`` block in ``timings[key]`` (seconds), after telling ``on_stage``."""
    if on_stage is not None:
        on_stage(key.removesuffix("_s"))
    clock = time.perf_counter()
    yield
    timings[key] = time.perf_counter() - clock


def _candidate_order(scenario: Scenario) -> list[str]:
    """The objective order of the expected-communes candidates: expected communes, then tiers and least cost."""
    # district units and criteria met tripled the search's time and the simulation does not reward
    # them; enforced targets still hold
    return ["expected_communes", *(n for n in scenario.objective.order if n in CANDIDATE_TIEBREAKERS)]


@dataclass(frozen=True)
class _Search:
    """What every candidate's solve shares; :meth:`solve_lever` makes the plan of one lever."""

    ds: Dataset
    scenario: Scenario
    order: list[str]                           # objective order of the expected-communes plans
    expected_money: dict[str, dict[int, float]]  # envelopes of the expected-money plan
    weights: np.ndarray                        # success chances of the communes
    time_limit: float | None
    starts: dict[str, Decisions]               # plans a candidate's solve may start from, by candidate name

    def solve_lever(self, lever: float | str | None) -> SolveResult:
        """Solve the plan of one lever.

        Parameters
        ----------
        lever
            ``None``: the deterministic optimum, with the rules beside it; a reserve
            share: the expected-communes plan on that much less money;
            :data:`EXPECTED_MONEY`: the expected-communes plan on the expected envelopes.
        """
        name = DETERMINISTIC if lever is None else EXPECTED_MONEY if lever == EXPECTED_MONEY else candidate_name(
            float(lever))
        start = {name: self.starts[name]} if name in self.starts else None
        if lever is None:
            return solve(self.ds, self.scenario, time_limit=self.time_limit, starts=start)
        objective = {"order": self.order, "weights": None}
        if lever == EXPECTED_MONEY:
            budget = {**self.scenario.budget.model_dump(), "envelopes": self.expected_money}
            variant = self.scenario.with_(budget=budget, objective=objective)
        else:
            variant = self.scenario.scaled(1.0 - float(lever), objective=objective)
        return solve(self.ds, variant, time_limit=self.time_limit, weights=self.weights, baselines=False,
                     starts=start)


def _candidates(inst: Instance, levers: list[float | str | None], results: list[SolveResult]) -> dict[str, Candidate]:
    """The candidates: the deterministic optimum, the expected-communes plans (one per lever), the rules."""
    det = results[0]
    candidates: dict[str, Candidate] = {
        DETERMINISTIC: Candidate(DETERMINISTIC, "deterministic", 0.0, det.plan.decisions, det.plan, det)}
    for lever, res in zip(levers[1:], results[1:], strict=True):
        candidate = _expected_candidate(inst, lever, res)  # type: ignore[arg-type]
        candidates[candidate.name] = candidate
    for name, plan in det.baselines.items():
        candidates[name] = Candidate(name, "rule", 0.0, plan.decisions, plan, None)
    return candidates


def _expected_candidate(inst: Instance, lever: float | str, res: SolveResult) -> Candidate:
    """An expected-communes candidate, with its reserve list."""
    name = EXPECTED_MONEY if lever == EXPECTED_MONEY else candidate_name(float(lever))
    dec = res.plan.decisions.copy()
    dec.reserve = reserve_list(inst, res.plan)
    # the plan was solved on changed envelopes: its tables belong to the full instance
    share = 1.0 - res.plan.outcomes.total_cost / inst.real_budget if lever == EXPECTED_MONEY else float(lever)
    return Candidate(name, "expected", max(0.0, share), dec, replace(res.plan, name=name),
                     replace(res, instance=inst))


def _choose(training: pd.DataFrame) -> str:
    """The candidate with the best training score; the mean, then the candidates' order, break ties."""
    return str(training.sort_values(["score", "mean", "order"], ascending=[False, False, True]).index[0])


@dataclass
class _Judgement:
    """The recommended plan against the others on fresh draws."""

    comparison: pd.DataFrame
    vss: dict[str, float]  # paired gain over the deterministic optimum
    evpi_lower: float      # gain of the best candidate in each draw with hindsight


def _judge(fresh: SimulationResult, chosen: str, names: list[str], target: int | None) -> _Judgement:
    """Compare the recommended plan with every candidate (``names``) on the fresh draws."""
    x = fresh.outcomes[chosen]["communes_ntm"].astype(float)
    vss = paired(x, fresh.outcomes[DETERMINISTIC]["communes_ntm"].astype(float))
    best = np.max([fresh.outcomes[n]["communes_ntm"] for n in names], axis=0)
    return _Judgement(_comparison(fresh, chosen, target), vss, float(best.mean() - x.mean()))


def reserve_list(inst: Instance, plan: Plan) -> np.ndarray:
    """The projects a plan keeps in reserve: communes the money it leaves could finish, cheapest first.

    The money left is every real envelope minus what the plan schedules; communes it
    does not complete join in order of what they still need, as long as the running
    total fits, with all their unfunded projects that can still finish in time.
    """
    dec = plan.decisions
    left = inst.real_budget - plan.outcomes.total_cost
    reserve = np.zeros(inst.n_projects, dtype=bool)
    done = plan.outcomes.commune_year_ntm > 0
    forbidden = inst.locks.forbidden.communes
    open_p = (dec.proj_start < 0) & (inst.proj_lead <= inst.n_years)
    need = np.bincount(inst.proj_commune, weights=np.where(dec.proj_start < 0, inst.proj_cost, 0.0),
                       minlength=inst.n_communes)
    blocked = np.bincount(inst.proj_commune, weights=(dec.proj_start < 0) & ~open_p, minlength=inst.n_communes)
    total = 0.0
    for c in np.argsort(need, kind="stable"):
        if done[c] or c in forbidden or blocked[c] > 0 or inst.base_ntm[c] or need[c] <= 0:
            continue
        if total + need[c] > left:
            break
        total += need[c]
        reserve[inst.projects_of[c]] = open_p[inst.projects_of[c]]
    return reserve


def paired(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean of ``x − y`` over paired draws, with its 95% interval (normal approximation)."""
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    half = 1.96 * d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else math.nan
    mean = float(d.mean())
    return {"mean": mean, "low": mean - half, "high": mean + half}


def _scores(x: np.ndarray, target: int | None, percentile: float) -> dict[str, float]:
    return {"mean": float(x.mean()),
            "p_target": float((x >= target).mean()) if target is not None else math.nan,
            "percentile": float(np.percentile(x, percentile))}


def training_score(x: np.ndarray, target: int | None, percentile: float, objective: str) -> tuple[float, float]:
    """A plan's (score, mean) on training draws: what the race chooses by, the mean breaking ties."""
    s = _scores(x, target, percentile)
    return {"expected": s["mean"], "probability": s["p_target"], "percentile": s["percentile"]}[objective], s["mean"]


def _training_table(candidates: dict[str, Candidate], train: SimulationResult, screen: SimulationResult | None,
                    target: int | None, percentile: float, objective: str) -> pd.DataFrame:
    """One row per candidate: levers, figures on paper, training scores and the draws behind them."""
    rows = {}
    for i, (name, c) in enumerate(candidates.items()):
        finalist = name in train.outcomes
        sim = train if finalist else screen
        assert sim is not None
        s = _scores(sim.outcomes[name]["communes_ntm"], target, percentile)
        score = training_score(sim.outcomes[name]["communes_ntm"], target, percentile, objective)[0]
        rows[name] = {"kind": c.kind, "reserve": c.reserve, "planned_communes": c.plan.outcomes.communes_ntm,
                      "planned_cost_mvnd": c.plan.outcomes.total_cost, "reserve_projects": c.reserve_projects,
                      **s, "score": score if finalist else math.nan, "order": i, "draws": sim.n_draws,
                      "finalist": finalist}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "plan"
    return table


def _comparison(fresh: SimulationResult, chosen: str, target: int | None) -> pd.DataFrame:
    x = fresh.outcomes[chosen]["communes_ntm"]
    rows = {}
    for name in fresh.plans:
        y = fresh.outcomes[name]["communes_ntm"]
        diff = paired(x, y)
        row = {"mean": float(y.mean()), "p5": float(np.percentile(y, 5)), "p50": float(np.percentile(y, 50)),
               "p95": float(np.percentile(y, 95)),
               "diff_mean": diff["mean"], "diff_low": diff["low"], "diff_high": diff["high"]}
        if target is not None:
            pdiff = paired(x >= target, y >= target)
            row.update({"p_target": float((y >= target).mean()), "diff_p_target": pdiff["mean"],
                        "diff_p_target_low": pdiff["low"], "diff_p_target_high": pdiff["high"]})
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "plan"
    return table
