"""What stands between the recommended plan and its target: each group of uncertainties switched off in turn.

The budget curve (:mod:`ntm_sim.analysis.frontier`) names the uncertainty in the way at its
highest level of money; the committee also asks it at the scenario's own money: *why is the
chance 0%?* Here the recommended plan is simulated again on the same draws with one group of
uncertainties switched off at a time (cost overruns, slow disbursement, delays and failures
of the development criteria, communes falling back, disasters), and with all of them off
(the plan on paper, as the simulation carries it out). The group whose removal raises the
chance of the communes target most is the main obstacle; when no single group lifts it, the
median shows which one comes closest, and a plan whose paper figure is already short of the
target is short of money, not of luck.

Written into ``summary.json`` as ``obstacles`` by ``ntm-sim solve`` (see
:func:`obstacles_summary`); read back by :mod:`ntm_sim.present.verdict`.
"""

from __future__ import annotations

import numpy as np

from ntm_sim.analysis.frontier import GROUPS_VI, without
from ntm_sim.model.plan import RECOMMENDED
from ntm_sim.model.uncertainty import UncertaintySettings
from ntm_sim.simulate import SimulationResult, simulate

#: draws of each switched-off simulation: the chance to about ±2 points, a few seconds in all
OBSTACLE_DRAWS = 500
GROUPS = tuple(GROUPS_VI)


def _measure(sim: SimulationResult, plan: str) -> dict:
    from ntm_sim.analysis import target_probabilities

    x = np.asarray(sim.outcomes[plan]["communes_ntm"], dtype=float)
    chances = {k: v for k, v in target_probabilities(sim, plan).items() if k != "all_targets"}
    return {"median": float(np.median(x)), "p5": float(np.percentile(x, 5)), "p95": float(np.percentile(x, 95)),
            "targets": chances}


def _main(measured: dict[str, dict], key: str | None) -> tuple[str | None, list[str]]:
    """The group whose removal helps target ``key`` most (None: the communes' median), and all that help, best first."""
    def value(name: str) -> float:
        return measured[name]["targets"].get(key, 0.0) if key else measured[name]["median"]

    gains = {g: value(g) - value("with_all") for g in GROUPS}
    if key is not None and max(gains.values()) <= 0 and key == "communes_ntm":
        # no single group lifts the chance of the communes target: the one that brings its median closest
        gains = {g: measured[g]["median"] - measured["with_all"]["median"] for g in GROUPS}
    ranked = sorted((g for g in GROUPS if gains[g] > 0), key=lambda g: -gains[g])
    return (ranked[0] if ranked else None), ranked


def obstacles_summary(sim: SimulationResult, plan: str = RECOMMENDED, draws: int = OBSTACLE_DRAWS) -> dict | None:
    """The recommended plan with each group of uncertainties switched off (``summary.json``'s ``obstacles``).

    Parameters
    ----------
    sim
        The simulation of the plans (the recommended one as ``plan``), with its decisions.
    plan
        The plan judged.
    draws
        Draws of each simulation (the first ``draws`` of the same seed: common random numbers).

    Returns
    -------
    dict or None
        ``target`` (communes NTM the scenario asks for, or None), ``draws``, ``seed``,
        ``with_all`` (communes' median, 5–95% and each target's chance with every
        uncertainty), ``without`` (the same with each group switched off, by group), ``none``
        (every group off: the plan as the simulation carries it out when all goes to plan),
        ``main`` and ``ranked`` (for each target: the group whose removal helps it most, and
        every group that helps, best first; ``communes_ntm`` falls back to the median when no
        group lifts its chance) and ``short_on_paper`` (the communes target is missed with no
        uncertainty at all: money, not luck). None when the plan's decisions are not kept.
    """
    decisions = (sim.decisions or {}).get(plan)
    if decisions is None:
        return None
    inst = sim.instance
    n = max(1, min(int(draws), sim.n_draws))
    runs = {"with_all": sim.settings, "none": UncertaintySettings.none(),
            **{group: without(sim.settings, group) for group in GROUPS}}
    measured = {name: _measure(simulate(inst, {plan: decisions}, settings, n_draws=n, seed=sim.seed), plan)
                for name, settings in runs.items()}
    target = inst.scenario.targets.communes_ntm
    keys = list(measured["with_all"]["targets"])
    mains = {key: _main(measured, key) for key in keys}
    return {"target": target, "draws": n, "seed": sim.seed, "with_all": measured["with_all"],
            "none": measured["none"], "without": {g: measured[g] for g in GROUPS},
            "main": {key: m for key, (m, _) in mains.items()}, "ranked": {key: r for key, (_, r) in mains.items()},
            "short_on_paper": bool(target is not None and measured["none"]["median"] < target)}
