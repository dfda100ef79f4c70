"""Uncertainties of a plan, with documented defaults (the scenario's ``uncertainty:``).

Two levels, as in exploratory modelling (EMA Workbench): *experiment parameters* are
sampled once per draw over a range (plain Monte Carlo, Latin hypercube or Sobol) and
form the experiments table used for sensitivity and scenario discovery; *micro-level*
randomness (each project's overrun, each source's disbursement, each criterion's slip)
is drawn inside the draw from the parameters.

Every default says what it rests on: a public figure (cited) or an assumption. The
defaults were then checked against what happened in Lào Cai by the backtest
(``ntm-sim backtest``: 2021–2024 from the 2021 start with the money planned, against
about 62 NTM communes at the end of 2023). Set a range's ``low`` equal to its ``high``
to fix it. Three presets (``preset:`` in a scenario's ``uncertainty:`` section, then any
key overrides it): ``default`` (calibrated), ``pessimistic`` and ``disaster_2024`` (a
typhoon Yagi year).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["infrastructure", "development", "governance", "upgrade"]
SourceKind = Literal["investment", "recurrent"]

#: The presets' settings beyond the defaults (a scenario's own keys override them).
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Assumptions: everything a little worse, within what 2021–2025 showed (costs up to +30%,
    # half the year's money late, recurrent money at half the investment pace, more storms).
    "pessimistic": {
        "overrun_median": {"low": 1.05, "high": 1.3}, "disbursement_mean": {"low": 0.5, "high": 0.85},
        "delay_multiplier": {"low": 1.0, "high": 2.0}, "slip_multiplier": {"low": 1.0, "high": 2.0},
        "disaster_rate": {"low": 0.3, "high": 0.6}, "disbursement_kind_factor": {"investment": 1.0, "recurrent": 0.5},
        "revocation_probability": 0.25,
    },
    # Typhoon Yagi, September 2024: deaths in 6 of 9 districts, > 80% of roads flooded or cut,
    # > 3,200 billion VND of damage (about a third of the five-year NTM money). A certain
    # disaster in 2024 and none in the other years, so that the one year's effect shows.
    "disaster_2024": {
        "disaster_rate": {"low": 0.0, "high": 0.0}, "disaster_years": {2024: 1.0}, "disaster_district_share": 0.67,
        "disaster_damage": {"low": 0.1, "high": 0.2}, "disaster_money_share": 0.35,
    },
}


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
        Share of each year's money (plus money still owed from earlier years) that an
        investment source actually disburses during the year; the rest arrives the year
        after. Lào Cai had disbursed 45% of 1,700 billion VND for the three programmes by
        end-September 2023 and the country 44.5% of 2023 capital by mid-year, so about
        60–90% by the year's end (the range is an assumption around that).
    delay_multiplier
        Multiplies every criterion's probability of finishing a year late.
    slip_multiplier
        Multiplies every criterion's yearly probability of falling back below the
        standard (rớt chuẩn) after it is met.
    disaster_rate
        Yearly probability of a damaging province-wide natural disaster (typhoon,
        flood). Lào Cai: Yagi in 2024 and Bualoi in 2025, two in 2021–2025; the range
        0.1–0.4 is an assumption around that.
    disaster_damage
        Share of the met infrastructure criteria of a district hit at average intensity
        that the disaster undoes (twice that at the highest intensity). Assumption; Yagi
        flooded or cut more than 80% of roads at every level, though most were reopened
        within the year.

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
    disbursement_kind_factor
        Multiplies ``disbursement_mean`` by kind of source (:func:`source_kind`):
        recurrent money lags investment money (one province had disbursed 4% of its
        recurrent NTM capital by May 2025); 0.75 for recurrent is an assumption.
    disbursement_year_factor
        Multiplies ``disbursement_mean`` in a year (default: 2022, the first year of the
        programmes' money, whose guidance came during the year: 0.85, an assumption).
    disaster_years
        Probability of a disaster in given years, instead of ``disaster_rate``
        (``{2024: 1.0}``: typhoon Yagi).
    disaster_district_share
        Probability that a province-wide disaster hits each district (Yagi killed people
        in 6 of 9 districts: 0.67; default 0.5, an assumption). A hit district's
        intensity is uniform in (0, 1].
    disaster_money_share
        Share of the year's flexible money (sources that may pay for every criterion:
        the provincial and district budgets) taken for recovery in a disaster year, at
        full severity (the hit districts' share of the communes times their mean
        intensity, times two). Yagi's damage (more than 3,200 billion VND) was about a
        third of the five-year NTM money; 0.3 is an assumption.
    threshold_criteria
        Criteria whose failure and slipping depend on how far the commune is from the
        threshold (income and poverty).
    threshold_zone3_factor, threshold_gap_factor
        A threshold criterion's failure and slip probabilities are multiplied by
        ``1 + zone3_factor × (Zone III) + gap_factor × (share of criteria the commune
        missed at the start)``. A Zone III commune has at least 15–20% poor households
        (Decision 33/2020/QĐ-TTg; Lùng Cải 91% poor and near-poor) against a threshold
        near 13% [unconfirmed]; the national target was to cut poverty by 3–5 points a
        year in ethnic-minority areas and poor districts [recalled, Resolution
        24/2021/QH15, unconfirmed], so a Zone III commune often needs more than a
        two-year project. The Zone III factor was set from the backtest's end-2023 point
        (about 62 recognised communes, one new in 2022–2023, on the re-calibrated data):
        8.0 (about a 55% chance of failing poverty within the horizon) gives a median of
        64 (5–95%: 62–67), where 4.0 gave 66 (63–69) and 12.0 gives 62 (61–64) but only
        63 at the end of 2024 against 66; 1.0 for the gap is an assumption.
    revocation_probability
        Yearly probability that a review carries out the revocation rule of the criteria
        set (:class:`ntm_sim.data.criteria.Revocation`, Decision 18/2022/QĐ-TTg: 30–50% of the
        criteria not met with a key one, or 50% or more) for a recognised commune it
        holds. Reviews start in the year the province began them (the dataset's
        ``reviews_from``: 2024 in Lào Cai). Recognition is sticky in practice: in October
        2024, 18 of Lào Cai's 62 communes recognised before 2022 were held by the rule and
        16 were "expected to be revoked", yet none is reported revoked by June 2025 (65
        communes NTM); nationally the share of NTM communes rose at every report through
        the stricter 2022 set. With no revocation in about 18 commune-years under review,
        0.03 is the posterior mean under a Jeffreys prior (0.5 / 19); a plan on paper
        applies the rule as written (1.0, :meth:`none`).
    """

    model_config = ConfigDict(extra="forbid")

    preset: Literal["default", "pessimistic", "disaster_2024"] = "default"
    overrun_median: Range = _r(1.0, 1.2)
    disbursement_mean: Range = _r(0.65, 0.95)
    delay_multiplier: Range = _r(0.5, 1.5)
    slip_multiplier: Range = _r(0.5, 1.5)
    disaster_rate: Range = _r(0.1, 0.4)
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
    disbursement_kind_factor: dict[SourceKind, float] = Field(
        default_factory=lambda: {"investment": 1.0, "recurrent": 0.75})
    disbursement_year_factor: dict[int, float] = Field(default_factory=lambda: {2022: 0.85})
    disaster_years: dict[int, float] = Field(default_factory=dict)
    disaster_district_share: float = Field(0.5, ge=0, le=1)
    disaster_money_share: float = Field(0.3, ge=0, le=1)
    threshold_criteria: list[str] = Field(default_factory=lambda: ["TC10", "TC11"])
    threshold_zone3_factor: float = Field(8.0, ge=0)
    threshold_gap_factor: float = Field(1.0, ge=0)
    revocation_probability: float = Field(0.03, ge=0, le=1)

    PARAMETERS: ClassVar[tuple[str, ...]] = (
        "overrun_median", "disbursement_mean", "delay_multiplier", "slip_multiplier", "disaster_rate",
        "disaster_damage",
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """Fill the preset's values under the keys the scenario gives (and read the old re-check key)."""
        if isinstance(data, dict) and "recheck_probability" in data:  # results written before the rule was data
            data = {k: v for k, v in data.items() if k != "recheck_probability"}
        if isinstance(data, dict) and data.get("preset") not in (None, "default"):
            preset = PRESETS.get(str(data["preset"]))
            if preset is not None:  # an unknown name is refused by the field's own check
                data = {**preset, **data}
        return data

    @classmethod
    def named(cls, preset: str) -> UncertaintySettings:
        """The settings of a preset (``default``, ``pessimistic``, ``disaster_2024``)."""
        return cls.model_validate({"preset": preset})

    @classmethod
    def none(cls) -> UncertaintySettings:
        """No uncertainty at all: a simulation then reproduces the deterministic plan."""
        zero = _r(0.0, 0.0)
        return cls(
            overrun_median=_r(1.0, 1.0), disbursement_mean=_r(1.0, 1.0), delay_multiplier=zero,
            slip_multiplier=zero, disaster_rate=zero, disaster_damage=zero,
            overrun_sigma={"infrastructure": 0.0, "development": 0.0, "governance": 0.0, "upgrade": 0.0},
            disbursement_sd=0.0, delay_probability={}, failure_probability={}, slip_probability={},
            disbursement_kind_factor={}, disbursement_year_factor={}, disaster_years={}, disaster_money_share=0.0,
            revocation_probability=1.0,
        )

    def ranges(self) -> dict[str, Range]:
        """The experiment parameters and their ranges, in a fixed order."""
        return {name: getattr(self, name) for name in self.PARAMETERS}

    def per_criterion(self, table: dict[str, float], criteria_ids: list[str], kinds: list[str]) -> list[float]:
        """Resolve a kind-or-criterion table to one value per criterion (criterion wins)."""
        return [float(table.get(k, table.get(kind, 0.0))) for k, kind in zip(criteria_ids, kinds, strict=True)]


def source_kind(source_id: str, name_vi: str = "", name_en: str = "") -> SourceKind:
    """Whether a source is recurrent (sự nghiệp) or investment money (everything else)."""
    from ntm_sim.text import norm_key

    text = f"{norm_key(name_vi)} {norm_key(name_en)}"
    recurrent = "sự nghiệp" in text or "recurrent" in text or source_id.endswith("_sn")
    return "recurrent" if recurrent else "investment"
