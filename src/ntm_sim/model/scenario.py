"""Scenarios: one named set of levers, targets and uncertainty settings (YAML).

A scenario says what planners choose (budgets, carry-over, locks, district shares,
which targets to enforce) and what the plan must reach (the targets). It is validated
with pydantic so that a wrong key or value is reported with its place in the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ntm_sim.bounds import MAX_DRAWS, MAX_MONEY_MVND, MAX_SCALE, MIN_JUDGE_DRAWS
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import pydantic_text
from ntm_sim.model.uncertainty import UncertaintySettings


class Mode(StrEnum):
    """What the optimizer does: the one set of modes (the scenario file, ``--mode``, the page)."""

    max_achievement = "max-achievement"
    min_cost = "min-cost"


TargetName = Literal[
    "communes_ntm", "advanced", "model", "district_units", "advanced_districts", "villages_ntm",
    "villages_model", "min_criteria", "avg_criteria", "criterion_communes",
]
StageName = Literal["communes_ntm", "expected_communes", "district_units", "tiers", "criteria_met", "earliness",
                    "cost"]
DEFAULT_ORDER: tuple[StageName, ...] = (
    "communes_ntm", "district_units", "tiers", "criteria_met", "earliness", "cost",
)


class _Model(BaseModel):
    # infinite or NaN money, shares or limits are typos, never a lever
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ExtraSource(_Model):
    """A funding source the scenario adds (for datasets without a sources sheet)."""

    id: str
    name_vi: str = ""
    name_en: str = ""
    eligible: str = "Tất cả"
    scope: str = Field("", description=("Province, district or commune codes, or ĐBKK (Zone III communes), "
                                           "it may pay in (empty: all)."))
    envelopes: dict[int, Annotated[float, Field(le=MAX_MONEY_MVND)]] = Field(default_factory=dict)

    @field_validator("envelopes")
    @classmethod
    def _non_negative(cls, v: dict[int, float]) -> dict[int, float]:
        if any(x < 0 for x in v.values()):
            raise ValueError(Text("scenario.envelopes_negative"))
        return v


class Budget(_Model):
    """Money levers: scale the dataset's envelopes, override them, carry-over, absorption."""

    # upper bounds (ntm_sim.bounds): a typo such as 1e308 overflowed the plan's sums
    scale: float = Field(1.0, ge=0, le=MAX_SCALE, description="Multiply every envelope.")
    source_scale: dict[str, Annotated[float, Field(le=MAX_SCALE)]] = Field(
        default_factory=dict, description="Multiply one source.")
    year_scale: dict[int, Annotated[float, Field(ge=0, le=MAX_SCALE, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="Multiply every source's money of one year (after the source scales).")
    envelopes: dict[str, dict[int, Annotated[float, Field(ge=0, le=MAX_MONEY_MVND)]]] = Field(
        default_factory=dict, description="Override envelopes: source → year → million VND."
    )
    extra_sources: list[ExtraSource] = Field(default_factory=list)
    carry_over: bool = Field(True, description="Unspent money moves to the next year.")
    absorption_limit_mvnd: float | None = Field(
        None, gt=0, le=MAX_MONEY_MVND, description="Most a commune can spend in one year (million VND)."
    )
    maintenance_mvnd_per_commune: float = Field(
        0.0, ge=0, le=MAX_MONEY_MVND,
        description=("Yearly cost of maintaining each commune recognised NTM at the start (million VND), taken "
                     "off the upgrade sources' money; an assumption of the scenario (default 0: none)."))
    upgrade_sources: list[str] | None = Field(
        None,
        description="Sources that may pay for tier upgrades, villages and district criteria "
        "(default: sources eligible for every criterion).",
    )

    @field_validator("source_scale")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for key, value in v.items():
            if value < 0:
                raise ValueError(Text("scenario.scale_negative", source=str(key)))
        return v


class Targets(_Model):
    """The plan's targets to the horizon (what min-cost must reach; what simulations score)."""

    communes_ntm: int | None = Field(None, ge=0)
    communes_count: Literal["meeting", "recognised"] = Field(
        "recognised",
        description=("What communes_ntm counts: 'meeting' every criterion at the horizon (recognised communes "
                     "short of criteria must re-qualify), or 'recognised': recognised communes kept plus new "
                     "ones meeting every criterion ('duy trì và đạt chuẩn')."))
    advanced: int | None = Field(
        None, ge=0, description="Communes of the criteria set's advanced tier (nâng cao); refused under a set "
        "without one (Decision 51/2025).")
    model: int | None = Field(
        None, ge=0, description="Communes of the criteria set's top tier: model (kiểu mẫu) under Decision 318, "
        "the modern-commune pilot (hiện đại) under Decision 51/2025. 'modern' is the same key.")
    district_units: list[str] = Field(default_factory=list)
    advanced_districts: list[str] = Field(default_factory=list)
    villages_ntm: int | None = Field(None, ge=0, description="New NTM villages in the period.")
    villages_model: int | None = Field(None, ge=0, description="New model villages in the period.")
    min_criteria: int | None = Field(None, ge=0, description="No commune below this many criteria.")
    avg_criteria: float | None = Field(None, ge=0)
    criterion_communes: dict[str, int | Literal["all"]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _modern(cls, data: object) -> object:
        """``modern`` (2026–2030) is the key ``model``: communes of the set's top tier."""
        return _modern_is_model(data, "targets")

    def named(self) -> list[TargetName]:
        """Names of the targets that are set."""
        out: list[TargetName] = []
        for name in TargetName.__args__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            if value not in (None, [], {}):
                out.append(name)
        return out


def _modern_is_model(data: object, where: str) -> object:
    """``data`` with the key ``modern`` renamed ``model`` (a mapping), or each ``modern`` entry (a list)."""
    if isinstance(data, dict) and MODERN in data:
        if "model" in data:
            raise ValueError(f"{where}: 'model' and 'modern' are one target (communes of the criteria set's top "
                             "tier): give one of them")
        return {("model" if k == MODERN else k): v for k, v in data.items()}
    if isinstance(data, list):
        return ["model" if v == MODERN else v for v in data]
    return data


#: The 2026–2030 name of the target on the criteria set's top tier (the modern-commune pilot).
MODERN = "modern"


class Lock(_Model):
    """A planner's decision the optimizer must respect.

    ``commune`` alone: force (must reach NTM) or forbid (no money). With ``criterion``:
    force or forbid that project, optionally in ``year``. With ``year`` and no criterion
    and ``action: forbid``: no project of the commune starts that year.
    """

    commune: str
    criterion: str | None = None
    year: int | None = None
    action: Literal["force", "forbid"]

    @field_validator("commune", mode="before")
    @classmethod
    def _code(cls, v: object) -> str:
        return str(v).strip()

    @model_validator(mode="after")
    def _check(self) -> Lock:
        if self.year is not None and self.criterion is None and self.action == "force":
            raise ValueError(Text("scenario.lock_force_year"))
        return self


class DistrictShares(_Model):
    """Floors on each district's share of the plan's money (provincial allocation rule)."""

    floors: dict[str, float] = Field(default_factory=dict)
    tolerance: float = Field(0.0, ge=0, le=1)

    @field_validator("floors", mode="before")
    @classmethod
    def _keys(cls, v: object) -> dict[str, float]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError(Text("scenario.floors_mapping"))
        return {str(k): x for k, x in v.items()}

    @field_validator("floors")
    @classmethod
    def _range(cls, v: dict[str, float]) -> dict[str, float]:
        for key, value in v.items():
            if not 0 <= value <= 1:
                raise ValueError(Text("scenario.floor_range", district=str(key)))
        if sum(v.values()) > 1 + 1e-9:
            raise ValueError(Text("scenario.floors_sum"))
        return v


class Objective(_Model):
    """How max-achievement ranks plans: lexicographic stages, or weights."""

    order: list[StageName] = Field(default_factory=lambda: list(DEFAULT_ORDER))
    weights: dict[StageName, float] | None = None

    @field_validator("order")
    @classmethod
    def _unique(cls, v: list[StageName]) -> list[StageName]:
        if len(set(v)) != len(v):
            raise ValueError(Text("scenario.stages_repeat"))
        return v


class Replan(_Model):
    """Re-planning from a later year with the years before it fixed."""

    from_year: int
    previous_plan: str | None = Field(
        None, description="Results folder of the earlier plan: projects started before from_year "
        "and still in progress are kept."
    )


class RecognitionSettings(_Model):
    """When the revocation rule of the criteria set is applied (see :class:`ntm_sim.model.instance.Recognition`)."""

    reviews_from: int | None = Field(
        None, ge=2000, le=2100,
        description=("The year reviews of recognised communes start (default: the dataset's, else the year the "
                     "criteria set comes into force)."))


class SolverSettings(_Model):
    """Solver choice and limits.

    A stage stops on *work* limits only (a relative gap, a number of branch-and-bound
    nodes), so the same scenario gives the same plan on any machine, busy or idle.
    ``time_limit_s`` is a safety net for the whole solve: when it is hit the plan found
    so far is kept and reported as *not reproducible*.
    """

    name: Literal["auto", "highs", "cbc"] = "auto"
    time_limit_s: float = Field(300.0, gt=0, allow_inf_nan=False)
    mip_gap: float = Field(1e-4, ge=0, le=1, description="Relative gap for the count stages.")
    tiebreak_gap: float = Field(
        5e-3, ge=0, le=1, description="Relative gap for the expected-communes, earliness and cost tie-breakers.")
    node_limit: int | None = Field(10_000, ge=1, description="Branch-and-bound nodes per count stage (None: no limit).")
    tiebreak_node_limit: int | None = Field(
        500, ge=1, description="Branch-and-bound nodes for the expected-communes, earliness and cost stages.")
    fix_completion: bool = Field(
        True, description="After the communes stage, keep the year each commune reaches the standard: later "
        "stages choose upgrades, villages, partial projects and money only (much faster; earliness then has "
        "nothing left to choose and is skipped).")
    threads: int | None = Field(
        None, ge=1, description="Solver threads (None: one, so that the plan does not depend on the machine).")
    warm_start: bool = True


class Robustness(_Model):
    """How the recommended plan is chosen: by its simulated results, not on paper.

    The optimizer proposes plans (levers: the objective, a contingency reserve held
    back from the plan with a reserve list of communes to fund from it); each is
    simulated on training draws and the best by ``objective`` is recommended, then
    judged against every other plan on fresh draws (see
    :mod:`ntm_sim.analysis.recommend`).
    """

    enabled: bool = Field(True, description="Recommend by simulation (False: the deterministic optimum).")
    objective: Literal["expected", "probability", "percentile"] = Field(
        "expected", description="Mean communes NTM by the horizon, P(reaching the communes target), "
        "or a low percentile of communes NTM.")
    percentile: float = Field(10.0, gt=0, lt=100)
    confidence: float = Field(
        0.8, gt=0, lt=1, description="A target counts as met (green) only when its probability reaches this.")
    reserves: list[Annotated[float, Field(ge=0, lt=1)]] = Field(
        default_factory=lambda: [0.0, 0.2],
        description="Shares of the money held back as a contingency reserve, one candidate plan each.")
    expected_money: bool = Field(
        True, description="Also a candidate planned with the money expected to arrive, at expected costs.")
    weight_draws: int = Field(1000, ge=100, le=20_000, description="Draws estimating each commune's chances.")
    train_draws: int = Field(1000, ge=100, le=20_000, description="Draws that choose the plan.")
    test_draws: int = Field(2000, ge=MIN_JUDGE_DRAWS, le=MAX_DRAWS, description="Fresh draws that judge it.")

    @field_validator("reserves")
    @classmethod
    def _reserves(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError(Text("scenario.no_reserve"))
        return sorted(set(v))


class Scenario(_Model):
    """One named set of levers, targets and settings.

    Parameters
    ----------
    name
        Short name (used in folder names and comparisons).
    title
        Human title (Vietnamese).
    title_en
        The title in English, for the page and the report in English (empty: the Vietnamese one).
    data
        Default dataset (``lao_cai`` or a path relative to the scenario file).
    years
        First and last year of the horizon.
    mode
        ``max-achievement`` or ``min-cost``.
    """

    name: str
    title: str = ""
    title_en: str = ""
    description: str = ""
    data: str = "lao_cai"
    years: tuple[int, int] = (2021, 2025)
    mode: Mode = Mode.max_achievement
    budget: Budget = Field(default_factory=Budget)
    lead_times: dict[str, Annotated[int, Field(ge=1, le=10)]] = Field(default_factory=dict)
    targets: Targets = Field(default_factory=Targets)
    enforce: list[TargetName] = Field(default_factory=list)
    objective: Objective = Field(default_factory=Objective)
    locks: list[Lock] = Field(default_factory=list)
    district_shares: DistrictShares | None = None
    replan: Replan | None = None
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    uncertainty: UncertaintySettings = Field(default_factory=UncertaintySettings)
    robustness: Robustness = Field(default_factory=Robustness)
    source_file: str | None = Field(None, exclude=True)

    @field_validator("enforce", mode="before")
    @classmethod
    def _enforce_modern(cls, v: object) -> object:
        return _modern_is_model(v, "enforce")

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        start, end = self.years
        if end < start:
            raise ValueError(Text("scenario.years_order"))
        if self.replan and not start <= self.replan.from_year <= end:
            raise ValueError(Text("scenario.replan_year"))
        for name in self.enforce:
            if name not in self.targets.named():
                raise ValueError(Text("scenario.enforce_unset", target=repr(name)))
        return self

    @property
    def horizon(self) -> list[int]:
        """The years of the horizon (from ``replan.from_year`` when re-planning)."""
        start = self.replan.from_year if self.replan else self.years[0]
        return list(range(start, self.years[1] + 1))

    def content_hash(self) -> str:
        """SHA-256 of the scenario's content (key order and formatting do not matter)."""
        content = self.model_dump(mode="json")
        if not content.get("title_en"):  # a scenario without an English title keeps the hash it always had
            content.pop("title_en", None)
        payload = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def display_title(self, lang: str = "vi") -> str:
        """The title in ``lang`` (``en``: ``title_en`` where given), else the Vietnamese title."""
        return (self.title_en if lang == "en" and self.title_en else self.title).strip()

    def with_(self, **changes: object) -> Scenario:
        """Return a validated copy with some fields changed."""
        data = self.model_dump()
        data.update(changes)
        data["source_file"] = self.source_file
        return Scenario.model_validate(data)

    def scaled(self, factor: float, *, named: bool = False, **changes: object) -> Scenario:
        """A copy with every envelope multiplied by ``factor`` (on top of ``budget.scale``).

        The one place budget variants are made (the sweep, the budget curve, the search's
        reserve levers and the page's variant runs). ``named`` gives the copy the variant's
        name, ``<name>_x<percent>`` (``_x080`` for 0.8); ``changes`` are other fields to change.
        """
        budget = {**self.budget.model_dump(), "scale": self.budget.scale * factor}
        if named:
            changes = {"name": f"{self.name}_x{round(factor * 100):03d}", **changes}
        return self.with_(budget=budget, **changes)

    def to_yaml(self) -> str:
        """Serialise to YAML (Vietnamese text kept readable)."""
        return yaml.safe_dump(self.model_dump(mode="json", exclude_defaults=True), allow_unicode=True,
                              sort_keys=False)


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file.

    Raises
    ------
    InputError
        Naming the file, the line where YAML parsing failed, or the key path of each
        invalid value with what was expected.
    """
    from ntm_sim.data.io.files import MAX_YAML_BYTES, load_yaml, read_bytes

    path = Path(path)
    display = str(path)
    if not path.exists():
        raise InputError([Problem(display, Text("scenario.file_not_found"))])
    try:
        text = read_bytes(path, display, MAX_YAML_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(display, Text("io.not_utf8"), expected=Text("yaml.utf8.expected"))]) from None
    raw = load_yaml(text, display)
    if not isinstance(raw, dict):
        raise InputError([Problem(display, Text("scenario.not_mapping"),
                                  expected=Text("scenario.not_mapping.expected"))])
    raw.setdefault("name", path.stem)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError([
            Problem(display, Text("scenario.key", key=".".join(str(p) for p in err["loc"]) or "(top)",
                                  problem=pydantic_text(err)),
                    found=None if isinstance(err.get("input"), (dict, list)) else str(err.get("input")))
            for err in exc.errors()
        ]) from None
    scenario.source_file = display
    return scenario


def resolve_data_path(scenario: Scenario) -> str:
    """Return the scenario's dataset reference, relative paths taken from its folder."""
    from ntm_sim.data.dataset import BUNDLED

    ref = scenario.data
    if ref in BUNDLED or ref.startswith("bundled:") or not scenario.source_file:
        return ref
    path = Path(ref)
    if not path.is_absolute():
        path = Path(scenario.source_file).parent / path
    return str(path)


BadFn = Callable[..., None]  # reports one problem: bad(message, expected=..., found=...)


def key_problem(key: str, problem: object) -> Text:
    """``key 'budget.scale': …``: a problem of one key of the scenario."""
    return Text("scenario.key", key=key, problem=problem)
