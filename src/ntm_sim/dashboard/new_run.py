"""*Thử một kịch bản vốn mới*: a variant of a scenario file solved and simulated in a child process."""

from __future__ import annotations

import asyncio
import html
import io
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import panel as pn
from bokeh.models import NumeralTickFormatter

from ntm_sim.dashboard.editor import ScenarioEditor
from ntm_sim.dashboard.settings import DashboardSettings
from ntm_sim.dashboard.widgets import VI, html_pane, message_html, number_input
from ntm_sim.errors import InputError, Problem
from ntm_sim.messages import MESSAGES, Catalogue, vietnam_time
from ntm_sim.model.scenario import Scenario, load_scenario
from ntm_sim.run.jobs import RunJob, claim
from ntm_sim.run.run_request import (
    DRAWS,
    MAX_UPLOAD_BYTES,
    NAME_MAX,
    SCALE,
    TIME_LIMIT_S,
    RunRequest,
    check_request,
    job_request,
    scenario_files,
    scenario_titles,
    upload_problems,
    variant,
)
from ntm_sim.run.workflow import UPLOAD_SUFFIXES
from ntm_sim.storage import atomic_file


def input_template() -> io.BytesIO:
    """The blank input workbook, as ``ntm-sim template`` writes it (Lào Cai's communes pre-filled)."""
    from ntm_sim.data.io.excel_write import write_template

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_template(path)
        return io.BytesIO(path.read_bytes())


def refusal_lead(problems: list[Problem], out: Path, label: str, t: Catalogue = VI) -> str:
    """The lead sentence of a failed run: another process runs it, its folder cannot be written, or its data."""
    name = html.escape(label)
    if any(p.found == "a run in progress" for p in problems):
        return t("refuse.running_elsewhere", name=name)
    if any(p.file in (str(out), "--out") for p in problems):
        return t("refuse.write", name=name)
    return t("refuse.data")


def stage_text(stage: str, t: Catalogue) -> str:
    """A job's stage in the page's words (an unknown one as it is)."""
    return t(f"stage.{stage}") if f"stage.{stage}" in MESSAGES else stage


class NewRunPanel:
    """Widgets to solve and simulate a variant of a scenario file into ``results/FOLDER``.

    The run goes to a child process (:class:`ntm_sim.run.jobs.RunJob`): the page stays
    responsive, shows the stage and the time elapsed, and can stop it.

    Parameters
    ----------
    settings
        The dashboard's settings: the results root, the scenario folder, whether saving is
        allowed, how a run is started.
    on_done
        Called with the new folder's name once it is written; may raise
        :class:`~ntm_sim.errors.InputError` if the folder cannot be read back.
    t
        The page's catalogue.
    """

    def __init__(self, settings: DashboardSettings, on_done: Callable[[str], None], t: Catalogue = VI) -> None:
        self.settings, self.on_done, self.t = settings, on_done, t
        self.root, self.scenarios = Path(settings.results), Path(settings.scenarios)
        self.files = scenario_files(self.scenarios)
        first = next(iter(self.files), None)
        self._widgets(first)
        self.job: RunJob | None = None
        self._busy = False
        self._yaml = self._folder = ""
        self.editor = ScenarioEditor(t)
        self.editor.layout.append(pn.FlexBox(self.check, self.save, self.store))
        for widget in (*self.editor.widgets, self.base, self.scale, self.name):
            widget.param.watch(self._edited, "value")
        self.base.param.watch(self._refill, "value")
        if first is not None and pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self._refill)  # the data's communes and sources, once the page is there
        self.layout = self._layout(first)

    def _widgets(self, first: str | None) -> None:
        t = self.t
        self.base = pn.widgets.Select(label=t("run.base"), options=scenario_titles(self.files, t), value=first)
        self.scale = pn.widgets.FloatSlider(label=t("run.scale"), start=SCALE[0], end=SCALE[1], step=0.05,
                                            value=1.0, format=NumeralTickFormatter(format="0%"))
        self.name = pn.widgets.TextInput(label=t("run.name"), placeholder=t("run.name_hint"), max_length=NAME_MAX)
        self.draws = number_input(label=t("run.draws"), value=1000, start=DRAWS[0], end=DRAWS[1], step=100)
        self.limit = number_input(label=t("run.limit"), value=60, start=TIME_LIMIT_S[0],
                                         end=TIME_LIMIT_S[1], step=5)
        # a group of one: its box inside its label (a lone Checkbox's box has no label a screen reader finds)
        self.paper = pn.widgets.CheckBoxGroup(options=[t("run.paper")], value=[])
        self.upload = pn.widgets.FileInput(accept=",".join(UPLOAD_SUFFIXES), multiple=False,
                                           label=t("run.upload"))
        self.button = pn.widgets.Button(label=t("run.button"), color="primary", disabled=first is None)
        self.stop = pn.widgets.Button(label=t("run.stop"), color="danger", visible=False)
        self.status = html_pane("")
        self.button.on_click(self.run)
        self.stop.on_click(self.cancel)
        self.check = pn.widgets.Button(label=t("edit.check"), color="default")
        self.check.on_click(self.check_scenario)
        self.save = pn.widgets.FileDownload(callback=self.scenario_file, filename="kich_ban.yaml",
                                            label=t("edit.save"), color="light", disabled=True)
        # into the scenario folder only when the server was started so (`ntm-sim serve --save-scenarios`)
        self.store = pn.widgets.Button(label=t("edit.store"), color="light", disabled=True,
                                       visible=self.settings.save_scenarios)
        self.store.on_click(self.store_scenario)

    def _layout(self, first: str | None) -> pn.Column:
        t = self.t
        if first is None:
            return pn.Column(html_pane(f"<p>{t('run.no_files', folder=html.escape(str(self.scenarios)))}</p>"))
        data_note = html_pane(f"<p>{t('run.data_note', limit=t.number(MAX_UPLOAD_BYTES / 1e6))}</p>")
        template = pn.widgets.FileDownload(callback=input_template, filename=t("run.template_file"),
                                           label=t("run.template"), color="light", width=300,
                                           sizing_mode="fixed")
        return pn.Column(pn.FlexBox(self.base, self.scale), self.editor.layout, data_note, template, self.upload,
                         pn.FlexBox(self.name, self.draws, self.limit), self.paper,
                         pn.FlexBox(self.button, self.stop), self.status)

    def say(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        """Show a status message (``lead`` is HTML, ``items`` plain text)."""
        self.status.object = message_html(lead, items, css, element_id="run-status")

    def _editor_says(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        self.editor.status.object = message_html(lead, items, css, element_id="edit-status")

    def _refill(self, _event: object = None) -> None:
        """Offer the base scenario's communes and sources in the editor."""
        if str(self.base.value) not in self.files:  # refused with a message when run
            return
        try:
            self.editor.fill(load_scenario(self.files[str(self.base.value)]))
        except InputError as exc:
            self._editor_says(self.t("edit.loading"), self.t.problems(exc.problems), "miss")

    def _edited(self, _event: object = None) -> None:
        """Any change: the scenario must be checked again before it is downloaded or saved."""
        self.save.disabled = self.store.disabled = True

    def _request(self) -> tuple[RunRequest | None, list[str]]:
        return check_request(self.files, base=self.base.value, scale=self.scale.value, name=self.name.value,
                             draws=self.draws.value, time_limit=self.limit.value, deterministic=bool(self.paper.value),
                             t=self.t)

    def edited(self) -> tuple[RunRequest | None, Scenario | None, list[str]]:
        """The request and the edited scenario, checked as the CLI checks a scenario file; or the problems."""
        req, problems = self._request()
        if req is None:
            return None, None, problems
        try:
            return req, self.editor.apply(variant(req), self.t("edit.display")), []
        except InputError as exc:
            return req, None, self.t.problems(exc.problems)

    def check_scenario(self, _event: object = None) -> None:
        """Check the edited scenario; once valid it can be downloaded (the check button's callback)."""
        req, sc, problems = self.edited()
        if sc is None or req is None:
            self._editor_says(self.t("edit.invalid"), problems, "miss")
            self.save.disabled = True
            return
        self._yaml, self._folder = sc.to_yaml(), req.folder
        self.save.filename = f"{req.folder}.yaml"
        self.save.disabled = self.store.disabled = False
        self._editor_says(self.t("edit.valid"), (), "met")

    def scenario_file(self) -> io.BytesIO:
        """The scenario last checked, as YAML (what ``ntm-sim solve`` reads)."""
        return io.BytesIO(self._yaml.encode("utf-8"))

    def store_scenario(self, _event: object = None) -> None:
        """Save the scenario last checked into the scenario folder as a new file, and offer it as a base."""
        if not self.settings.save_scenarios or not self._yaml:
            return
        path = self.scenarios / f"{self._folder}.yaml"
        try:
            with atomic_file(path, option=self.t("edit.store"), mark=False) as tmp:
                tmp.write_text(self._yaml, encoding="utf-8")
        except InputError as exc:  # a file of that name is there already: never overwritten
            self._editor_says(self.t("edit.not_stored"), self.t.problems(exc.problems), "miss")
            return
        self.files[path.stem] = path
        self.base.options = scenario_titles(self.files, self.t)
        self.store.disabled = True
        self._editor_says(self.t("edit.stored", file=f"<code>{html.escape(str(path))}</code>"), (), "met")

    def cancel(self, _event: object = None) -> None:
        """Stop the run under way (the stop button's callback)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.say(self.t("run.stopping"))

    async def run(self, _event: object = None) -> None:
        """Check the request, start it in a child process and follow it (the button's callback)."""
        if self._busy:  # a second click (a double click) while this panel's run is starting or going
            return
        self._busy = True  # before any await: a queued click sees it
        self.button.disabled = True
        try:
            job, req = self._start()
            if job is not None and req is not None:
                self.job = job
                self.stop.visible = True
                await self._follow(job, req)
        finally:
            self.job = None
            self.stop.visible = False
            self._busy = False
            self.button.disabled = False

    def _upload(self) -> tuple[tuple[str, bytes] | None, list[str]]:
        if self.upload.value is None:
            return None, []
        problems = upload_problems(self.upload.filename, self.upload.value, self.t)
        return (None, problems) if problems else ((str(self.upload.filename), self.upload.value), [])

    def _free(self, req: RunRequest) -> bool:
        """Whether the run's folder is free (else a message says why)."""
        t = self.t
        name, folder = html.escape(req.label or req.folder), html.escape(req.folder)
        out = self.root / req.folder
        try:
            exists = out.exists() or out.is_symlink()
        except OSError as exc:
            self.say(t("refuse.unreadable", name=name), [str(exc)], "miss")
            return False
        if exists:
            self.say(t("refuse.exists", name=name, folder=folder), css="miss")
        return not exists

    def _start(self) -> tuple[RunJob | None, RunRequest | None]:
        """Check what the widgets hold and start the run; None (and a message) if refused."""
        t = self.t
        req, problems = self._request()
        if req is None:
            self.say(t("refuse.input"), problems, "miss")
            return None, None
        upload, problems = self._upload()
        if problems:
            self.say(t("refuse.upload"), problems, "miss")
            return None, None
        if not self._free(req):
            return None, None
        try:
            sc = self.editor.apply(variant(req), t("edit.display"))
        except InputError as exc:
            self.say(t("edit.invalid"), t.problems(exc.problems), "miss")
            return None, None
        request = job_request(self.root, req, sc, upload)
        job = claim(str((self.root / req.folder).absolute()), lambda: self.settings.start_run(request))
        if job is None:
            self.say(t("refuse.running_here", name=html.escape(req.label or req.folder)), css="miss")
        return job, req

    def _progress(self, job: RunJob, name: str) -> None:
        t = self.t
        self.status.object = (f'<div id="run-status" role="status" data-stage="{html.escape(job.stage)}"><p>'
                              f"{t('run.progress', name=name, stage=html.escape(stage_text(job.stage, t)))} "
                              f'<span class="elapsed">{t("run.elapsed", time=t.duration(job.elapsed))}</span>'
                              "</p></div>")

    async def _follow(self, job: RunJob, req: RunRequest) -> None:
        """Show the stage and time elapsed until the run ends, then its outcome."""
        t = self.t
        name = html.escape(req.label or req.folder)
        while job.running:
            self._progress(job, name)
            await asyncio.sleep(self.settings.poll_s)
        took = t.duration(job.elapsed)
        if job.state == "cancelled":
            self.say(t("run.cancelled", name=name, time=took), css="warn")
        elif job.state == "failed":
            self.say(refusal_lead(job.problems, self.root / req.folder, req.label or req.folder, t),
                     t.problems(job.problems), "miss")
        else:
            try:
                self.on_done(req.folder)
            except InputError as exc:  # written, but not readable as a run: say both
                self.say(t("run.unreadable", name=name), t.problems(exc.problems), "miss")
            else:
                clock = vietnam_time().strftime("%H:%M")
                self.say(t("run.done", name=name, time=took, clock=clock), css="met")
