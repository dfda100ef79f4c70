"""Charts of scenarios side by side (Bokeh figures; no UI code)."""

from __future__ import annotations

import math

import pandas as pd
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    Legend,
    LinearAxis,
    LinearColorMapper,
    NumeralTickFormatter,
    Range1d,
    Span,
)
from bokeh.palettes import Blues9, Category10_10, RdYlGn11
from bokeh.plotting import figure

from ntm_sim.analysis.compare import ScenarioRun, ntm_by_year, threshold_curves
from ntm_sim.analysis.where import FUNDED, MET, NOT_FUNDED
from ntm_sim.messages import Catalogue

MET_COLOUR, NOT_FUNDED_COLOUR, NEVER_COLOUR, START_COLOUR = "#a8d5a2", "#e8a29b", "#c0392b", "#1a7f37"


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
        # each scenario's own target, in its colour (a 2026–2030 run never sits under 2021–2025's 94)
        target = (run.summary.get("targets", {}).get("communes_ntm") or {}).get("target")
        if target:
            p.add_layout(Span(location=target, dimension="width", line_dash="dashed", line_color=color))
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


def district_chart(progress: pd.DataFrame, t: Catalogue) -> figure:
    """Communes NTM per district by year, cumulative (:func:`ntm_sim.analysis.where.district_progress`)."""
    p = figure(height=340, title=t("where.chart_title"), x_axis_label=t("where.year"), y_axis_label=t("where.count"),
               toolbar_location=None, sizing_mode="stretch_width")
    items = []
    for i, (district, d) in enumerate(progress.groupby("district", sort=False)):
        src = ColumnDataSource({"year": d["year"].tolist(), "communes_ntm": d["communes_ntm"].tolist(),
                                "district": [district] * len(d)})
        colour = Category10_10[i % 10]
        line = p.line("year", "communes_ntm", source=src, color=colour, line_width=2)
        dots = p.scatter("year", "communes_ntm", source=src, color=colour, size=6)
        items.append((district, [line, dots]))
    p.add_layout(Legend(items=items, click_policy="hide"), "right")  # outside: nine names would hide the lines
    p.add_tools(HoverTool(tooltips=[(t("where.district"), "@district"), (t("where.year"), "@year"),
                                    (t("where.count"), "@communes_ntm")]))
    p.xaxis.ticker = sorted(progress["year"].unique().tolist())
    return p


def _matrix_colours(matrix: pd.DataFrame) -> dict[str, str]:
    """A colour per funding start year: later years darker."""
    years = sorted(int(y) for y in matrix["start_year"].dropna().unique())
    ramp = list(reversed(Blues9))[3:]  # the lightest blues are too close to white
    return {str(y): ramp[min(len(ramp) - 1, round(i * (len(ramp) - 1) / max(1, len(years) - 1)))]
            for i, y in enumerate(years)}


def matrix_chart(matrix: pd.DataFrame, t: Catalogue) -> figure:
    """Commune × criterion heat map grouped by district (:func:`ntm_sim.analysis.where.criteria_matrix`).

    Each cell: met at the start (green), funded (blue, darker for a later start year,
    the year written in it) or missing and not funded (red); criteria by name.
    """
    name = "name_vi" if t.lang == "vi" else "name_en"
    m = matrix.assign(label=[f"{n} ({c})" for n, c in zip(matrix[name], matrix["criterion"], strict=True)])
    x = list(dict.fromkeys(m["label"]))
    y = list(dict.fromkeys(zip(m["district"], m["commune_name"] + " ", strict=True)))[::-1]  # top: first district
    year = m["start_year"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    colours = _matrix_colours(m)
    state = {MET: t("where.met"), NOT_FUNDED: t("where.not_funded")}
    money = t.number  # tỷ đồng in the page's number format
    src = ColumnDataSource({
        "x": m["label"].tolist(), "y": list(zip(m["district"], m["commune_name"] + " ", strict=True)),
        "colour": [colours[yr] if s == FUNDED else MET_COLOUR if s == MET else NOT_FUNDED_COLOUR
                   for s, yr in zip(m["status"], year, strict=True)],
        "year": [yr[-2:] for yr in year], "commune": m["commune_name"].tolist(), "district": m["district"].tolist(),
        "status": [t("where.funded_detail", start=yr, end=int(e), money=money(a / 1000, 1)) if s == FUNDED
                   else state[s] for s, yr, e, a in zip(m["status"], year, m["end_year"].fillna(0), m["amount_mvnd"],
                                                        strict=True)],
    })
    # room for the slanted names above, the legend below and 15 px a commune
    p = figure(x_range=FactorRange(*x), y_range=FactorRange(*y), height=360 + 15 * len(y), x_axis_location="above",
               toolbar_location=None, sizing_mode="stretch_width", title=t("where.matrix_title"), min_border_right=150)
    p.rect("x", "y", 0.94, 0.9, source=src, fill_color="colour", line_color=None)
    p.text("x", "y", text="year", source=src, text_font_size="7pt", text_align="center", text_baseline="middle",
           text_color="white")
    legend = [(t("where.met"), MET_COLOUR), *[(t("where.funded", year=yr), c) for yr, c in colours.items()],
              (t("where.not_funded"), NOT_FUNDED_COLOUR)]
    items = [(label, [p.rect([x[0]], [y[0]], 0, 0, fill_color=c, line_color=None)])
             for label, c in legend]  # legend swatches only: empty rectangles (a hidden glyph's swatch is greyed)
    p.add_layout(Legend(items=items, orientation="horizontal", location="center"), "below")
    p.add_tools(HoverTool(tooltips=[(t("table.commune"), "@commune"), (t("table.district"), "@district"),
                                    (t("where.criterion"), "@x"), (t("where.status"), "@status")]))
    p.xaxis.major_label_orientation = 1.0  # radians: long names slanted
    p.yaxis.major_label_text_font_size = p.yaxis.group_text_font_size = "8pt"
    p.xaxis.major_label_text_font_size = "8pt"
    p.grid.grid_line_color = None
    p.axis.axis_line_color = None
    return p


def map_chart(points: pd.DataFrame, t: Catalogue, first_year: int, horizon: int, colour: str = "stage") -> figure:
    """Communes at their coordinates (:func:`ntm_sim.analysis.where.commune_map`), no tiles.

    ``colour``: ``"stage"`` (the year each reaches the standard, or not in the plan) or
    ``"chance"`` (simulated chance by the horizon). Communes without coordinates are not
    drawn: the caller lists them.
    """
    pts = points[points["found"]]
    stages = ["start", *sorted(s for s in pts["stage"].unique() if s not in ("start", "never")), "never"]
    label = {"start": t("where.start", year=first_year), "never": t("where.never")}
    ramp = list(reversed(Blues9))[3:]
    years = stages[1:-1]
    fill = {"start": START_COLOUR, "never": NEVER_COLOUR,
            **{s: ramp[min(len(ramp) - 1, i)] for i, s in enumerate(years)}}
    src = ColumnDataSource({
        "lon": pts["lon"].tolist(), "lat": pts["lat"].tolist(), "commune": pts["commune_name"].tolist(),
        "district": pts["district"].tolist(), "stage": [label.get(s, s) for s in pts["stage"]],
        "fill": [fill[s] for s in pts["stage"]],
        "chance": pts["chance"].tolist(),
        "chance_text": ["–" if pd.isna(c) else f"{t.number(100 * c)}%" for c in pts["chance"]],
    })
    title = t("where.map_title") if colour == "stage" else t("where.map_chance_title", year=horizon)
    p = figure(height=560, match_aspect=True, toolbar_location="right", tools="pan,wheel_zoom,reset",
               title=title, x_axis_label=t("where.lon"), y_axis_label=t("where.lat"), sizing_mode="stretch_width")
    if colour == "chance":
        mapper = LinearColorMapper(palette=list(RdYlGn11)[::-1], low=0, high=1)
        dots = p.scatter("lon", "lat", source=src, size=11, line_color="#333",
                         fill_color={"field": "chance", "transform": mapper})
        p.add_layout(ColorBar(color_mapper=mapper, formatter=NumeralTickFormatter(format="0%"), width=12), "right")
    else:
        dots = p.scatter("lon", "lat", source=src, size=11, line_color="#333", fill_color="fill")
        items = [(label.get(s, s), [p.scatter([math.nan], [math.nan], size=10, fill_color=fill[s], line_color="#333")])
                 for s in stages]  # legend swatches only: a point at no place
        p.add_layout(Legend(items=items), "right")
    p.add_tools(HoverTool(renderers=[dots], tooltips=[
        (t("table.commune"), "@commune"), (t("table.district"), "@district"), (t("table.year"), "@stage"),
        (t("where.by_chance"), "@chance_text")]))
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


def backtest_chart(table: pd.DataFrame, labels: dict[str, str], settings: str = "default", *,
                   width: int | None = None) -> figure:
    """The backtest: each known point against the simulation's median and 5–95% band.

    Parameters
    ----------
    table
        :attr:`ntm_sim.analysis.backtest.BacktestResult.table`.
    labels
        Texts in the reader's language: ``title``, ``y``, ``band``, ``median``, ``known``, and one
        label per measure (the keys of :data:`ntm_sim.analysis.backtest.LABELS`).
    settings
        Which uncertainty settings to draw (the default preset).

    Counts only (communes); the averages are in the table beside it. A forecast point (nothing
    was set from it) is marked with ``*``.
    """
    t = table[(table["settings"] == settings) & table["count"]]
    names = [f"{w}{'*' if r == 'forecast' else ''} · {labels.get(m, m)}"
             for w, m, r in zip(t["when"], t["measure"], t["role"], strict=True)]
    src = ColumnDataSource({"point": names, "p5": t["p5"].tolist(), "p95": t["p95"].tolist(),
                            "median": t["median"].tolist(), "known": t["known"].tolist()})
    p = figure(height=380, y_range=FactorRange(*reversed(names)), title=labels["title"],
               x_axis_label=labels["y"], toolbar_location=None, **_size(width))
    p.hbar(y="point", left="p5", right="p95", height=0.5, source=src, fill_color="#1f77b4", fill_alpha=0.3,
           line_color="#1f77b4", legend_label=labels["band"])
    p.scatter("median", "point", source=src, marker="circle", size=9, color="#1f77b4", legend_label=labels["median"])
    p.scatter("known", "point", source=src, marker="x", size=14, line_width=3, color="#d62728",
              legend_label=labels["known"])
    p.add_tools(HoverTool(tooltips=[("", "@point"), (labels["known"], "@known"), (labels["median"], "@median"),
                                    (labels["band"], "@p5 – @p95")]))
    p.x_range = Range1d(0, max(t["p95"].max(), t["known"].max()) * 1.05 if len(t) else 1)
    p.xaxis.formatter = NumeralTickFormatter(format="0")
    p.add_layout(p.legend[0], "below")  # off the data
    p.legend.orientation = "horizontal"
    return p
