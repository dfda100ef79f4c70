"""*Đánh đổi: vốn và số xã đạt chuẩn*: a run's budget curve, from the cache at once or computed as a job."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import panel as pn

from ntm_sim.analysis.compare import ScenarioRun
from ntm_sim.analysis.frontier import Frontier
from ntm_sim.dashboard.new_run import stage_text
from ntm_sim.dashboard.settings import DashboardSettings
from ntm_sim.dashboard.widgets import VI, html_pane, message_html
from ntm_sim.errors import InputError
from ntm_sim.messages import Catalogue
from ntm_sim.present.plots import frontier_chart
from ntm_sim.run.curve_job import CurveRequest, stored_curve_of
from ntm_sim.run.frontier_cache import CACHE_FOLDER, marginal_table, run_position
from ntm_sim.run.jobs import RunJob

LABELS = ("title", "x", "y", "p", "median", "band", "chance", "alt")


def stored_curve(run: ScenarioRun) -> Frontier | None:
    """The run's stored curve at the default levels and seed 0, or None (found by its hashes: no data loaded)."""
    return stored_curve_of(run)


def answer(curve: Frontier, t: Catalogue) -> str:
    """The curve's answer in one sentence: the least money for the target at the confidence level, or none."""
    if curve.target is None:
        return ""
    conf = f"{t.number(100 * curve.confidence)}%"
    if curve.least_budget_mvnd is not None:
        return t("frontier.least", money=t.number(curve.least_budget_mvnd / 1000), target=curve.target, conf=conf)
    top = float(curve.table.sort_values("budget_mvnd")["p_target"].iloc[-1])
    return t("frontier.unreached", target=curve.target, conf=conf, p=f"{t.number(100 * top)}%")


def steps_html(curve: Frontier, t: Catalogue) -> str:
    """Money per extra commune between consecutive levels (``id="frontier-steps"``)."""
    rows = "".join(
        f"<tr><td class='num'>{t.number(s.from_bn)}</td><td class='num'>{t.number(s.to_bn)}</td>"
        f"<td class='num'>{t.number(s.extra_communes, 1)}</td>"
        f"<td class='num'>{'–' if pd.isna(s.bn_per_commune) else t.number(s.bn_per_commune, 1)}</td></tr>"
        for s in marginal_table(curve).itertuples())
    head = "".join(f"<th scope='col'>{t(f'frontier.{k}')}</th>" for k in ("from", "to", "extra", "per"))
    return f'<table class="ntm" id="frontier-steps"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


class FrontierPanel:
    """The budget curve of one shown run's scenario: from the cache at once, or computed in a child process.

    Parameters
    ----------
    settings
        The dashboard's settings (the results root, how a curve job is started, how often it is looked at).
    runs
        The runs shown, by folder (the dashboard's own dict, so added runs are offered too).
    options
        Select options: label shown → folder name.
    t
        The page's catalogue.
    """

    def __init__(self, settings: DashboardSettings, runs: dict[str, ScenarioRun], options: dict[str, str],
                 t: Catalogue = VI) -> None:
        self.settings, self.runs, self.t = settings, runs, t
        self.which = pn.widgets.Select(label=t("frontier.scenario"), options=options,
                                       value=next(iter(options.values()), None), width=360, sizing_mode="fixed")
        self.button = pn.widgets.Button(label=t("frontier.button"), color="primary", width=260,
                                        sizing_mode="fixed")
        self.stop = pn.widgets.Button(label=t("frontier.stop"), color="danger", width=200, sizing_mode="fixed",
                                      visible=False)
        self.status = html_pane("")
        self.curve = pn.Column()
        self.ticked: list[ScenarioRun] = []
        self.current: Frontier | None = None
        self.job: RunJob | None = None
        self._busy = False
        self.button.on_click(self.compute)
        self.stop.on_click(self.cancel)
        self.which.param.watch(self.look, "value")
        self.layout = pn.Column(html_pane(f"<p>{t('frontier.intro')}</p>"),
                                pn.FlexBox(self.which, self.button, self.stop), self.status, self.curve)

    def say(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        """Show a status message (``lead`` is HTML, ``items`` plain text)."""
        self.status.object = message_html(lead, items, css, element_id="frontier-status")

    async def look(self, _event: object = None) -> None:
        """Show the chosen run's curve if it is stored (never computes)."""
        run = self.runs.get(str(self.which.value))
        if run is None or self._busy:
            return
        asked = self.which.value
        try:
            found = await asyncio.to_thread(stored_curve, run)
        except InputError as exc:
            self.say(self.t("frontier.failed", name=html.escape(run.name)), self.t.problems(exc.problems), "miss")
            return
        if self.which.value != asked or self._busy:  # another scenario was chosen meanwhile: its answer stands
            return
        if found is None:
            self.curve.objects = []
            self.say(self.t("frontier.none"), css="notice")
        else:
            self.draw(found)
            self.say(self.t("frontier.cached", folder=f"<code>{CACHE_FOLDER}</code>"), css="met")

    def cancel(self, _event: object = None) -> None:
        """Stop the curve under way (the stop button's callback): nothing is stored."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.say(self.t("frontier.stopping"), css="notice")

    async def compute(self, _event: object = None) -> None:
        """Compute the chosen run's curve in a child process, level by level (the button's callback)."""
        run = self.runs.get(str(self.which.value))
        if run is None or self._busy:  # a second click while one is going
            return
        self._busy, self.button.disabled = True, True
        try:
            job = self.settings.start_curve(CurveRequest(root=str(Path(run.folder).parent), run=str(run.folder)))
            self.job, self.stop.visible = job, True
            await self._follow(job, run)
        finally:
            self.job, self.stop.visible = None, False
            self._busy, self.button.disabled = False, False

    def _progress(self, job: RunJob, run: ScenarioRun) -> None:
        t, p = self.t, job.progress
        if job.stage == "level" and "levels" in p:
            stage = t("frontier.level", level=int(p["level"]), levels=int(p["levels"]))
        else:
            stage = stage_text(job.stage, t)
        self.say(t("frontier.working", name=html.escape(run.name), stage=html.escape(stage),
                   time=t.duration(job.elapsed)), css="notice")

    async def _follow(self, job: RunJob, run: ScenarioRun) -> None:
        t = self.t
        while job.running:
            self._progress(job, run)
            await asyncio.sleep(self.settings.poll_s)
        took = t.duration(job.elapsed)
        if job.state == "cancelled":
            self.say(t("frontier.cancelled", name=html.escape(run.name), time=took), css="warn")
            return
        if job.state == "failed":
            self.say(t("frontier.failed", name=html.escape(run.name)), t.problems(job.problems), "miss")
            return
        curve = await asyncio.to_thread(stored_curve, run)
        if curve is None:  # stored by the job, yet unreadable: say so rather than show nothing
            self.say(t("frontier.failed", name=html.escape(run.name)), [], "miss")
            return
        self.draw(curve)
        self.say(t("frontier.done", time=took), css="met")

    def draw(self, curve: Frontier) -> None:
        """The chart (with the ticked runs marked), its text alternative, the marginal money table and the answer."""
        t = self.t
        self.current = curve
        labels = {k: t(f"frontier.{k}") for k in LABELS}
        marks = [(r.name, pos.budget_mvnd, pos.communes) for r in self.ticked
                 if (pos := run_position(r)) is not None]
        self.curve.objects = [html_pane(f'<p id="frontier-answer">{html.escape(answer(curve, t))}</p>'),
                              pn.pane.Bokeh(frontier_chart(curve.table, marks, labels, t)),
                              html_pane(f"<p>{t('frontier.marks')}</p>{steps_html(curve, t)}")]
