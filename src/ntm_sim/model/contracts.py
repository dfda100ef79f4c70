"""The result files' contracts: ``manifest.json`` and a solve's ``summary.json``.

Each file is written through its model (:func:`dump`) and read back through the same
model (:func:`load`), so a writer cannot drift from its readers unnoticed, and a
damaged or foreign file is refused with the key that is wrong. The headline and the
recommendation are models down to their rows (:class:`Headline`, :class:`Recommendation`), and
so are the recognition, the tiers and the obstacles (:class:`Recognition`, :class:`TierLabel`,
:class:`Obstacles`); the rules beside a plan (``baselines``) keep their dictionary shape, one per rule.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import pydantic_text
from ntm_sim.model.plan import FORMER_RECOMMENDED, RECOMMENDED

#: the results' format: 2 calls the recommended plan ``recommended`` and says where it came from; 1 (before
#: December 2026, no ``format`` key) called it ``optimum``. Format 1 is read as 2 (:func:`upgrade_summary`).
RESULTS_FORMAT = 2
_FORMER_KEYS = {"optimum_minus_baseline_communes": "recommended_minus_baseline_communes",
                "optimum_minus_baseline_cost_mvnd": "recommended_minus_baseline_cost_mvnd"}


class _Contract(BaseModel):
    # a newer writer may add keys; an older reader keeps them
    model_config = ConfigDict(extra="allow")


class ScenarioRef(_Contract):
    """The scenario a result came from."""

    name: str
    file: str | None = None
    hash: str


class DataRef(_Contract):
    """The data a result came from."""

    name: str
    source: str | None = None
    hash: str
    criteria_set: str
    demo: bool
    demo_label: str | None = None
    costs_estimated: bool
    criteria_provisional: list[str] = []  # what the criteria set's public text does not give


class Manifest(_Contract):
    """``manifest.json``: what was run, on what, with which versions; a hash of every file."""

    kind: str
    created_utc: str
    command: list[str]
    versions: dict[str, str]
    platform: str
    scenario: ScenarioRef
    data: DataRef
    seed: int | None = None
    solver: dict[str, Any] | None = None
    status: dict[str, Any]
    timings: dict[str, float | None] = {}
    files: dict[str, str]


class StageRow(_Contract):
    """One optimisation stage as reported."""

    name: str
    name_vi: str
    sense: str
    termination: str
    proven_optimal: bool
    reproducible: bool
    objective: float | None
    bound: float | None
    mip_gap: float | None
    gap_tolerance: float | None
    nodes: int | None
    plan_value: float | None
    runtime_s: float | None


class TargetRow(_Contract):
    """One target: what is needed, what the plan reaches, met or not (see :mod:`ntm_sim.model.targets`)."""

    target: float
    achieved: float
    met: bool
    counts: str | None = None  # communes only: what is counted ("recognised", or "meeting" every criterion)


class ShortfallRow(_Contract):
    """A target the money could not reach, and by how much."""

    key: str
    label: str
    label_vi: str | None = None  # written since stop 25; older folders have the English label only
    needed: float
    achieved: float
    missing: float


class OutcomeStats(_Contract):
    """One outcome of the headline plan across the draws, with its value when all goes to plan."""

    median: float | None
    p5: float | None
    p95: float | None
    mean: float | None
    deterministic: float | None = None


class TargetOdds(_Contract):
    """One target's chance in the simulation, with the figure on paper beside it."""

    target: float | None
    probability: float | None
    met: bool
    deterministic: float | None = None
    deterministic_met: bool | None = None


class AllTargetsOdds(_Contract):
    """The chance that every target is met at once."""

    probability: float | None
    met: bool


class Headline(_Contract):
    """``summary.json``'s ``headline``: what the simulation gives for the plan the run puts forward."""

    basis: str
    plan: str
    draws: int
    seed: int
    sampler: str
    confidence: float
    outcomes: dict[str, OutcomeStats]
    targets: dict[str, TargetOdds]
    all_targets: AllTargetsOdds | None = None


class TrainingRow(_Contract):
    """One candidate plan of the search, as the training draws judged it."""

    plan: str
    kind: str
    reserve: float
    planned_communes: float | None
    planned_cost_mvnd: float | None
    mean: float | None
    p_target: float | None
    score: float | None
    reserve_projects: int | None = None  # written since the reserve list; older folders lack the rest too
    percentile: float | None = None
    order: int | None = None             # the candidate's place in the search's order (ties go to the first)
    draws: int | None = None             # training draws it was judged on (screened out: the screen's only)
    finalist: bool | None = None


class ComparisonRow(_Contract):
    """One candidate against the recommended plan on the fresh draws (paired differences)."""

    mean: float | None
    p5: float | None
    p50: float | None
    p95: float | None
    diff_mean: float | None
    diff_low: float | None
    diff_high: float | None
    name_vi: str
    p_target: float | None = None            # the chance of the communes target, where the run has one
    diff_p_target: float | None = None       # and its paired difference from the recommended plan's, with its interval
    diff_p_target_low: float | None = None
    diff_p_target_high: float | None = None


class Interval(_Contract):
    """A paired mean difference with its 95% interval."""

    mean: float | None
    low: float | None
    high: float | None


class Recommendation(_Contract):
    """``summary.json``'s ``recommendation``: the search, its candidates and the plan it chose."""

    chosen: str
    chosen_kind: str
    lever: str | None = None            # the search's lever behind it (format 2): see recommendation_summary
    solve_record: str | None = None     # whose solve the folder's stages are: "own" or "deterministic"
    reserve: float
    reserve_projects: int
    objective: str
    percentile: float
    seed: int
    train_draws: int
    test_draws: int
    training: list[TrainingRow]
    comparison: dict[str, ComparisonRow]
    vss: Interval | None = None
    evpi_lower_bound: float | None = None
    timings: dict[str, float] = {}


class Recognition(_Contract):
    """``summary.json``'s ``recognition``: how recognitions were counted and could be lost (to repeat the figures)."""

    counts: str  # what a commune target counts: "recognised" (as provinces count) or "meeting" every criterion
    recognised_at_start: int
    meeting_at_start: int
    held_by_rule_at_start: int  # recognised, short of criteria, kept by the revocation rule at the start
    first_review: int | None  # the first year a review may revoke a recognition (None: none within the plan)
    rule: str | None  # the revocation rule's source (None: the criteria set has none)


class TierLabel(_Contract):
    """One tier above NTM as the run's criteria set names it (``summary.json``'s ``tiers``, by result key)."""

    id: str
    name_vi: str
    name_en: str
    short_vi: str
    short_en: str


class ObstacleRun(_Contract):
    """One simulation of the obstacles: the communes NTM's median and 5–95% band, each target's chance."""

    median: float | None
    p5: float | None
    p95: float | None
    targets: dict[str, float | None]


class Obstacles(_Contract):
    """``summary.json``'s ``obstacles``: the recommended plan with each group of uncertainties switched off.

    See :func:`ntm_sim.analysis.obstacles.obstacles_summary`: ``main`` and ``ranked`` by target,
    ``without`` by group of uncertainties.
    """

    target: int | None  # communes NTM the scenario asks for
    draws: int
    seed: int
    with_all: ObstacleRun
    none: ObstacleRun  # every group off: the plan as the simulation carries it out when all goes to plan
    without: dict[str, ObstacleRun]
    main: dict[str, str | None]
    ranked: dict[str, list[str]]
    short_on_paper: bool  # the communes target is missed with no uncertainty at all: money, not luck


class SolveSummary(_Contract):
    """``summary.json`` of a solve: status, the plan's figures, targets, the rules beside it, the odds.

    Keys every solve has written since the first results folders are required; keys added later
    read as None in a folder written before them. The tiers and district units a criteria set
    does not issue are not written (Decision 51: no ``advanced`` nor ``district_units``).
    """

    format: int = 1  # see RESULTS_FORMAT (format 1 wrote none)
    status: str
    termination: str
    proven_optimal: bool
    mip_gap: float | None
    best_bound: float | None
    objective: float | None
    runtime_s: float
    build_s: float
    solver: str
    solver_version: str
    mode: str
    warm_start: str | None  # the plan the solver started from, if any
    scenario: str
    title: str | None = None
    title_en: str | None = None  # not written by a solve: a folder that has one is shown by it (else scenario.yaml's)
    dataset: str
    demo_data: bool
    demo_label: str | None = None
    costs_estimated: bool
    years: list[int]
    recognition: Recognition | None = None
    criteria_set: str | None = None  # None: written before the summary named it (Decision 318's)
    tiers: dict[str, TierLabel] | None = None  # None: written before the summary named them (Decision 318's)
    budget_mvnd: float
    reproducible: bool
    fallback: str | None = None  # the rule whose plan was delivered when the solver gave none in time
    stages: list[StageRow]
    # the plan's figures (ntm_sim.run.results.outcome_summary), as the scenario counts them
    communes_ntm: int
    communes_ntm_by_year: dict[str, int]
    new_communes_ntm: int
    communes_meeting: int | None = None
    communes_recognised: int | None = None
    recognised_short_at_start: int | None = None
    maintenance_mvnd: float | None = None
    advanced: int | None = None
    model: int | None = None
    district_units: list[str] | None = None  # codes
    district_unit_names: list[str] | None = None
    advanced_districts: list[str] | None = None  # codes
    villages_ntm_new: int
    villages_model_new: int
    avg_criteria: float
    communes_below_floor: int
    criterion_communes: dict[str, int]
    total_cost_mvnd: float
    spend_by_year_source: dict[str, dict[str, float]]  # year → source → million VND
    unspent_mvnd: float
    targets: dict[str, TargetRow]
    shortfalls: list[ShortfallRow]
    baselines: dict[str, dict[str, Any]]
    headline: Headline | None = None
    recommendation: Recommendation | None = None
    obstacles: Obstacles | None = None
    funding_gap_mvnd: float | None = None
    funding_gap_by_year: dict[str, float] | None = None


M = TypeVar("M", bound=_Contract)


def jsonable(value: object) -> object:
    """JSON-ready values: numpy scalars and arrays to Python, NaN and infinities to null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    return value


def dump(model: type[M], data: dict, path: Path) -> M:
    """Check ``data`` against ``model`` and write it to ``path`` (UTF-8, Vietnamese readable, NaN as null)."""
    plain = jsonable(data)
    checked = model.model_validate(plain)  # a writer that breaks the contract fails here, not in a reader
    path.write_text(json.dumps(plain, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return checked


def validate(model: type[M], data: object, path: Path | str) -> M:
    """``data`` (read from ``path``) as ``model``; a mismatch is an :class:`InputError` naming the key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(str(path), Text("scenario.key", key=".".join(str(p) for p in e["loc"]),
                                            problem=pydantic_text(e)),
                            expected=Text("contract.expected", model=model.__name__)) for e in exc.errors()[:20]]
        raise InputError(problems) from None


def upgrade_summary(summary: dict, path: Path | str) -> dict:
    """A solve's ``summary.json`` in this version's format: format 1's names read as format 2's.

    Raises
    ------
    InputError
        If the folder was written in a newer format than this version reads (the format named).
    """
    found = summary.get("format", 1)
    if not isinstance(found, int) or isinstance(found, bool) or not 1 <= found <= RESULTS_FORMAT:
        raise InputError([Problem(str(path), Text("contract.format", found=str(found)),
                                  expected=Text("contract.format.expected", known=RESULTS_FORMAT))])
    if found == RESULTS_FORMAT:
        return summary
    out = {**summary, "format": RESULTS_FORMAT}
    out["baselines"] = {name: {_FORMER_KEYS.get(k, k): v for k, v in b.items()} if isinstance(b, dict) else b
                        for name, b in (summary.get("baselines") or {}).items()}
    if isinstance(out.get("headline"), dict) and out["headline"].get("plan") == FORMER_RECOMMENDED:
        out["headline"] = {**out["headline"], "plan": RECOMMENDED}
    return out


def load(model: type[M], path: Path | str) -> M:
    """Read ``path`` as ``model`` (see :func:`validate`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError([Problem(str(path), Text("contract.not_json", error=exc.__class__.__name__),
                                  expected=Text("contract.expected", model=model.__name__))]) from None
    return validate(model, data, path)
