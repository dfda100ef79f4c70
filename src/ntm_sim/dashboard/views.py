"""The dashboard's sections over the ticked runs: each a function of the runs and the page's language.

The tables and sentences are the committee report's own (:mod:`ntm_sim.present.report_html`,
:mod:`ntm_sim.present.verdict`), the charts :mod:`ntm_sim.present.plots`'; each chart comes with the sentence
that says what it shows.
"""

from __future__ import annotations

import html

import panel as pn

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.frontier import Frontier
from ntm_sim.dashboard.widgets import chart_pane, empty, html_pane, message_html
from ntm_sim.messages import Catalogue
from ntm_sim.model.plan import RECOMMENDED
from ntm_sim.present.plots import ntm_chart, threshold_chart
from ntm_sim.present.report_html import (
    backtest_section,
    baselines_html,
    indicators_html,
    progress_alt,
    provenance_html,
    risk_alt,
    risk_html,
)
from ntm_sim.present.verdict import verdict_html


def verdict(runs: list[ScenarioRun], curves: dict[str, Frontier | None], t: Catalogue) -> pn.viewable.Viewable:
    """The verdict box of each ticked run, first on the page."""
    return html_pane(verdict_html(runs, t, curves)) if runs else empty(t)


def indicators(runs: list[ScenarioRun], t: Catalogue) -> pn.viewable.Viewable:
    """Headline indicators against each scenario's own targets, with the difference from its reference."""
    return html_pane(indicators_html(runs, t)) if runs else empty(t)


def progress(runs: list[ScenarioRun], t: Catalogue) -> pn.viewable.Viewable:
    """Communes reaching the standard year by year: the simulated median and band, the plan on paper dashed."""
    if not runs:
        return empty(t)
    return chart_pane(ntm_chart(runs, t), progress_alt(runs, t), "progress-alt")


def baselines(runs: list[ScenarioRun], t: Catalogue) -> pn.viewable.Viewable:
    """The recommended plan against the usual rules."""
    return html_pane(baselines_html(runs, t)) if runs else empty(t)


def risk(runs: list[ScenarioRun], t: Catalogue) -> pn.viewable.Viewable:
    """The Monte Carlo spread, and which ticked runs have none."""
    if not runs:
        return empty(t)
    bare = [r.name for r in runs if RECOMMENDED not in (r.simulation or {}).get("plans", {})]
    parts: list[object] = [html_pane(risk_html(runs, t))]
    if bare:
        # a run solved with 0 draws has no row: say so rather than leave the reader to notice
        parts.append(html_pane(message_html(t("risk.missing", names=html.escape("; ".join(bare))), (),
                                            "notice", element_id="risk-missing")))
    if len(bare) < len(runs):
        simulated = [r for r in runs if r.name not in bare]
        parts.append(chart_pane(threshold_chart(simulated, t), risk_alt(simulated, t), "risk-alt"))
    return pn.Column(*parts)


def backtest(runs: list[ScenarioRun], t: Catalogue) -> pn.viewable.Viewable:
    """The simulation of 2021–2024 against the public record, when a ticked run is on the bundled data."""
    section = backtest_section([r.contract.dataset for r in runs], t, None)
    if section is None:
        return html_pane(f"<p>{html.escape(t('backtest.none'))}</p>")
    text, chart = section
    before, after = text.split('<div class="chart">{chart}</div>')
    return pn.Column(html_pane(before.replace("{{", "{").replace("}}", "}")), pn.pane.Bokeh(chart),
                     html_pane(after.replace("{{", "{").replace("}}", "}")))


def provenance(runs: list[ScenarioRun], root: str, t: Catalogue) -> pn.viewable.Viewable:
    """Where every figure comes from: the results folder, hashes, solver status, seed (technical details here only)."""
    if not runs:
        return empty(t)
    where = html.escape(t("page.root", root=root)).replace(html.escape(root), f"<code>{html.escape(root)}</code>")
    return html_pane(f"<p>{where}</p>{provenance_html(runs, t)}")
