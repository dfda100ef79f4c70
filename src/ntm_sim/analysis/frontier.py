"""Money for a given confidence: the recommended plan's odds along a range of budgets.

For each budget level (the scenario's envelopes times a factor) the plan is chosen and
judged by simulation as ``ntm-sim solve`` does (:func:`ntm_sim.analysis.recommend.recommend`,
every level on the same fresh draws), and the curve reports the median and 5–95% band of
communes NTM by the horizon and P(reaching the communes target). The least money that
reaches the target with the scenario's confidence is the first level that does; when
none does, the uncertainty that prevents it is named: at the highest level, the plan is
simulated again with each group of uncertainties switched off in turn, and the group
whose removal raises P(target) most is the one in the way.

One search for the whole curve: the levels share the communes' success chances and every
stream of draws (weights, training, fresh; :class:`ntm_sim.analysis.recommend.SearchDraws`),
and each level's solves start from the plans of the level below (the same candidate, on
less money: a plan that still fits), offered to the solver beside the rules. The levels
run as :data:`CHAINS` chains of neighbours, side by side where the machine has the cores;
the chains are fixed, so the curve is the same on any machine. The scenario's own money
(× 1) starts from nothing, as the run's own search did: a start can change which of several
equally good plans the solver returns, and the curve's row at × 1 must be the plan and odds
the run shows (tested).

More money never shows fewer communes for want of a plan: a level whose own search
chose a plan that does worse on the training draws than the plan shown one level below
(simulated on this level's money) shows that plan instead, judged again on this level's
fresh draws, and the row names the level it came from (``carried_from``). The choice is
made on the training draws, as the search's own is; the fresh draws only report it. The
row at × 1 stays the run's own plan.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ntm_sim.data.dataset import Dataset
from ntm_sim.messages import Catalogue
from ntm_sim.model.scenario import Scenario
from ntm_sim.model.uncertainty import Range, UncertaintySettings
from ntm_sim.text import format_number_vi, format_percent_vi

if TYPE_CHECKING:
    from ntm_sim.analysis.recommend import Recommendation, SearchDraws
    from ntm_sim.model.plan import Decisions

DEFAULT_SCALES = (0.6, 0.8, 1.0, 1.2, 1.5, 2.0)
CHAINS = 2  # runs of neighbouring levels, each level starting from the one below (fixed: the same curve anywhere)
VI = Catalogue("vi")  # the committee's sentence is in Vietnamese; its words are in the catalogue
# groups of uncertainties, each switched off on its own to find the one in the way (their names: frontier.group.*)
GROUPS_VI = {group: VI(f"frontier.group.{group}") for group in ("overrun", "disbursement", "delay", "slip", "disaster")}


@dataclass
class Frontier:
    """The budget curve of a scenario and what it says about the money needed.

    Attributes
    ----------
    table
        One row per budget level: ``scale``, ``budget_mvnd``, ``plan`` (the candidate
        recommended there), ``planned_communes`` (on paper), ``mean``, ``p5``, ``p50``,
        ``p95`` (communes NTM by the horizon, simulated), ``p_target``, ``carried_from``
        (the level whose plan this is when it was carried up, else NaN) and
        ``money_per_commune_mvnd`` (extra money per extra simulated commune from the level
        below).
    least_budget_mvnd
        The least money in the range that reaches the target with ``confidence`` (None
        when no level does, or the scenario sets no communes target).
    blockers
        When no level reaches it: P(target) at the highest level with each group of
        uncertainties switched off (group → probability).
    """

    scenario: str
    target: int | None
    confidence: float
    table: pd.DataFrame
    least_budget_mvnd: float | None
    blockers: dict[str, float]
    seed: int
    draws: int

    def statement_vi(self) -> str:
        """The answer in one sentence for the committee (Vietnamese)."""
        if self.target is None:
            return VI("frontier.statement.no_target")
        conf = format_percent_vi(self.confidence, 0)
        if self.least_budget_mvnd is not None:
            return VI("frontier.statement.least", money=format_number_vi(self.least_budget_mvnd / 1000, 0),
                      target=self.target, confidence=conf)
        top = self.table.iloc[-1]
        text = VI("frontier.statement.none", low=format_number_vi(self.table["budget_mvnd"].min() / 1000, 0),
                  high=format_number_vi(top["budget_mvnd"] / 1000, 0), target=self.target, confidence=conf,
                  chance=format_percent_vi(top["p_target"], 0))
        if self.blockers:
            group, p = max(self.blockers.items(), key=lambda kv: kv[1])
            text += " " + VI("frontier.statement.blocker", group=GROUPS_VI[group], chance=format_percent_vi(p, 0))
        return text


def frontier(ds: Dataset, scenario: Scenario, scales: tuple[float, ...] = DEFAULT_SCALES, *, seed: int = 0,
             time_limit: float | None = None, on_level: Callable[[int, int], None] | None = None) -> Frontier:
    """The recommended plan's odds at each budget level (see the module docstring).

    Parameters
    ----------
    ds, scenario
        The data and the scenario (its ``robustness`` section sets the search and the
        confidence level).
    scales
        Budget levels as multiples of the scenario's envelopes, in increasing order.
    seed
        Seed of the fresh draws, the same at every level (common random numbers).
    time_limit
        Safety limit per solve.
    on_level
        Called with ``(i, n)`` when ``i`` of the ``n`` levels are done (0 at the start; levels
        run two chains at once, so "done" is what can be told in order), and with ``(n, n)``
        before the uncertainties are switched off in turn (a job's progress).
    """
    from ntm_sim.analysis.recommend import SearchDraws

    if scenario.mode != "max-achievement":
        raise ValueError("a budget curve is drawn in max-achievement mode (min-cost gives the money directly)")
    from ntm_sim.bounds import check_levels

    scales = tuple(sorted(check_levels(scales, "--budget-scale", ",".join(f"{float(s):g}" for s in scales),
                                       base=scenario.budget.scale)))
    target = scenario.targets.communes_ntm
    confidence = scenario.robustness.confidence
    shared = SearchDraws()
    recs = _searches(ds, scenario, scales, seed, time_limit, shared, on_level or (lambda _i, _n: None))
    rows = _carried_up(scales, recs, seed, shared)
    table = _curve_table(scales, recs, rows, target)
    least = None
    blockers: dict[str, float] = {}
    if target is not None:
        reached = table[table["p_target"] >= confidence]
        if len(reached):
            least = float(reached["budget_mvnd"].iloc[0])
        else:
            if on_level is not None:
                on_level(len(scales), len(scales))
            blockers = _blockers(recs[-1], rows[-1], target, seed, shared)
    return Frontier(scenario=scenario.name, target=target, confidence=confidence, table=table,
                    least_budget_mvnd=least, blockers=blockers, seed=seed,
                    draws=scenario.robustness.test_draws)


def _searches(ds: Dataset, scenario: Scenario, scales: tuple[float, ...], seed: int, time_limit: float | None,
              shared: SearchDraws, tell: Callable[[int, int], None]) -> list[Recommendation]:
    """The recommended plan at each level, in order of the levels (chains of neighbours, two at once)."""
    from ntm_sim.simulate import local_workers

    size = math.ceil(len(scales) / CHAINS)
    chains = [scales[i:i + size] for i in range(0, len(scales), size)]
    workers = min(len(chains), local_workers())
    per_level = max(1, local_workers() // workers)  # solves at once within a level
    finished = [0]
    lock = threading.Lock()  # chains run in threads at once: the count of levels done is what is shared

    def run_chain(chain: tuple[float, ...]) -> list[Recommendation]:
        out: list[Recommendation] = []
        for scale in chain:
            # the scenario's own money (× 1) starts from nothing: its row is the run's own recommended plan
            starts = ({name: c.decisions for name, c in out[-1].candidates.items() if c.kind != "rule"}
                      if out and scale != 1.0 else None)
            out.append(_level(ds, scenario, scale, seed, time_limit, shared, starts, per_level))
            with lock:
                finished[0] += 1
                if finished[0] < len(scales):
                    tell(finished[0], len(scales))
        return out

    tell(0, len(scales))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return [rec for chain in pool.map(run_chain, chains) for rec in chain]
    return [rec for chain in chains for rec in run_chain(chain)]


@dataclass(frozen=True)
class _Row:
    """The plan a level shows: its own search's choice, or the plan shown one level below."""

    plan: str
    decisions: Decisions
    planned_communes: float
    communes: np.ndarray    # communes NTM by the horizon on the level's fresh draws
    carried_from: float     # the level whose search chose it (NaN: this level's own)


def _carried_up(scales: tuple[float, ...], recs: list[Recommendation], seed: int,
                shared: SearchDraws) -> list[_Row]:
    """Each level's row, the plan below carried up where it does better on this level's training draws."""
    from ntm_sim.analysis.recommend import TRAIN_SEED, training_score
    from ntm_sim.simulate import simulate

    rows: list[_Row] = []
    for scale, rec in zip(scales, recs, strict=True):
        own = _Row(rec.chosen, rec.plan.decisions, rec.plan.plan.outcomes.communes_ntm,
                   rec.fresh.outcomes[rec.chosen]["communes_ntm"].astype(float), math.nan)
        below = rows[-1] if rows else None
        if below is None or scale == 1.0:  # × 1 is the run's own plan
            rows.append(own)
            continue
        rob, settings, target = rec.scenario.robustness, rec.fresh.settings, rec.instance.targets.communes_ntm
        plan = {below.plan: below.decisions}
        train = simulate(rec.instance, plan, settings, n_draws=rob.train_draws, seed=seed + TRAIN_SEED,
                         draws=shared.draws)
        theirs = training_score(train.outcomes[below.plan]["communes_ntm"], target, rob.percentile, rec.objective)
        mine = tuple(float(v) for v in rec.training.loc[rec.chosen, ["score", "mean"]])
        if not theirs > mine:  # ties (and a score that cannot be had) keep the level's own
            rows.append(own)
            continue
        fresh = simulate(rec.instance, plan, settings, n_draws=rob.test_draws, seed=seed, draws=shared.draws)
        origin = below.carried_from if not math.isnan(below.carried_from) else scales[len(rows) - 1]
        rows.append(_Row(below.plan, below.decisions, below.planned_communes,
                         fresh.outcomes[below.plan]["communes_ntm"].astype(float), origin))
    return rows


def _curve_table(scales: tuple[float, ...], recs: list[Recommendation], rows: list[_Row],
                 target: int | None) -> pd.DataFrame:
    """One row per level: the money, the plan shown, its odds on the fresh draws, the money per extra commune."""
    out = []
    for scale, rec, row in zip(scales, recs, rows, strict=True):
        x = row.communes
        out.append({"scale": scale, "budget_mvnd": rec.instance.real_budget, "plan": row.plan,
                    "planned_communes": row.planned_communes, "mean": float(x.mean()),
                    "p5": float(np.percentile(x, 5)), "p50": float(np.percentile(x, 50)),
                    "p95": float(np.percentile(x, 95)),
                    "p_target": float((x >= target).mean()) if target is not None else math.nan,
                    "carried_from": row.carried_from})
    table = pd.DataFrame(out)
    extra = table["mean"].diff()
    table["money_per_commune_mvnd"] = np.where(extra > 0, table["budget_mvnd"].diff() / extra, np.nan)
    return table


def _blockers(top: Recommendation, row: _Row, target: int, seed: int, shared: SearchDraws) -> dict[str, float]:
    """The top level's chance of the target with each group of uncertainties switched off in turn."""
    from ntm_sim.simulate import simulate

    plan = {row.plan: row.decisions}
    blockers = {}
    for group in GROUPS_VI:
        settings = without(top.fresh.settings, group)
        sim = simulate(top.instance, plan, settings, n_draws=top.fresh.n_draws, seed=seed, draws=shared.draws)
        blockers[group] = float((sim.outcomes[row.plan]["communes_ntm"] >= target).mean())
    return blockers


def _level(ds: Dataset, scenario: Scenario, scale: float, seed: int, time_limit: float | None,
           shared: SearchDraws, starts: dict[str, Decisions] | None, parallel: int) -> Recommendation:
    """The recommended plan at one budget level (the scenario's envelopes times ``scale``)."""
    from ntm_sim.analysis.recommend import recommend

    variant = scenario.scaled(scale, named=True)
    return recommend(ds, variant, seed=seed, time_limit=time_limit, shared=shared, starts=starts, parallel=parallel)


def without(settings: UncertaintySettings, group: str) -> UncertaintySettings:
    """The settings with one group of uncertainties switched off."""
    zero = Range(low=0.0, high=0.0)
    changes: dict[str, object] = {
        "overrun": {"overrun_median": Range(low=1.0, high=1.0), "overrun_sigma": dict.fromkeys(
            settings.overrun_sigma, 0.0)},
        "disbursement": {"disbursement_mean": Range(low=1.0, high=1.0), "disbursement_sd": 0.0,
                         "disbursement_kind_factor": {}, "disbursement_year_factor": {}},
        "delay": {"delay_multiplier": zero, "failure_probability": {}},
        "slip": {"slip_multiplier": zero},
        "disaster": {"disaster_rate": zero, "disaster_damage": zero, "disaster_years": {}, "disaster_money_share": 0.0},
    }[group]
    return settings.model_copy(update=changes)
