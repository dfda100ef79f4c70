"""The plan's targets, in one place: each named, measured and judged the same way everywhere.

A :class:`Target` is one line of the plan (``communes_ntm``, a district unit, the
communes meeting one criterion …): what is needed, whether the scenario *enforces* it
(the model and the rules must meet it first, where money allows), and how it is
measured on one plan (:func:`achieved_on_plan`) or on every draw of a simulation
(:func:`achieved_on_draws`). A target is met when what is achieved reaches what is
needed within :data:`TOLERANCE`; the model, the rules, the summaries, the simulation,
the report and the dashboard all use this module, so they cannot disagree on rounding.

>>> [t.key for t in targets_of(inst)]            # doctest: +SKIP
['communes_ntm', 'advanced', 'model', 'district_units:89', …]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ntm_sim.model.instance import Instance
    from ntm_sim.model.plan import Outcomes
    from ntm_sim.model.scenario import Scenario

#: Achieved values this close below the need still meet it (floating-point sums).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Target:
    """One target of the scenario, resolved on an instance.

    Attributes
    ----------
    key
        Its name in summaries and tables: the family, and for per-district or
        per-criterion targets ``family:code`` (``district_units:89``).
    family
        The scenario's name for it (``communes_ntm``, ``district_units`` …).
    needed
        What must be reached (1 for a district unit; the average for ``avg_criteria``).
    enforced
        Whether the model and the rules must meet it first (see :func:`enforced_names`).
    index
        The district or criterion it is about, if any.
    count
        For ``communes_ntm``: ``meeting`` (communes meeting every criterion) or
        ``recognised`` (recognised communes kept plus new ones meeting every criterion,
        "duy trì và đạt chuẩn"; in a simulation a re-check may remove a recognition).
    """

    key: str
    family: str
    needed: float
    enforced: bool
    index: int | None = None
    count: str = "meeting"

    def met(self, achieved: float | np.ndarray) -> bool | np.ndarray:
        """Whether ``achieved`` (one value, or one per draw) reaches the target."""
        ok = np.asarray(achieved, dtype=float) >= self.needed - TOLERANCE
        return bool(ok) if ok.ndim == 0 else ok


def enforced_names(scenario: Scenario, mode: str | None = None) -> set[str]:
    """Targets the plan must meet first: all of them in min-cost mode, else those listed in ``enforce``."""
    mode = scenario.mode if mode is None else mode
    return set(scenario.targets.named()) if mode == "min-cost" else set(scenario.enforce)


def targets_of(inst: Instance, mode: str | None = None) -> list[Target]:
    """Every target of the instance's scenario, in the order summaries list them."""
    t, enforced = inst.targets, enforced_names(inst.scenario, mode)
    out: list[Target] = []

    def add(family: str, needed: float | None, key: str | None = None, index: int | None = None) -> None:
        if needed is not None:
            out.append(Target(key or family, family, float(needed), family in enforced, index))

    if t.communes_ntm is not None:
        out.append(Target("communes_ntm", "communes_ntm", float(t.communes_ntm), "communes_ntm" in enforced,
                          count=t.communes_count))
    add("advanced", t.advanced)
    add("model", t.model)
    for d in t.district_units:
        add("district_units", 1, f"district_units:{inst.districts[d]}", d)
    for d in t.advanced_districts:
        add("advanced_districts", 1, f"advanced_districts:{inst.districts[d]}", d)
    add("villages_ntm", t.villages_ntm)
    add("villages_model", t.villages_model)
    add("min_criteria", t.min_criteria)
    add("avg_criteria", t.avg_criteria)
    for k, need in t.criterion_communes.items():
        add("criterion_communes", need, f"criterion_communes:{inst.criteria[k]}", k)
    return out


def achieved_on_plan(target: Target, outcomes: Outcomes) -> float:
    """What one plan reaches on ``target`` (on paper)."""
    o, i = outcomes, target.index
    value = {
        "communes_ntm": lambda: o.communes_recognised if target.count == "recognised" else o.communes_ntm,
        "advanced": lambda: o.advanced.sum(),
        "model": lambda: o.model.sum(),
        "district_units": lambda: o.district_unit[i],
        "advanced_districts": lambda: o.district_advanced[i],
        "villages_ntm": lambda: o.villages_ntm_new,
        "villages_model": lambda: o.villages_model_new,
        "min_criteria": lambda: o.criteria_met_end.min(),
        "avg_criteria": lambda: o.avg_criteria,
        "criterion_communes": lambda: o.criterion_communes[i],
    }[target.family]()
    return float(value)


def achieved_on_draws(target: Target, outcomes: dict[str, np.ndarray], inst: Instance) -> np.ndarray:
    """What a plan reaches on ``target`` in every draw (outcomes of :func:`ntm_sim.simulate.simulate`)."""
    o, i = outcomes, target.index
    t = inst.targets
    if target.family == "district_units":
        return o["named_district_units"][:, list(t.district_units).index(i)]
    if target.family == "advanced_districts":
        return o["named_advanced_districts"][:, list(t.advanced_districts).index(i)]
    if target.family == "criterion_communes":
        return o["criterion_communes"][:, i]
    if target.family == "communes_ntm" and target.count == "recognised":
        return o["communes_recognised"]
    return o[target.family]
