"""Where and who: the dashboard's per-district, commune × criterion and map views of one run.

Panel wiring only: the tables come from :mod:`ntm_sim.analysis.where`, the figures from
:mod:`ntm_sim.present.plots`; every text from the catalogue.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.where import commune_map, criteria_matrix, district_progress, district_table
from ntm_sim.messages import Catalogue
from ntm_sim.present.plots import district_chart, map_chart, matrix_chart
from ntm_sim.present.report_html import CSS

NOTE_CSS = ".notice { background: #eef3fb; border: 1px solid #7a9cc6; padding: 4px 10px; }"


def _pane(text: str) -> pn.pane.HTML:
    return pn.pane.HTML(text, stylesheets=[CSS, NOTE_CSS])


def _unit(target: bool, reached: bool, t: Catalogue) -> str:
    if reached:
        return t("where.unit_reached" if target else "where.unit_extra")
    return t("where.unit_missed" if target else "where.unit_none")


def district_html(run: ScenarioRun, table: pd.DataFrame, t: Catalogue) -> str:
    """The per-district table in the page's language and number format (``id="district-table"``)."""
    years = [int(y) for y in run.summary["years"]]
    heads = [t("where.district"), t("where.communes"), t("where.ntm_start"),
             *[t("where.ntm_year", year=y) for y in years], t("where.not_reached"), t("where.money"),
             t("where.chance", year=run.horizon), t("where.unit")]
    rows = []
    for r in table.itertuples(index=False):
        chance = "–" if pd.isna(r.mean_chance) else t.number(100 * r.mean_chance)
        cells = [r.district, t.number(r.communes), t.number(r.ntm_start),
                 *[t.number(getattr(r, f"ntm_{y}")) for y in years], t.number(r.not_reached),
                 t.number(r.plan_bn_vnd, 1), chance, _unit(r.unit_target, r.unit_reached, t)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f'<table id="district-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def district_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """Per district: communes NTM by year, money, mean chance, district unit; a note when there is no simulation."""
    table = district_table(run)
    parts: list[object] = [_pane(district_html(run, table, t))]
    if table["mean_chance"].isna().all():
        parts.append(_pane(f'<p class="notice" id="district-no-sim">{t("where.no_sim", name=html.escape(run.name))}'
                           "</p>"))
    parts.append(pn.pane.Bokeh(district_chart(district_progress(run), t)))
    return pn.Column(*parts)


def matrix_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """The commune × criterion matrix, one district or all, grouped by district."""
    matrix = criteria_matrix(run)
    every = t("table.all_districts")
    district = pn.widgets.Select(name=t("where.matrix_district"), options=[every, *matrix["district"].unique()],
                                 value=every, width=260, sizing_mode="fixed")

    def chart(choice: str) -> pn.viewable.Viewable:
        shown = matrix if choice == every else matrix[matrix["district"] == choice]
        fig = matrix_chart(shown, t)
        fig.css_classes = ["criteria-matrix"]  # found by the browser tests
        return pn.pane.Bokeh(fig)

    return pn.Column(district, pn.bind(chart, district))


def map_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """Communes at their official coordinates, by year NTM or by chance; those without coordinates listed."""
    points = commune_map(run)
    simulated = points["chance"].notna().any()
    options = {t("where.by_year"): "stage", **({t("where.by_chance"): "chance"} if simulated else {})}
    colour = pn.widgets.RadioButtonGroup(name=t("where.colour_by"), options=options, value="stage",
                                         width=360, sizing_mode="fixed")
    first = int(run.summary["years"][0])

    def chart(by: str) -> pn.viewable.Viewable:
        fig = map_chart(points, t, first, run.horizon, by)
        fig.css_classes = ["commune-map"]  # found by the browser tests
        return pn.pane.Bokeh(fig)

    lost = points[~points["found"]]
    parts: list[object] = [pn.pane.Markdown(f"**{t('where.colour_by')}:**"), colour, pn.bind(chart, colour)]
    if len(lost):
        names = "; ".join(f"{n} ({d}, {c})" for n, d, c in zip(lost["commune_name"], lost["district"],
                                                                 lost["commune_code"], strict=True))
        parts.append(_pane(f'<p class="notice" id="map-missing">{html.escape(t("where.no_coords", names=names))}</p>'))
    if not simulated:
        parts.append(_pane(f'<p class="notice">{t("where.no_sim", name=html.escape(run.name))}</p>'))
    return pn.Column(*parts)
