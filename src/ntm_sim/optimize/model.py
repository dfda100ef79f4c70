"""The MILP of a planning instance, built as sparse arrays.

Decisions: start year of each criterion project (binary ``x[p, s]``), commune NTM by
year (``z[c, t]``), tier upgrades, new villages, district projects, and money from each
source to each *eligibility class* and year (``u[f, g, t]``, continuous).

Money is aggregated by eligibility class (criteria that the same sources may pay for):
this is exact, because money is fungible within a class, and it keeps the number of
continuous variables independent of the number of communes. The split of each class's
money back onto projects is proportional (see :func:`ntm_sim.model.plan.make_plan`).

Targets the scenario enforces (and forced locks) are *elastic*: each has a shortfall
variable, and the first stage minimises total shortfall, each weighed as the share of its
target it misses (locks weigh far more), so that an unreachable target is measured and
explained instead of making the model infeasible.

Spending later never hurts when money carries over and a commune cannot exceed its
absorption limit (or there is none): then a commune's projects may all finish in the
year the commune reaches NTM (or at the horizon), and tiers, villages and district
projects may all start as late as possible. For such communes the model has one binary
per completion year (``y[c, t]``) and one per project funded without completing the
commune (``q[p]``) instead of ``x`` and ``z``: the same plans as ``x`` with the
dominance rows, with one row per project instead of about nine, and a relaxation that
solves several times faster. Communes with locks or projects under way keep the ``x``
form, and so does every commune when money does not carry over.

:func:`build_model` runs one ``define_*`` step per family of columns and rows (project
starts, commune completion, tiers, district units, villages, money, targets, locks,
objectives; see :data:`DEFINE_STEPS`), in an order that fixes the model's column and row
order. Each family's columns are a named :class:`VarBlock` of :attr:`PlanModel.blocks`,
which also says how the block reads back into a plan (:meth:`PlanModel.values_from`,
:meth:`PlanModel.decisions_from`); ``model.x``, ``model.z``… are the blocks' columns.

The model is kept as column bounds, row bounds and a sparse matrix: HiGHS loads it in
one call. :attr:`PlanModel.prob` builds the same model in PuLP (for CBC, or to write an
LP file) on demand.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ntm_sim.model.instance import Instance
from ntm_sim.optimize.define_plan import (
    define_commune_completion,
    define_completion_years,
    define_district_units,
    define_dominance,
    define_project_starts,
    define_recognition,
    define_tier_order,
    define_tiers,
    define_villages,
)
from ntm_sim.optimize.define_targets import (
    define_absorption,
    define_budget_envelopes,
    define_count_targets,
    define_criteria_targets,
    define_district_shares,
    define_locks,
    define_money_flows,
    define_objective_stages,
)
from ntm_sim.optimize.model_build import ModelBuild, start_build
from ntm_sim.optimize.plan_model import PlanModel


def _finish(build: ModelBuild) -> PlanModel:
    """Join the collected columns and rows into the model's arrays (one matrix, loaded in one call)."""
    m, b = build.m, build.b
    m.col_lb = np.array(b.lb)
    m.col_ub = np.array(b.ub)
    m.col_int = np.array(b.integer, dtype=bool)
    m.col_names = b.names
    m.matrix = b.matrix()
    m.row_lo = np.array(b.lo, dtype=float)
    m.row_hi = np.array(b.hi, dtype=float)
    return m


# The steps in model order: each adds its columns and rows after the previous ones', so the
# order fixes the column and row order (money needs every spending column first; the
# objectives need every column).
DEFINE_STEPS: tuple[Callable[[ModelBuild], None], ...] = (
    define_project_starts, define_commune_completion, define_dominance, define_completion_years,
    define_recognition, define_tiers, define_district_units, define_villages,
    define_money_flows, define_budget_envelopes, define_absorption, define_district_shares,
    define_locks, define_count_targets, define_criteria_targets, define_tier_order,
    define_objective_stages,
)


def build_model(inst: Instance, mode: str | None = None, weights: np.ndarray | None = None,
                tier_order: bool = True) -> PlanModel:
    """Build the model for an instance.

    Parameters
    ----------
    inst
        The resolved dataset and scenario.
    mode
        ``"max-achievement"`` or ``"min-cost"`` (default: the scenario's).
    weights
        Chance of each commune being NTM at the horizon by the year its last project
        finishes (n_communes × (n_years + 1), column 0: before the horizon; see
        :func:`ntm_sim.simulate.success_weights`); needed for the ``expected_communes``
        stage, which maximises their sum (earlier completion weighs more).
    tier_order
        Add the rows keeping each top-tier upgrade from finishing before the advanced one
        (:func:`define_tier_order`); without them the model is a relaxation, exact for
        any plan that keeps the order.
    """
    build = start_build(inst, mode or inst.scenario.mode, weights, tier_order)
    for define in DEFINE_STEPS:
        define(build)
    return _finish(build)


def integral(name: str) -> bool:
    """Whether a stage's objective takes integer values (so it can be kept exactly)."""
    return name in ("communes_ntm", "district_units", "tiers", "criteria_met", "earliness")
