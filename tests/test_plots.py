"""One story in the charts (issue 19, item 2): the progress chart shows the simulated median and band with
the plan on paper dashed and each run's own target; every tick in the reader's number format; legends off
the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bokeh.models import CategoricalAxis, CustomJSTickFormatter, Legend, Span, VArea
from bokeh.models.renderers import GlyphRenderer

from ntm_sim.analysis.backtest import bundled_backtest, chart_labels
from ntm_sim.analysis.compare import own_targets
from ntm_sim.messages import Catalogue
from ntm_sim.present.plots import backtest_chart, frontier_chart, ntm_chart, threshold_chart
from ntm_sim.run.runs import find_runs

VI, EN = Catalogue("vi"), Catalogue("en")


@pytest.fixture(scope="module")
def runs(compare_root):
    return find_runs(compare_root)


def _renderers(p) -> list[GlyphRenderer]:
    return [r for r in p.renderers if isinstance(r, GlyphRenderer) and r.data_source.data]


def test_the_progress_chart_shows_the_simulated_median_and_band_and_paper_dashed(runs, compare_root):
    p = ntm_chart(runs)
    base = next(r for r in runs if r.folder.name == "baseline")
    sim = pd.read_csv(compare_root / "baseline" / "simulation" / "outcomes.csv")
    sim = sim[sim["plan"] == "recommended"]
    years = [c for c in sim.columns if c.startswith("ntm_") and c[4:].isdigit()]
    values = sim[years].to_numpy(dtype=float)
    bands = [r for r in _renderers(p) if isinstance(r.glyph, VArea) and "year" in r.data_source.data]
    assert len(bands) == 1  # only the simulated run has a band; the run on paper only has none
    data = bands[0].data_source.data
    assert list(data["year"]) == [int(c[4:]) for c in years]
    np.testing.assert_allclose(data["median"], np.median(values, axis=0))
    np.testing.assert_allclose(data["p5"], np.percentile(values, 5, axis=0))
    np.testing.assert_allclose(data["p95"], np.percentile(values, 95, axis=0))
    # the plan on paper: one dashed line per run, ending at the run's figure on paper
    dashed = [r for r in _renderers(p) if getattr(r.glyph, "line_dash", None) == [6]
              and "communes_ntm" in r.data_source.data]
    assert len(dashed) == len(runs)
    ends = sorted(r.data_source.data["communes_ntm"][-1] for r in dashed)
    assert ends == sorted(r.summary["communes_ntm"] for r in runs)
    # each run's own target, once
    spans = [s.location for s in p.center if isinstance(s, Span)]
    assert sorted(spans) == sorted(own_targets(r)["communes_ntm"] for r in runs)
    assert own_targets(base)["communes_ntm"] in spans


def _charts(runs):
    table = pd.DataFrame({"budget_mvnd": [8e6, 1e7, 1.2e7], "p5": [60, 70, 80], "p50": [65, 75, 85],
                          "p95": [70, 80, 90], "p_target": [0.0, 0.4, 0.9]})
    labels = {k: k for k in ("title", "x", "y", "p", "median", "band", "chance")}
    for t in (VI, EN):
        yield t, "progress", ntm_chart(runs, t)
        yield t, "risk", threshold_chart(runs, t)
        yield t, "curve", frontier_chart(table, [("a", 9e6, 70)], labels, t)
        yield t, "backtest", backtest_chart(bundled_backtest().table, chart_labels(t), t=t)


def test_every_tick_in_the_readers_number_format_and_every_legend_below(runs):
    for t, name, p in _charts(runs):
        locale = "vi-VN" if t.lang == "vi" else "en-GB"
        axes = [a for a in [*p.left, *p.right, *p.below, *p.above] if hasattr(a, "formatter")
                and not isinstance(a, CategoricalAxis)]
        assert axes, name
        for axis in axes:
            f = axis.formatter
            assert isinstance(f, CustomJSTickFormatter), (name, t.lang, f)  # bokeh's own would print 6000
            assert locale in f.code or "String(Math.round(tick))" in f.code, (name, f.code)  # years as written
        legends = [x for x in [*p.center] if isinstance(x, Legend)]
        assert legends == [], name  # no legend over the data
        assert any(isinstance(x, Legend) for x in p.below), name
