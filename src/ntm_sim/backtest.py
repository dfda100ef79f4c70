"""Backtest: 2021–2024 from the 2021 start, with the money planned, against what happened.

The province funded communes as planners do (fewest missing criteria first, year by
year, whole communes within the money left: :func:`ntm_sim.optimize.baselines.planners_rule`),
with the envelopes of the bundled data for 2021–2024. The backtest simulates that plan
under each uncertainty preset (and with no uncertainty: the plan on paper) and sets the
simulated number of NTM communes by year beside the known ones:

* end of 2020: 61 (the start; public, see the data README);
* end of 2023: about 62 (baodantoc.vn, 2024: the 2024 plan adds 10 to reach 72);
* 2024: the plan aimed at 72 (an aim, not a result; the actual count was not found).

The known count is of *recognised* communes, which stay recognised unless a re-check
removes them; the simulation counts both the recognised communes (the comparison) and
the communes meeting every criterion at the end of the year, which can slip.

How the defaults were chosen: from the evidence cited in :mod:`ntm_sim.uncertainty`
first; the backtest is the check that they are not far off. The default preset must
put the known end-2023 count inside its 5–95% band, the plan on paper must overstate it
(a plan on paper assumes nothing goes wrong), and the pessimistic preset must fall
below the default. The test suite runs the backtest (``tests/test_backtest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ntm_sim.dataset import Dataset
from ntm_sim.instance import build_instance
from ntm_sim.optimize.baselines import planners_rule
from ntm_sim.plan import evaluate
from ntm_sim.scenario import Scenario
from ntm_sim.simulate import simulate
from ntm_sim.uncertainty import PRESETS, UncertaintySettings

YEARS = (2021, 2024)
#: Known NTM communes at the end of a year: (count, what it is, source).
KNOWN = {
    2020: (61, "result", "57 + 4 recognised for 2020 (truyenhinhbaoyen.vn; doingoailaocai.vn 12790)"),
    2023: (62, "result", "about 62 at the end of 2023 (baodantoc.vn, 2024 plan: +10 to reach 72)"),
    2024: (72, "aim", "the 2024 plan's aim (baodantoc.vn); the actual count was not found"),
}
PAPER = "on paper"


def known_points(ds: Dataset) -> dict[int, tuple[int, str, str]]:
    """The known counts that apply to ``ds``: :data:`KNOWN` for Lào Cai's 127 communes of 2021, none for other data.

    The counts are the province's; another province, or a part of Lào Cai, has none here.
    """
    from ntm_sim.units import lao_cai_units

    return KNOWN if set(ds.communes.index) == set(lao_cai_units().communes.index) else {}


@dataclass(frozen=True)
class BacktestResult:
    """Simulated and known NTM communes by year.

    Attributes
    ----------
    table
        One row per settings name, measure (``recognised`` or ``criteria``: meeting every
        criterion) and year: ``settings``, ``measure``, ``year``, ``median``, ``p5``,
        ``p95``, ``mean``, ``known``, ``known_kind`` (``result`` or ``aim``), ``source``.
    n_draws, seed
        The simulation's draws and seed (same seed, same numbers).
    """

    table: pd.DataFrame
    n_draws: int
    seed: int

    @property
    def has_known(self) -> bool:
        """Whether the data have known counts to compare with (:func:`known_points`)."""
        return bool(self.table["known"].notna().any())

    def at(self, settings: str, year: int, measure: str = "recognised") -> pd.Series:
        """The row of one settings name, year and measure."""
        t = self.table
        return t[(t["settings"] == settings) & (t["year"] == year) & (t["measure"] == measure)].iloc[0]

    def markdown(self, measure: str = "recognised") -> str:
        """The comparison as a Markdown table (median and 5–95% band against the known count)."""
        table = self.table[self.table["measure"] == measure]
        years = sorted(table["year"].unique())
        head = "| Uncertainty | " + " | ".join(f"end {y}" for y in years) + " |"
        out = [head, "|---" * (len(years) + 1) + "|"]
        for name, rows in table.groupby("settings", sort=False):
            cells = []
            for y in years:
                r = rows[rows["year"] == y].iloc[0]
                band = "" if r["p5"] == r["p95"] else f" ({r['p5']:.0f}–{r['p95']:.0f})"
                cells.append(f"{r['median']:.0f}{band}")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        known = [f"{KNOWN[y][0]}{' (aim)' if KNOWN[y][1] == 'aim' else ''}" if y in KNOWN else "–" for y in years]
        if not self.has_known:
            known = ["–" for _ in years]
        out.append("| **known** | " + " | ".join(known) + " |")
        return "\n".join(out)


def backtest_scenario(data: str = "lao_cai") -> Scenario:
    """The backtest's scenario: 2021–2024, the data's money, carry-over, the usual absorption limit."""
    return Scenario.model_validate({
        "name": "backtest", "title": "Kiểm định lại 2021–2024 (backtest)", "data": data, "years": YEARS,
        "mode": "max-achievement", "budget": {"carry_over": True, "absorption_limit_mvnd": 150000},
    })


def run_backtest(ds: Dataset, presets: tuple[str, ...] = tuple(PRESETS), *, n_draws: int = 1000,
                 seed: int = 0) -> BacktestResult:
    """Simulate the planners' rule 2021–2024 under each preset and compare with the known counts.

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
    """
    known = known_points(ds)
    inst = build_instance(ds, backtest_scenario(ds.meta.name))
    dec = planners_rule(inst)
    years = [int(y) for y in inst.years]
    out = evaluate(inst, dec)
    # on paper nothing is re-checked: recognised at the start, or meeting every criterion by then
    done = out.commune_year_ntm[None, :]
    recognised = inst.recognised[None, :] | ((done != 0) & (done <= np.array(years)[:, None]))
    counts = {(PAPER, "recognised"): recognised.sum(axis=1).astype(float)[None, :],
              (PAPER, "criteria"): np.asarray(out.ntm_by_year, dtype=float)[None, :]}
    for name in presets:
        result = simulate(inst, {"planners_rule": dec}, UncertaintySettings.named(name), n_draws=n_draws, seed=seed)
        counts[(name, "recognised")] = result.outcomes["planners_rule"]["recognised_by_year"]
        counts[(name, "criteria")] = result.outcomes["planners_rule"]["ntm_by_year"]
    start = years[0] - 1
    rows = []
    for (name, measure), by_year in counts.items():
        if start in known:  # the known start, as the year before the horizon
            rows += _rows(name, measure, [start], np.full((1, 1), known[start][0], dtype=float), known)
        rows += _rows(name, measure, years, by_year, known)
    return BacktestResult(table=pd.DataFrame(rows), n_draws=n_draws, seed=seed)


def _known(year: int, known: dict[int, tuple[int, str, str]]) -> dict[str, object]:
    count, kind, source = known.get(year, (np.nan, "", ""))
    return {"known": count, "known_kind": kind, "source": source}


def _rows(name: str, measure: str, years: list[int], ntm_by_year: np.ndarray,
          known: dict[int, tuple[int, str, str]]) -> list[dict[str, object]]:
    """One row per year of a (draws × years) array of NTM counts."""
    return [{"settings": name, "measure": measure, "year": y, "median": float(np.median(ntm_by_year[:, t])),
             "p5": float(np.percentile(ntm_by_year[:, t], 5)), "p95": float(np.percentile(ntm_by_year[:, t], 95)),
             "mean": float(ntm_by_year[:, t].mean()), **_known(y, known)} for t, y in enumerate(years)]
