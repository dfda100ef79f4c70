"""Charts of scenarios side by side (Bokeh figures; no UI code).

Every chart speaks the reader's language (:class:`ntm_sim.messages.Catalogue`): titles, axes,
legends and tick labels (``6.000`` and ``0,5`` in Vietnamese), and keeps its legend off the
data (beside or below the plot). Colours are colour-blind safe (Okabe and Ito's eight for
categories, cividis for a scale), and every status has a shape or a mark as well as a colour.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    CustomJSTickFormatter,
    FactorRange,
    HoverTool,
    LabelSet,
    Legend,
    LinearAxis,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.palettes import Cividis256
from bokeh.plotting import figure

from ntm_sim.analysis.compare import ScenarioRun, ntm_band_by_year, ntm_by_year, own_targets, threshold_curves
from ntm_sim.analysis.where import FUNDED, MET, NOT_FUNDED
from ntm_sim.messages import Catalogue

VI = Catalogue("vi")
#: Okabe and Ito's colour-blind-safe categorical palette (black before the yellow, which is faint on white)
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "hex", "star", "plus", "square_pin")
MET_COLOUR, NOT_FUNDED_COLOUR, NEVER_COLOUR, START_COLOUR = "#d9d9d9", "#D55E00", "#D55E00", "#009E73"
OUTLINE_COLOUR = "#444444"


def colour(i: int) -> str:
    """The ``i``-th categorical colour."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def number_ticks(t: Catalogue, decimals: int = 0) -> CustomJSTickFormatter:
    """Tick labels in the reader's number format (``6.000`` / ``6,000``), computed by the browser."""
    locale = "vi-VN" if t.lang == "vi" else "en-GB"
    return CustomJSTickFormatter(code=f"return Number(tick).toLocaleString('{locale}', "
                                      f"{{maximumFractionDigits: {decimals}}});")


def percent_ticks(t: Catalogue) -> CustomJSTickFormatter:
    """Tick labels of a share as whole percentages (``50%``)."""
    locale = "vi-VN" if t.lang == "vi" else "en-GB"
    return CustomJSTickFormatter(code=f"return Math.round(100 * tick).toLocaleString('{locale}') + '%';")


def year_ticks() -> CustomJSTickFormatter:
    """Years as written (``2026``, never ``2.026``)."""
    return CustomJSTickFormatter(code="return String(Math.round(tick));")


def _size(width: int | None) -> dict[str, object]:
    """Figure size: stretched to its container, or a fixed width (for the printed report)."""
    return {"sizing_mode": "stretch_width"} if width is None else {"width": width, "sizing_mode": "fixed"}


def _legend_below(p: figure, items: list, columns: int = 2) -> None:
    """A legend under the plot (off the data), in as many columns as fit."""
    legend = Legend(items=items, orientation="vertical", ncols=columns, label_text_font_size="9pt", spacing=0,
                    padding=4, margin=4)
    p.add_layout(legend, "below")


def _style_key(p: figure, t: Catalogue, simulated: bool) -> list:
    """Legend entries for the line styles, in grey: the simulated median and band, on paper (dashed), the target."""
    grey = "#555555"
    items = []
    if simulated:
        items.append((t("chart.key_simulated"), [p.varea([math.nan], [math.nan], [math.nan], fill_color=grey,
                                                         fill_alpha=0.2),
                                                 p.line([math.nan], [math.nan], color=grey, line_width=2.5)]))
    items.append((t("chart.key_paper"), [p.line([math.nan], [math.nan], color=grey, line_dash="dashed")]))
    items.append((t("chart.key_target"), [p.line([math.nan], [math.nan], color=grey, line_dash="dotdash")]))
    return items


def ntm_chart(runs: list[ScenarioRun], t: Catalogue = VI, *, width: int | None = None) -> figure:
    """Communes NTM by year: each run's simulated median and 5–95% band, the plan on paper dashed, its own target.

    A run without a simulation shows its plan on paper only. The legend, below the plot, names
    each run once (its colour and marker) and then the three line styles.
    """
    paper = ntm_by_year(runs, baselines=False)
    bands = {run.name: ntm_band_by_year(run) for run in runs}
    p = figure(height=330 + 20 * (len(runs) + 3), title=t("chart.progress_title"), x_axis_label=t("chart.year"),
               y_axis_label=t("chart.communes"), toolbar_location=None, **_size(width))
    items = []
    for i, run in enumerate(runs):
        c, marker = colour(i), MARKERS[i % len(MARKERS)]
        d = paper[paper["scenario"] == run.name]
        glyphs = []
        band = bands[run.name]
        if band is not None:
            src = ColumnDataSource(band.to_dict(orient="list"))
            glyphs += [p.varea("year", "p5", "p95", source=src, fill_color=c, fill_alpha=0.18),
                       p.line("year", "median", source=src, color=c, line_width=2.5),
                       p.scatter("year", "median", source=src, color=c, size=8, marker=marker)]
        src = ColumnDataSource({"year": d["year"].tolist(), "communes_ntm": d["communes_ntm"].tolist()})
        glyphs.append(p.line("year", "communes_ntm", source=src, color=c, line_width=1.5, line_dash="dashed"))
        if band is None:
            glyphs.append(p.scatter("year", "communes_ntm", source=src, color=c, size=8, marker=marker))
        target = own_targets(run).get("communes_ntm")
        if target is not None:  # each run's own target, in its colour (never 2021–2025's 94 under a 2026–2030 run)
            p.add_layout(Span(location=target, dimension="width", line_dash="dotdash", line_color=c, line_width=1.5))
        label = run.name if target is None else t("chart.with_target", name=run.name, target=t.number(target))
        items.append((label, glyphs))
    years = sorted(paper["year"].unique().tolist()) if len(paper) else []
    p.xaxis.ticker = years
    p.xaxis.formatter = year_ticks()
    p.yaxis.formatter = number_ticks(t)
    if years:  # half a year of room each side: the horizon's point is not cut at the frame's edge
        p.x_range = Range1d(years[0] - 0.4, years[-1] + 0.4)
    _legend_below(p, items + _style_key(p, t, any(b is not None for b in bands.values())), columns=1)
    return p


def threshold_chart(runs: list[ScenarioRun], t: Catalogue = VI, *, width: int | None = None) -> figure:
    """P(communes NTM ≥ k) for each simulated run, its own target marked (legend below the plot)."""
    data = threshold_curves(runs)
    p = figure(height=340 + 22 * ((len(runs) + 1) // 2), title=t("chart.risk_title"), x_axis_label=t("chart.k"),
               y_axis_label=t("chart.probability"), toolbar_location=None, y_range=(0, 1.02), **_size(width))
    items = []
    for i, run in enumerate(runs):
        d = data[data["scenario"] == run.name]
        if not len(d):
            continue
        src = ColumnDataSource(d.to_dict(orient="list"))
        glyphs = [p.step("k", "probability", source=src, color=colour(i), line_width=2.5, mode="after",
                         line_dash="solid" if i % 2 == 0 else "dashed")]
        target = own_targets(run).get("communes_ntm")
        if target is not None:
            p.add_layout(Span(location=target, dimension="height", line_dash="dotdash", line_color=colour(i)))
        items.append((run.name if target is None else t("chart.with_target", name=run.name,
                                                          target=t.number(target)), glyphs))
    if any(own_targets(r).get("communes_ntm") is not None for r in runs):
        items.append((t("chart.key_target_k"), [p.line([math.nan], [math.nan], color="#555555", line_dash="dotdash")]))
    p.yaxis.formatter = percent_ticks(t)
    p.xaxis.formatter = number_ticks(t)
    _legend_below(p, items, columns=1)
    return p


def district_chart(progress: pd.DataFrame, t: Catalogue) -> figure:
    """Communes NTM per district by year, cumulative (:func:`ntm_sim.analysis.where.district_progress`)."""
    p = figure(height=340, title=t("where.chart_title"), x_axis_label=t("where.year"), y_axis_label=t("where.count"),
               toolbar_location=None, sizing_mode="stretch_width")
    items = []
    for i, (district, d) in enumerate(progress.groupby("district", sort=False)):
        src = ColumnDataSource({"year": d["year"].tolist(), "communes_ntm": d["communes_ntm"].tolist(),
                                "district": [district] * len(d)})
        line = p.line("year", "communes_ntm", source=src, color=colour(i), line_width=2)
        dots = p.scatter("year", "communes_ntm", source=src, color=colour(i), size=7, marker=MARKERS[i % 9])
        items.append((district, [line, dots]))
    p.add_layout(Legend(items=items, click_policy="hide"), "right")  # outside: nine names would hide the lines
    p.add_tools(HoverTool(tooltips=[(t("where.district"), "@district"), (t("where.year"), "@year"),
                                    (t("where.count"), "@communes_ntm")]))
    p.xaxis.ticker = sorted(progress["year"].unique().tolist())
    p.xaxis.formatter = year_ticks()
    p.yaxis.formatter = number_ticks(t)
    return p


def _matrix_colours(matrix: pd.DataFrame) -> dict[str, str]:
    """A colour per funding start year: later years darker (cividis, colour-blind safe)."""
    years = sorted(int(y) for y in matrix["start_year"].dropna().unique())
    ramp = [Cividis256[i] for i in (200, 170, 140, 110, 80, 50)]
    return {str(y): ramp[min(len(ramp) - 1, round(i * (len(ramp) - 1) / max(1, len(years) - 1)))]
            for i, y in enumerate(years)}


def _matrix_rows(m: pd.DataFrame) -> list:
    """Each cell's row: (district, commune) grouped by district, or the commune alone where no commune has one."""
    communes = (m["commune_name"] + " ").tolist()
    if (m["district"] == "").all():  # a province without districts (from 1 July 2025)
        return communes
    return list(zip(m["district"], communes, strict=True))


def _matrix_source(m: pd.DataFrame, t: Catalogue) -> tuple[ColumnDataSource, dict[str, str]]:
    year = m["start_year"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    colours = _matrix_colours(m)
    state = {MET: t("where.met"), NOT_FUNDED: t("where.not_funded")}
    # the status in the cell as text too: ✓ met, the start year's last digits funded, ✗ not funded
    text = ["✓" if s == MET else "✗" if s == NOT_FUNDED else yr[-2:] for s, yr in zip(m["status"], year, strict=True)]
    return ColumnDataSource({
        "x": m["label"].tolist(), "y": _matrix_rows(m),
        "colour": [colours[yr] if s == FUNDED else MET_COLOUR if s == MET else NOT_FUNDED_COLOUR
                   for s, yr in zip(m["status"], year, strict=True)],
        "text_colour": ["#222222" if s == MET else "white" for s in m["status"]],
        "mark": text, "commune": m["commune_name"].tolist(), "district": m["district"].tolist(),
        "status": [t("where.funded_detail", start=yr, end=int(e), money=t.number(a / 1000, 1)) if s == FUNDED
                   else state[s] for s, yr, e, a in zip(m["status"], year, m["end_year"].fillna(0), m["amount_mvnd"],
                                                        strict=True)],
    }), colours


def matrix_chart(matrix: pd.DataFrame, t: Catalogue) -> figure:
    """Commune × criterion heat map grouped by district, if any (:func:`ntm_sim.analysis.where.criteria_matrix`).

    Each cell: met at the start (grey, ✓), funded (cividis, darker for a later start year,
    the year written in it) or missing and not funded (vermilion, ✗); criteria by name.
    """
    name = "name_vi" if t.lang == "vi" else "name_en"
    m = matrix.assign(label=[f"{n} ({c})" for n, c in zip(matrix[name], matrix["criterion"], strict=True)])
    x = list(dict.fromkeys(m["label"]))
    y = list(dict.fromkeys(_matrix_rows(m)))[::-1]  # top: the first district's first commune
    src, colours = _matrix_source(m, t)
    # room for the slanted names above, the legend below and 15 px a commune
    p = figure(x_range=FactorRange(*x), y_range=FactorRange(*y), height=380 + 15 * len(y), x_axis_location="above",
               toolbar_location=None, sizing_mode="stretch_width", title=t("where.matrix_title"), min_border_right=150)
    p.rect("x", "y", 0.94, 0.9, source=src, fill_color="colour", line_color=None)
    p.text("x", "y", text="mark", source=src, text_font_size="7pt", text_align="center", text_baseline="middle",
           text_color="text_colour")
    legend = [("✓ " + t("where.met"), MET_COLOUR), *[(t("where.funded", year=yr), c) for yr, c in colours.items()],
              ("✗ " + t("where.not_funded"), NOT_FUNDED_COLOUR)]
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


def province_outline(points: pd.DataFrame) -> list[tuple[list[float], list[float]]]:
    """An approximate outline of the province around its communes' official points (lon, lat rings).

    No boundary dataset whose licence allows shipping it was found for the province (GADM's
    does not), so the outline is drawn from the unit list the tool already ships: the concave
    hull of the communes' points (:func:`shapely.concave_hull`), widened by half the typical
    distance between neighbouring communes so that border communes lie inside it. It is an
    approximation, labelled as such on the map, not a surveyed boundary.
    """
    import shapely
    from scipy.spatial import cKDTree

    pts = points[points["found"]]
    if len(pts) < 3:
        return []
    xy = np.column_stack([pts["lon"].to_numpy(float), pts["lat"].to_numpy(float)])
    spacing = float(np.median(cKDTree(xy).query(xy, k=2)[0][:, 1]))  # each commune's nearest neighbour
    shape = shapely.concave_hull(shapely.multipoints(xy), ratio=0.35).buffer(0.75 * spacing)
    polygons = list(shape.geoms) if hasattr(shape, "geoms") else [shape]
    return [(list(poly.exterior.xy[0]), list(poly.exterior.xy[1])) for poly in polygons]


def _map_source(pts: pd.DataFrame, t: Catalogue, first_year: int) -> tuple[ColumnDataSource, list[str], dict]:
    stages = ["start", *sorted(s for s in pts["stage"].unique() if s not in ("start", "never")), "never"]
    label = {"start": t("where.start", year=first_year), "never": t("where.never")}
    ramp = [Cividis256[i] for i in (230, 190, 150, 110, 70, 30)]
    fill = {"start": START_COLOUR, "never": NEVER_COLOUR,
            **{s: ramp[min(len(ramp) - 1, i)] for i, s in enumerate(stages[1:-1])}}
    shape = {"start": "square", "never": "x", **dict.fromkeys(stages[1:-1], "circle")}
    chance = pts["chance"].astype(float)
    chance_shape = ["circle" if c >= 0.8 else "triangle" if c >= 0.5 else "x" for c in chance.fillna(0)]
    src = ColumnDataSource({
        "lon": pts["lon"].tolist(), "lat": pts["lat"].tolist(), "commune": pts["commune_name"].tolist(),
        "district": pts["district"].tolist(), "stage": [label.get(s, s) for s in pts["stage"]],
        "fill": [fill[s] for s in pts["stage"]], "shape": [shape[s] for s in pts["stage"]],
        "chance": chance.tolist(), "chance_shape": chance_shape,
        "chance_text": ["–" if pd.isna(c) else f"{t.number(100 * c)}%" for c in chance],
    })
    return src, stages, {"label": label, "fill": fill, "shape": shape}


def map_chart(points: pd.DataFrame, t: Catalogue, first_year: int, horizon: int, colour_by: str = "stage",
              outline: list[tuple[list[float], list[float]]] | None = None) -> figure:
    """Communes at their coordinates (:func:`ntm_sim.analysis.where.commune_map`), labelled, in the outline; no tiles.

    ``colour_by``: ``"stage"`` (the year each reaches the standard: a square before the plan, a
    circle in a year of it, a cross when not in the plan) or ``"chance"`` (simulated chance by
    the horizon: a circle from 80%, a triangle from 50%, a cross below). Communes without
    coordinates are not drawn: the caller lists them.
    """
    pts = points[points["found"]]
    src, stages, style = _map_source(pts, t, first_year)
    title = t("where.map_title") if colour_by == "stage" else t("where.map_chance_title", year=horizon)
    p = figure(height=620, match_aspect=True, toolbar_location="right", tools="pan,wheel_zoom,reset",
               title=title, x_axis_label=t("where.lon"), y_axis_label=t("where.lat"), sizing_mode="stretch_width")
    for xs, ys in outline or []:
        p.patch(xs, ys, fill_color="#f3f1ea", line_color=OUTLINE_COLOUR, line_width=1.5, line_dash="dashed")
    if colour_by == "chance":
        mapper = LinearColorMapper(palette=Cividis256, low=0, high=1)
        dots = p.scatter("lon", "lat", source=src, size=12, line_color="#222", marker="chance_shape",
                         fill_color={"field": "chance", "transform": mapper})
        p.add_layout(ColorBar(color_mapper=mapper, formatter=percent_ticks(t), width=12), "right")
    else:
        dots = p.scatter("lon", "lat", source=src, size=12, line_color="#222", fill_color="fill", marker="shape")
        items = [(style["label"].get(s, s), [p.scatter([math.nan], [math.nan], size=11, fill_color=style["fill"][s],
                                                        line_color="#222", marker=style["shape"][s])])
                 for s in stages]  # legend swatches only: a point at no place
        p.add_layout(Legend(items=items), "right")
    p.add_layout(LabelSet(x="lon", y="lat", text="commune", source=src, text_font_size="7pt", x_offset=5,
                          y_offset=2, text_color="#333"))
    p.add_tools(HoverTool(renderers=[dots], tooltips=[
        (t("table.commune"), "@commune"), (t("table.district"), "@district"), (t("table.year"), "@stage"),
        (t("where.by_chance"), "@chance_text")]))
    p.xaxis.formatter = number_ticks(t, 1)
    p.yaxis.formatter = number_ticks(t, 1)
    return p


def frontier_chart(table: pd.DataFrame, positions: list[tuple[str, float, float]], labels: dict[str, str],
                   t: Catalogue = VI) -> figure:
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
    t
        The reader's catalogue (number format of the ticks).
    """
    d = table.sort_values("budget_mvnd")
    src = ColumnDataSource({"bn": (d["budget_mvnd"] / 1000).tolist(), "p5": d["p5"].tolist(),
                            "p50": d["p50"].tolist(), "p95": d["p95"].tolist(), "p": d["p_target"].fillna(0).tolist()})
    p = figure(height=380, title=labels["title"], x_axis_label=labels["x"], y_axis_label=labels["y"],
               toolbar_location=None, sizing_mode="stretch_width")
    items = [(labels["band"], [p.varea("bn", "p5", "p95", source=src, fill_color=OKABE_ITO[0], fill_alpha=0.2)]),
             (labels["median"], [p.line("bn", "p50", source=src, color=OKABE_ITO[0], line_width=2),
                                 p.scatter("bn", "p50", source=src, color=OKABE_ITO[0], size=7)])]
    # P(target) on its own axis at the right, 0–100%
    p.extra_y_ranges = {"p": Range1d(0, 1.02)}
    p.add_layout(LinearAxis(y_range_name="p", axis_label=labels["p"], formatter=percent_ticks(t)), "right")
    items.append((labels["chance"], [p.line("bn", "p", source=src, y_range_name="p", color=OKABE_ITO[3],
                                            line_dash="dashed", line_width=2)]))
    for i, (name, money, communes) in enumerate(positions):
        items.append((name, [p.scatter([money / 1000], [communes], marker="diamond", size=14,
                                       color=colour(i + 2))]))
    p.xaxis.formatter = number_ticks(t)
    p.yaxis.formatter = number_ticks(t)
    _legend_below(p, items)
    return p


def backtest_chart(table: pd.DataFrame, labels: dict[str, str], settings: str = "default", *,
                   width: int | None = None, t: Catalogue = VI) -> figure:
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
    width, t
        The chart's width (None: stretched) and the reader's catalogue (tick format).

    Counts only (communes); the averages are in the table beside it. A forecast point (nothing
    was set from it) is marked with ``*``.
    """
    d = table[(table["settings"] == settings) & table["count"]]
    names = [f"{w}{'*' if r == 'forecast' else ''} · {labels.get(m, m)}"
             for w, m, r in zip(d["when"], d["measure"], d["role"], strict=True)]
    src = ColumnDataSource({"point": names, "p5": d["p5"].tolist(), "p95": d["p95"].tolist(),
                            "median": d["median"].tolist(), "known": d["known"].tolist()})
    p = figure(height=400, y_range=FactorRange(*reversed(names)), title=labels["title"],
               x_axis_label=labels["y"], toolbar_location=None, **_size(width))
    p.hbar(y="point", left="p5", right="p95", height=0.5, source=src, fill_color=OKABE_ITO[0], fill_alpha=0.3,
           line_color=OKABE_ITO[0], legend_label=labels["band"])
    p.scatter("median", "point", source=src, marker="circle", size=9, color=OKABE_ITO[0],
              legend_label=labels["median"])
    p.scatter("known", "point", source=src, marker="x", size=14, line_width=3, color=OKABE_ITO[3],
              legend_label=labels["known"])
    p.add_tools(HoverTool(tooltips=[("", "@point"), (labels["known"], "@known"), (labels["median"], "@median"),
                                    (labels["band"], "@p5 – @p95")]))
    p.x_range = Range1d(0, max(d["p95"].max(), d["known"].max()) * 1.05 if len(d) else 1)
    p.xaxis.formatter = number_ticks(t)
    p.add_layout(p.legend[0], "below")  # off the data
    p.legend.orientation = "horizontal"
    return p
