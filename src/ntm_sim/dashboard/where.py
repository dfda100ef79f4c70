"""Where and who: the dashboard's per-district, commune × criterion and map views of one run.

Panel wiring only: the tables come from :mod:`ntm_sim.analysis.where`, the figures from
:mod:`ntm_sim.present.plots`; every text from the catalogue. Each chart has a text beside it that says
what it shows (for a screen reader, and for anyone who cannot tell its colours apart).
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.where import commune_map, criteria_matrix, district_progress, district_table
from ntm_sim.dashboard.widgets import chart_pane, html_pane
from ntm_sim.messages import Catalogue
from ntm_sim.present.plots import district_chart, map_chart, matrix_chart, province_outline


def _unit(target: bool, reached: bool, t: Catalogue) -> str:
    if reached:
        return t("where.unit_reached" if target else "where.unit_extra")
    return t("where.unit_missed" if target else "where.unit_none")


def _row(cells: list[str], head: bool = False) -> str:
    first, rest = cells[0], cells[1:]
    lead = f'<th scope="row">{html.escape(first)}</th>' if head else f"<td>{html.escape(first)}</td>"
    return "<tr>" + lead + "".join(f'<td class="num">{html.escape(c)}</td>' for c in rest) + "</tr>"


def district_html(run: ScenarioRun, table: pd.DataFrame, t: Catalogue) -> str:
    """The per-district table and its province total, in the page's language and number format.

    ``id="district-table"``; the total row (``tfoot``) adds the communes and the money and
    averages the chance over every commune.
    """
    years = run.contract.years
    heads = [t("where.district"), t("where.communes"), t("where.ntm_start"),
             *[t("where.ntm_year", year=y) for y in years], t("where.not_reached"), t("where.money"),
             t("where.chance", year=run.horizon), t("where.unit")]
    rows = []
    for r in table.itertuples(index=False):
        chance = "–" if pd.isna(r.mean_chance) else t.number(100 * r.mean_chance)
        rows.append(_row([r.district, t.number(r.communes), t.number(r.ntm_start),
                          *[t.number(getattr(r, f"ntm_{y}")) for y in years], t.number(r.not_reached),
                          t.number(r.plan_bn_vnd, 1), chance, _unit(r.unit_target, r.unit_reached, t)], head=True))
    weights = table["communes"].astype(float)
    known = table["mean_chance"].notna()
    mean = (table["mean_chance"][known] * weights[known]).sum() / weights[known].sum() if known.any() else None
    total = _row([t("where.total"), t.number(table["communes"].sum()), t.number(table["ntm_start"].sum()),
                  *[t.number(table[f"ntm_{y}"].sum()) for y in years], t.number(table["not_reached"].sum()),
                  t.number(table["plan_bn_vnd"].sum(), 1), "–" if mean is None else t.number(100 * mean), ""],
                 head=True)
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in heads)
    return (f'<table class="ntm" id="district-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f'<tfoot class="total">{total}</tfoot></table>')


def district_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """Per district: communes NTM by year, money, mean chance, district unit; a note when there is no simulation."""
    table = district_table(run)
    if table.empty:  # a province without districts: its communes are in the other tabs
        note = html.escape(t("where.no_districts", name=run.name))
        return html_pane(f'<p class="notice" id="district-none">{note}</p>')
    parts: list[object] = [html_pane(district_html(run, table, t))]
    if table["mean_chance"].isna().all():
        parts.append(html_pane(f'<p class="notice" id="district-no-sim">'
                               f'{t("where.no_sim", name=html.escape(run.name))}</p>'))
    horizon = f"ntm_{run.horizon}"
    best = table.sort_values(horizon, ascending=False).head(3)
    alt = t("where.chart_alt", districts=", ".join(f"{d} ({t.number(n)})" for d, n in zip(
        best["district"], best[horizon], strict=True)), year=run.horizon)
    parts.append(chart_pane(district_chart(district_progress(run), t), alt, "district-chart-alt"))
    return pn.Column(*parts)


def matrix_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """The commune × criterion matrix, one district or all, grouped by district."""
    matrix = criteria_matrix(run)
    every = t("table.all_districts")
    districts = [d for d in matrix["district"].unique() if d]
    district = pn.widgets.Select(label=t("where.matrix_district"), options=[every, *districts],
                                 value=every, width=260, sizing_mode="fixed", visible=bool(districts))

    def chart(choice: str) -> pn.viewable.Viewable:
        shown = matrix if choice == every else matrix[matrix["district"] == choice]
        fig = matrix_chart(shown, t)
        fig.css_classes = ["criteria-matrix"]  # found by the browser tests
        counts = shown["status"].value_counts()
        alt = t("where.matrix_alt", communes=t.number(shown["commune_code"].nunique()),
                met=t.number(int(counts.get("met", 0))), funded=t.number(int(counts.get("funded", 0))),
                missing=t.number(int(counts.get("not_funded", 0))))
        return chart_pane(fig, alt, "matrix-alt")

    return pn.Column(district, pn.bind(chart, district))


def map_view(run: ScenarioRun, t: Catalogue) -> pn.viewable.Viewable:
    """Communes at their official coordinates, labelled, inside the province's outline; by year NTM or by chance."""
    points = commune_map(run)
    simulated = points["chance"].notna().any()
    options = {t("where.by_year"): "stage", **({t("where.by_chance"): "chance"} if simulated else {})}
    colour = pn.widgets.RadioButtonGroup(label=t("where.colour_by"), options=options, value="stage",
                                         width=360, sizing_mode="fixed")
    first = run.contract.years[0]
    outline = province_outline(points)

    def chart(by: str) -> pn.viewable.Viewable:
        fig = map_chart(points, t, first, run.horizon, by, outline=outline)
        fig.css_classes = ["commune-map"]  # found by the browser tests
        stages = points.loc[points["found"], "stage"]
        alt = t("where.map_alt", shown=t.number(int(points["found"].sum())),
                start=t.number(int((stages == "start").sum())), never=t.number(int((stages == "never").sum())),
                year=run.horizon)
        return chart_pane(fig, alt, "map-alt")

    lost = points[~points["found"]]
    parts: list[object] = [html_pane(f"<p><strong>{html.escape(t('where.colour_by'))}:</strong></p>"), colour,
                           pn.bind(chart, colour), html_pane(f'<p class="legend">{t("where.outline_source")}</p>')]
    if len(lost):
        names = "; ".join(f"{n} ({d}, {c})" for n, d, c in zip(lost["commune_name"], lost["district"],
                                                                 lost["commune_code"], strict=True))
        parts.append(html_pane(f'<p class="notice" id="map-missing">'
                               f'{html.escape(t("where.no_coords", names=names))}</p>'))
    if not simulated:
        parts.append(html_pane(f'<p class="notice">{t("where.no_sim", name=html.escape(run.name))}</p>'))
    return pn.Column(*parts)
