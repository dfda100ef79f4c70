"""Uncertainties of a plan, with documented defaults (the scenario's ``uncertainty:``).

Two levels, as in exploratory modelling (EMA Workbench): *experiment parameters* are
sampled once per draw over a range (plain Monte Carlo, Latin hypercube or Sobol) and
form the experiments table used for sensitivity and scenario discovery; *micro-level*
randomness (each project's overrun, each source's disbursement, each criterion's slip)
is drawn inside the draw from the parameters.

Every default below is an assumption, not a measured fact; the sources that informed
them are in the comments. Set a range's ``low`` equal to its ``high`` to fix it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["infrastructure", "development", "governance", "upgrade"]


class Range(BaseModel):
    """A uniform range an experiment parameter is sampled from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Range:
        if self.high < self.low:
            raise ValueError(f"range high {self.high} is below low {self.low}")
        return self

    @property
    def fixed(self) -> bool:
        """Whether the range is a single value."""
        return self.low == self.high


def _r(low: float, high: float) -> Range:
    return Range(low=low, high=high)


class UncertaintySettings(BaseModel):
    """What can go differently from the plan, and how likely.

    Experiment parameters (sampled per draw over their range)
    ----------------------------------------------------------
    overrun_median
        Median multiplier on every project's cost in a draw (1.0 = on budget). Public
        works in Vietnam commonly overrun; 1.0–1.2 is an assumption.
    disbursement_mean
        Share of each year's money (plus money still owed from earlier years) that is
        actually disbursed during the year; the rest arrives the year after. In 2023
        Lào Cai had disbursed about 45% of the year's funds by September.
    delay_multiplier
        Multiplies every criterion's probability of finishing a year late.
    slip_multiplier
        Multiplies every criterion's yearly probability of falling back below the
        standard (rớt chuẩn) after it is met.
    disaster_rate
        Yearly probability that a damaging natural disaster hits a district (Lào Cai
        was hit hard by typhoon Yagi in 2024).
    disaster_damage
        Share of a hit district's met infrastructure criteria lost in the disaster.

    Micro-level settings (fixed)
    ----------------------------
    overrun_sigma
        Lognormal spread of a project's own cost multiplier around the draw's median,
        by kind of project.
    overrun_district_correlation
        Share of the overrun variance common to all projects of a district starting in
        the same year (same contractors, same prices, same weather).
    disbursement_sd
        Spread of the disbursement share across sources and years.
    delay_probability
        Yearly probability that a funded criterion is met one more year late (each extra
        year with the same probability), by kind or by criterion id. Times the draw's
        ``delay_multiplier``, capped at 0.95.
    failure_probability
        Probability that a funded criterion is not met at all within the horizon
        (development criteria respond to money uncertainly), by kind or criterion id.
    slip_probability
        Yearly probability that a met criterion falls back below the standard, by kind
        or criterion id (income and poverty are the most fragile). Times the draw's
        ``slip_multiplier``, capped at 0.9.
    recovery_probability
        Yearly probability that a criterion lost to slipping is regained.
    disaster_recovery_probability
        Yearly probability that infrastructure lost to a disaster is rebuilt.
    """

    model_config = ConfigDict(extra="forbid")

    overrun_median: Range = _r(1.0, 1.2)
    disbursement_mean: Range = _r(0.8, 1.0)
    delay_multiplier: Range = _r(0.5, 1.5)
    slip_multiplier: Range = _r(0.5, 1.5)
    disaster_rate: Range = _r(0.0, 0.06)
    disaster_damage: Range = _r(0.02, 0.12)

    overrun_sigma: dict[Kind, float] = Field(
        default_factory=lambda: {"infrastructure": 0.20, "development": 0.15, "governance": 0.10, "upgrade": 0.15})
    overrun_district_correlation: float = Field(0.5, ge=0, le=1)
    disbursement_sd: float = Field(0.08, ge=0)
    delay_probability: dict[str, float] = Field(
        default_factory=lambda: {"infrastructure": 0.08, "development": 0.12, "governance": 0.05})
    failure_probability: dict[str, float] = Field(
        default_factory=lambda: {"development": 0.03, "TC10": 0.06, "TC11": 0.06})
    slip_probability: dict[str, float] = Field(
        default_factory=lambda: {"infrastructure": 0.0005, "development": 0.003, "governance": 0.0005,
                                 "TC10": 0.01, "TC11": 0.01})
    recovery_probability: float = Field(0.7, ge=0, le=1)
    disaster_recovery_probability: float = Field(0.5, ge=0, le=1)

    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "overrun_median", "disbursement_mean", "delay_multiplier", "slip_multiplier", "disaster_rate",
        "disaster_damage",
    )

    @classmethod
    def none(cls) -> UncertaintySettings:
        """No uncertainty at all: a simulation then reproduces the deterministic plan."""
        zero = _r(0.0, 0.0)
        return cls(
            overrun_median=_r(1.0, 1.0), disbursement_mean=_r(1.0, 1.0), delay_multiplier=zero,
            slip_multiplier=zero, disaster_rate=zero, disaster_damage=zero,
            overrun_sigma={"infrastructure": 0.0, "development": 0.0, "governance": 0.0, "upgrade": 0.0},
            disbursement_sd=0.0, delay_probability={}, failure_probability={}, slip_probability={},
        )

    def ranges(self) -> dict[str, Range]:
        """The experiment parameters and their ranges, in a fixed order."""
        return {name: getattr(self, name) for name in self.PARAMETERS}

    def per_criterion(self, table: dict[str, float], criteria_ids: list[str], kinds: list[str]) -> list[float]:
        """Resolve a kind-or-criterion table to one value per criterion (criterion wins)."""
        return [float(table.get(k, table.get(kind, 0.0))) for k, kind in zip(criteria_ids, kinds, strict=True)]
