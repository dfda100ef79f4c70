"""Charts of scenarios side by side (Bokeh figures; no UI code)."""

from __future__ import annotations

from bokeh.models import ColumnDataSource, NumeralTickFormatter, Range1d, Span
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
