"""Charts of scenarios side by side (Bokeh figures; no UI code)."""

from __future__ import annotations

import pandas as pd
from bokeh.models import ColumnDataSource, LinearAxis, NumeralTickFormatter, Range1d, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from ntm_sim.analysis.compare import ScenarioRun, ntm_by_year, threshold_curves


def _size(width: int | None) -> dict[str, object]:
    """Figure size: stretched to its container, or a fixed width (for the printed report)."""
    return {"sizing_mode": "stretch_width"} if width is None else {"width": width, "sizing_mode": "fixed"}


def ntm_chart(runs: list[ScenarioRun], *, width: int | None = None) -> figure:
    """Communes NTM by year: each scenario's optimum, and the target line (``width`` px, or stretched)."""
    data = ntm_by_year(runs, baselines=False)
    p = figure(height=320, title="Số xã đạt chuẩn NTM theo năm (phương án tối ưu)", x_axis_label="Năm",
               y_axis_label="Số xã", toolbar_location=None, **_size(width))
    for i, run in enumerate(runs):
        d = data[data["scenario"] == run.name]
        src = ColumnDataSource(d.to_dict(orient="list"))  # a dict: no pandas index to reset
        color = Category10_10[i % 10]
        p.line("year", "communes_ntm", source=src, color=color, line_width=2, legend_label=run.name)
        p.scatter("year", "communes_ntm", source=src, color=color, size=7)
    target = next((r.summary.get("targets", {}).get("communes_ntm", {}).get("target") for r in runs), None)
    if target:
        p.add_layout(Span(location=target, dimension="width", line_dash="dashed", line_color="#444"))
    years = sorted(data["year"].unique().tolist()) if len(data) else []
    p.xaxis.ticker = years
    if years:  # half a year of room each side: the horizon's point is not cut at the frame's edge
        p.x_range = Range1d(years[0] - 0.4, years[-1] + 0.4)
    p.legend.location = "top_left"
    return p


def threshold_chart(runs: list[ScenarioRun], *, width: int | None = None) -> figure:
    """P(communes NTM ≥ k) for each simulated scenario (``width`` px, or stretched)."""
    data = threshold_curves(runs)
    p = figure(height=320, title="Xác suất đạt ít nhất k xã (mô phỏng)", x_axis_label="k (số xã)",
               y_axis_label="Xác suất", toolbar_location=None, y_range=(0, 1.02), **_size(width))
    for i, run in enumerate(runs):
        d = data[data["scenario"] == run.name]
        if len(d):
            src = ColumnDataSource(d.to_dict(orient="list"))
            p.step("k", "probability", source=src, color=Category10_10[i % 10], line_width=2,
                   legend_label=run.name, mode="after")
    p.yaxis.formatter = NumeralTickFormatter(format="0%")  # whole percentages: no decimal mark to localise
    if p.legend:
        p.legend.location = "bottom_left"
    return p


def frontier_chart(table: pd.DataFrame, positions: list[tuple[str, float, float]], labels: dict[str, str]) -> figure:
    """The budget curve: communes NTM (median, 5–95% band) and P(target) against money in tỷ đồng.

    Parameters
    ----------
    table
        A curve's table (:class:`ntm_sim.analysis.frontier.Frontier`): ``budget_mvnd``,
        ``p5``, ``p50``, ``p95``, ``p_target``.
    positions
        Runs to mark: (name, money in million VND, communes).
    labels
        Texts in the reader's language: ``title``, ``x``, ``y``, ``p``, ``median``, ``band``, ``chance``.
    """
    t = table.sort_values("budget_mvnd")
    src = ColumnDataSource({"bn": (t["budget_mvnd"] / 1000).tolist(), "p5": t["p5"].tolist(),
                            "p50": t["p50"].tolist(), "p95": t["p95"].tolist(),
                            "p": t["p_target"].fillna(0).tolist()})
    p = figure(height=340, title=labels["title"], x_axis_label=labels["x"], y_axis_label=labels["y"],
               toolbar_location=None, sizing_mode="stretch_width")
    p.varea("bn", "p5", "p95", source=src, fill_color="#1f77b4", fill_alpha=0.2, legend_label=labels["band"])
    p.line("bn", "p50", source=src, color="#1f77b4", line_width=2, legend_label=labels["median"])
    p.scatter("bn", "p50", source=src, color="#1f77b4", size=7)
    # P(target) on its own axis at the right, 0–100%
    p.extra_y_ranges = {"p": Range1d(0, 1.02)}
    p.add_layout(LinearAxis(y_range_name="p", axis_label=labels["p"],
                            formatter=NumeralTickFormatter(format="0%")), "right")
    p.line("bn", "p", source=src, y_range_name="p", color="#d62728", line_dash="dashed", line_width=2,
           legend_label=labels["chance"])
    for i, (name, money, communes) in enumerate(positions):
        p.scatter([money / 1000], [communes], marker="diamond", size=14, color=Category10_10[(i + 2) % 10],
                  legend_label=name)
    p.xaxis.formatter = NumeralTickFormatter(format="0")  # no thousands mark: "," would read as a decimal in Vietnamese
    p.legend.location = "bottom_right"
    return p
