"""Backtest: 2021–2024 from the 2021 start, with the money of the data, against every known point.

The province's practice is simulated from the bundled 2021 start (61 recognised communes,
most short of the Decision 318 set they were re-assessed under from 2022):

* new communes are funded as planners do (fewest missing criteria first, year by year,
  whole communes within the money left), the recognised communes' own gaps after them
  (they already count: :func:`ntm_sim.optimize.baselines.planners_rule`);
* the 2024 plan's advanced communes (+5 in 2024, baodantoc.vn): the recognised communes
  closest to every criterion have their gaps funded from 2023 and their advanced upgrade
  in 2024 (:func:`province_practice`).

Each uncertainty preset (and the plan on paper: the rules applied as written, the
revocation rule included) is set beside every public point of
``notes/lao-cai-2021-2026.md`` (:data:`KNOWN`): the median and 5–95% band of the
simulation against the known value, and the error of the median. Points up to the end of
2023 calibrate; the October 2024 review and the June 2025 count are a forecast check
(nothing was set from them). A year in the simulation ends on 31 December: the October
2024 review and the June 2025 count (communes recognised "for 2024" in early 2025) are
compared with the end of 2024. The record counts 126 communes after Tà Chải (recognised,
advanced) joined Bắc Hà township on 1/11/2024; the simulation keeps 127, so Tà Chải is
added to the June 2025 counts.

Which parameter was set from which point (``CALIBRATED``) is part of the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ntm_sim.data.dataset import Dataset
from ntm_sim.messages import Catalogue
from ntm_sim.model.instance import Instance, build_instance
from ntm_sim.model.plan import Decisions
from ntm_sim.model.scenario import Scenario
from ntm_sim.model.uncertainty import PRESETS, UncertaintySettings
from ntm_sim.optimize.baselines import _fewest_missing, _Greedy, _rank_year
from ntm_sim.simulate import simulate

YEARS = (2021, 2025)  # the plan's horizon: the province planned to 2025 (the points end in 2024)
PAPER = "on paper"
ADVANCED_AIM = {2024: 5}   # the 2024 plan: +5 advanced communes (baodantoc.vn, 1716171319349)
PROVINCE = "Lào Cai"  # the data's province_name the known points are of
MERGED = "Tà Chải"  # the commune merged on 1/11/2024, counted apart in the 2025 sources
VI = Catalogue("vi")


@dataclass(frozen=True)
class KnownPoint:
    """One public fact the simulation is set beside.

    Attributes
    ----------
    when
        How the record dates it.
    year
        The simulated year-end it is compared with.
    measure
        The simulated quantity (see :func:`measures`).
    value
        The known value (in the simulation's 127 communes).
    role
        ``calibration`` (a parameter or the data was set from it) or ``forecast`` (a check).
    source
        Where it comes from.
    count
        Whether it counts communes (its median must come within 3).
    """

    when: str
    year: int
    measure: str
    value: float
    role: str
    source: str
    count: bool = True


KNOWN: tuple[KnownPoint, ...] = (
    KnownPoint("3/2021", 2020, "recognised", 61, "calibration",
               "61/127 after 4 recognised for 2020 (doingoailaocai.vn 12022)"),
    KnownPoint("end 2021", 2021, "recognised", 61, "calibration", "61/127 kept (doingoailaocai.vn 14429)"),
    KnownPoint("end 2021", 2021, "avg_criteria", 15.15, "calibration",
               "15.15 criteria per commune (doingoailaocai.vn 14429)", count=False),
    KnownPoint("end 2023", 2023, "recognised", 62, "calibration",
               "about 62 NTM (derived: the 2024 plan adds 10 to reach 72, baodantoc.vn)"),
    KnownPoint("end 2023", 2023, "advanced", 5, "calibration", "about 5 advanced (derived, the 2024 plan)"),
    KnownPoint("10/2024", 2024, "start_kept", 61, "forecast",
               "all recognised before 2022 still recognised: 62 of 62 (tracuuquyhoach.com, 20/10/2024); the data, "
               "with two other sources, start from 61"),
    KnownPoint("10/2024", 2024, "start_avg", 15.03, "forecast", "15.03 of 19 on average (vietnam.vn)", count=False),
    KnownPoint("10/2024", 2024, "start_at_19", 4, "forecast", "4 keep 19/19 (tracuuquyhoach.com)"),
    KnownPoint("10/2024", 2024, "start_14_18", 39, "forecast",
               "40 of 62 keep 14–18 (tracuuquyhoach.com): 39 of the data's 61"),
    KnownPoint("10/2024", 2024, "start_10_13", 16, "forecast", "16 keep 10–13 (tracuuquyhoach.com)"),
    KnownPoint("10/2024", 2024, "start_below_10", 2, "forecast", "2 below 10 (tracuuquyhoach.com)"),
    KnownPoint("2024", 2024, "start_advanced_avg", 14.0, "forecast",
               "5 advanced keep 14 criteria on average (tracuuquyhoach.com)", count=False),
    KnownPoint("6/2025", 2024, "recognised", 66, "forecast",
               f"65/126 NTM (thongtin.vietnam.vn), + {MERGED} (merged 1/11/2024) in 127 communes"),
    KnownPoint("6/2025", 2024, "advanced", 8, "forecast",
               f"7 advanced (thongtin.vietnam.vn), + {MERGED} in 127 communes"),
)

#: Which setting was chosen from which point, and why (the README's backtest section repeats it).
CALIBRATED = (
    ("data: criteria of the 66 communes not recognised (GROUP_SIZES in ntm_sim.data.demo)", "end 2021: 15.15",
     "with the 61 recognised counting the 19 criteria of the set they met, the rest must average about 11.5"),
    ("data: the recognised communes' status under Decision 318", "10/2024 review (4/40/16/2, 15.03)",
     "the only public picture of the re-assessment: the data start from it (the check is that the "
     "simulation keeps it, not that it reaches it)"),
    ("uncertainty: revocation_probability 0.03", "no revocation reported through 6/2025",
     "18 communes held by the rule, none revoked: the posterior mean under a Jeffreys prior"),
    ("uncertainty: threshold_zone3_factor 8.0 (was 4.0)", "end 2023: about 62",
     "Zone III communes (all 66 not recognised) fail and lose income and poverty more often: few new communes"),
)


def measures(outcomes: dict[str, np.ndarray], inst: Instance) -> dict[str, np.ndarray]:
    """Per draw and year (B × T) the quantities :data:`KNOWN` points name."""
    start = outcomes["start_recognised"].astype(float)
    kept = start[:, :, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "recognised": outcomes["recognised_by_year"].astype(float),
            "avg_criteria": outcomes["criteria_by_year"].astype(float),
            "advanced": outcomes["advanced_by_year"].astype(float),
            "start_kept": kept,
            "start_avg": start[:, :, 1] / kept,
            "start_at_19": start[:, :, 2],
            "start_14_18": start[:, :, 3] - start[:, :, 2],
            "start_10_13": start[:, :, 4] - start[:, :, 3],
            "start_below_10": kept - start[:, :, 4],
            "start_advanced_avg": start[:, :, 6] / start[:, :, 5],
        }


@dataclass(frozen=True)
class BacktestResult:
    """The simulation set beside every known point.

    Attributes
    ----------
    table
        One row per settings name and known point: ``settings``, ``when``, ``year``,
        ``measure``, ``known``, ``role``, ``median``, ``p5``, ``p95``, ``mean``,
        ``error`` (median − known), ``covered`` (the 5–95% band holds the known value),
        ``source``.
    n_draws, seed
        The simulation's draws and seed (same seed, same numbers).
    """

    table: pd.DataFrame
    n_draws: int
    seed: int

    def at(self, settings: str, when: str, measure: str) -> pd.Series:
        """The row of one settings name and known point."""
        t = self.table
        return t[(t["settings"] == settings) & (t["when"] == when) & (t["measure"] == measure)].iloc[0]

    def markdown(self) -> str:
        """The comparison as a Markdown table: one row per point, one column per settings name."""
        names = list(dict.fromkeys(self.table["settings"]))
        out = ["| point | measure | known | " + " | ".join(names) + " |", "|---" * (len(names) + 3) + "|"]
        for (when, measure), rows in self.table.groupby(["when", "measure"], sort=False):
            first = rows.iloc[0]
            cells = []
            for name in names:
                r = rows[rows["settings"] == name].iloc[0]
                digits = 0 if first["count"] else 2
                band = "" if r["p5"] == r["p95"] else f" ({r['p5']:.{digits}f}–{r['p95']:.{digits}f})"
                mark = "" if r["covered"] else " ✗"
                cells.append(f"{r['median']:.{digits}f}{band}{mark}")
            role = "" if first["role"] == "calibration" else " *"
            known = f"{first['known']:.0f}" if first["count"] else f"{first['known']:.2f}"
            out.append(f"| {when}{role} | {LABELS.get(measure, measure)} | {known} | " + " | ".join(cells) + " |")
        return "\n".join(out)


LABELS = {
    "recognised": "communes recognised NTM", "avg_criteria": "criteria per commune", "advanced": "advanced communes",
    "start_kept": "recognised before 2022, kept", "start_avg": "… their criteria", "start_at_19": "… at 19/19",
    "start_14_18": "… at 14–18", "start_10_13": "… at 10–13", "start_below_10": "… below 10",
    "start_advanced_avg": "advanced at the start: criteria",
}


def backtest_scenario(data: str = "lao_cai") -> Scenario:
    """The backtest's scenario: 2021–2024, the data's money, carry-over, the usual absorption limit."""
    return Scenario.model_validate({
        "name": "backtest", "title": VI("backtest.scenario_title"), "data": data, "years": YEARS,
        "mode": "max-achievement", "budget": {"carry_over": True, "absorption_limit_mvnd": 150000},
    })


def province_practice(inst: Instance, advanced_aim: dict[int, int] | None = None) -> Decisions:
    """The province's 2021–2024 practice: new communes by the planners' rule, the year's advanced communes.

    In each year of ``advanced_aim`` (year → number), the recognised communes not yet advanced
    that are closest to every criterion (fewest missing, then least money) have their gaps
    funded in the earliest year that finishes them by then and their advanced upgrade that
    year, before the year's ranking; then new communes as the planners' rule does.
    """
    aim = ADVANCED_AIM if advanced_aim is None else advanced_aim
    g = _Greedy(inst)
    for year in [int(y) for y in inst.years]:
        if aim.get(year):
            candidates = [c for c in np.flatnonzero(inst.recognised & ~inst.base_adv).tolist()]
            candidates.sort(key=lambda c: _fewest_missing(g, c))
            done = 0
            for c in candidates:
                if done >= aim[year]:
                    break
                if g.complete(c, [y for y in (int(y) for y in inst.years) if y <= year]) and g.ntm_year(c) <= year:
                    done += int(g.fund_upgrade("advanced", c))
        _rank_year(g, year, _fewest_missing)
    return g.finish("province_practice")


def run_backtest(ds: Dataset, presets: tuple[str, ...] = tuple(PRESETS), *, n_draws: int = 1000,
                 seed: int = 0) -> BacktestResult:
    """Simulate the province's practice 2021–2024 under each preset and set it beside every known point.

    Parameters
    ----------
    ds
        The dataset at the 2021 start (the bundled Lào Cai data).
    presets
        Uncertainty presets to compare (the plan on paper always comes first).
    n_draws, seed
        Draws per preset and the seed (every preset meets the same random numbers).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        If the dataset is not of Lào Cai: the known points are Lào Cai's.
    """
    if ds.communes.get("province_name", pd.Series(dtype=str)).ne(PROVINCE).any():
        raise ValueError(f"the known points are {PROVINCE}'s; this dataset is not of {PROVINCE}")
    inst = build_instance(ds, backtest_scenario(ds.meta.name))
    dec = province_practice(inst)
    runs = {PAPER: UncertaintySettings.none(), **{name: UncertaintySettings.named(name) for name in presets}}
    rows = []
    for name, settings in runs.items():
        n = 1 if name == PAPER else n_draws
        sim = simulate(inst, {"practice": dec}, settings, n_draws=n, seed=seed)
        values = measures(sim.outcomes["practice"], inst)
        for point in KNOWN:
            if point.year < int(inst.years[0]):  # the start: the data's own count
                series = np.full(n, float(inst.recognised.sum()))
            else:
                series = values[point.measure][:, inst.year_index(point.year)]
            rows.append(_row(name, point, series))
    return BacktestResult(table=pd.DataFrame(rows), n_draws=n_draws, seed=seed)


def _row(name: str, point: KnownPoint, series: np.ndarray) -> dict[str, object]:
    """One settings name against one known point."""
    series = series[~np.isnan(series)]
    median = float(np.median(series)) if len(series) else float("nan")
    p5, p95 = (float(np.percentile(series, q)) for q in (5, 95)) if len(series) else (float("nan"),) * 2
    return {"settings": name, "when": point.when, "year": point.year, "measure": point.measure,
            "known": float(point.value), "role": point.role, "count": point.count, "median": median, "p5": p5,
            "p95": p95, "mean": float(series.mean()) if len(series) else float("nan"),
            "error": median - float(point.value), "covered": bool(p5 - 1e-9 <= point.value <= p95 + 1e-9),
            "source": point.source}


def chart_labels(t: Catalogue) -> dict[str, str]:
    """The backtest chart's texts in ``t``'s language (:func:`ntm_sim.present.plots.backtest_chart`)."""
    keys = ("title", "y", "band", "median", "known", *LABELS)
    return {key: t(f"backtest.{key}") for key in keys}


BUNDLED = "lao_cai"   #: the dataset the known points describe
REPORT_DRAWS = 500    #: draws of the backtest shown in the report and the page (default preset, seed 0)


@lru_cache(maxsize=2)
def bundled_backtest(n_draws: int = REPORT_DRAWS, seed: int = 0) -> BacktestResult:
    """The backtest of the bundled Lào Cai data under the default preset (cached: it is the same every time)."""
    from ntm_sim.data.registry import load_dataset

    return run_backtest(load_dataset(BUNDLED), ("default",), n_draws=n_draws, seed=seed)


def shows_backtest(datasets: list[str]) -> bool:
    """Whether results on these datasets are on the data the known points describe."""
    return BUNDLED in datasets
