"""Analysis of plans: robustness, drivers of failure, robust plans, comparisons."""

from ntm_sim.analysis.robustness import (
    Box,
    Discovery,
    discover,
    outcome_table,
    prim,
    regret,
    sensitivity,
    target_probabilities,
    threshold_curve,
)

__all__ = ["Box", "Discovery", "discover", "outcome_table", "prim", "regret", "sensitivity",
           "target_probabilities", "threshold_curve"]
