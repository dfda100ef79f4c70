"""The funding gap of min-cost plans: a virtual source that pays what the envelopes cannot."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ntm_sim.model.instance import Instance

GAP_SOURCE = "von_con_thieu"


GAP_SOURCE_NAME = "Vốn còn thiếu (chưa có nguồn)"


def with_gap_source(inst: Instance) -> Instance:
    """Add a virtual source, eligible for everything, that pays what the envelopes cannot.

    Min-cost plans use it: the money it provides is the funding gap. Its yearly amount
    is bounded by everything the plan could possibly cost, which keeps the model finite.
    """
    if inst.gap_source is not None:
        return inst
    bound = (float(inst.proj_cost.sum() + inst.adv_cost.sum() + inst.model_cost.sum()
                   + inst.district_cost.sum() + inst.district_adv_cost.sum()
                   + (inst.villages * (inst.village_ntm_cost + inst.village_model_cost)).sum()) + 1.0)
    f = len(inst.sources)
    budget = np.vstack([inst.budget, np.full((1, inst.n_years), bound)])
    # the gap source may pay anything, anywhere
    classes = [tuple(cls) + (f,) for cls in inst.classes]
    return replace(inst, sources=[*inst.sources, GAP_SOURCE], budget=budget, classes=classes, gap_source=f)


def with_gap_funded(inst: Instance, gap_by_year: np.ndarray) -> Instance:
    """The instance with the gap source's envelope set to ``gap_by_year``.

    Use it to evaluate a min-cost plan as if the committee raised exactly the funding gap
    the plan asks for: no more money than that is there when costs overrun.
    """
    inst = with_gap_source(inst)
    gap = np.asarray(gap_by_year, dtype=float)
    if gap.shape != (inst.n_years,) or (gap < 0).any():
        raise ValueError(f"gap_by_year must be {inst.n_years} non-negative amounts, got {gap!r}")
    budget = inst.budget.copy()
    budget[inst.gap_source] = gap
    return replace(inst, budget=budget)
