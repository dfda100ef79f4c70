"""The ntm-sim dashboard: scenarios side by side, for the provincial steering committee.

Thin by design: layout and widgets over the library (:mod:`ntm_sim.analysis.compare` reads
the results folders, :mod:`ntm_sim.run.run_request` checks a new run, :mod:`ntm_sim.present.report_html`
and :mod:`ntm_sim.present.verdict` write the tables). :func:`create_app` builds the page from its
:class:`~ntm_sim.dashboard.settings.DashboardSettings`; ``ntm-sim serve`` serves it
(:mod:`ntm_sim.serve.serving`). Every script and style comes from the Panel server itself: nothing
is loaded from the internet (provincial offices often work offline).

Runs are keyed by their folder (unique under the results root), shown by their scenario's
title in the page's language (with the folder beside it when two runs share one), in the
order of the scenario folder (``order.txt``).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

import panel as pn
from bokeh.models import CustomJS

from ntm_sim.analysis.compare import ScenarioRun, in_scenario_order, labelled
from ntm_sim.analysis.frontier import Frontier
from ntm_sim.dashboard import views, where
from ntm_sim.dashboard.communes import CommuneTable
from ntm_sim.dashboard.curve import FrontierPanel, stored_curve
from ntm_sim.dashboard.new_run import NewRunPanel
from ntm_sim.dashboard.settings import DashboardSettings
from ntm_sim.dashboard.widgets import VI, empty, guarded, html_pane, log, message_html
from ntm_sim.errors import InputError, Problem
from ntm_sim.messages import LANGS, Catalogue
from ntm_sim.model.scenario_folder import folder_order
from ntm_sim.present.report_page import build_report
from ntm_sim.run.runs import RunCache, scan_runs

#: the server's runs, read once for all its pages and read again when their files change
RUNS = RunCache()
MAX_TICKED = 8  # more columns than this do not fit a screen; the others are one tick away, and said so
SECTIONS = ("indicators", "progress", "baselines", "risk", "backtest", "frontier", "communes", "provenance",
            "new_run")
#: run once the page is drawn: the page's own language (for readers and spelling), the page's content as its main
#: landmark (Panel draws it in a bare DIV: a reader had no "main" to jump to), and a name for each slider's
#: handle, its slider's title (Bokeh's noUiSlider draws the handle, role="slider", with none: axe-core's
#: aria-input-field-name), and its value as the slider shows it. A slider's view keeps its handle for its life;
#: the page's sliders are drawn at once.
#: Bokeh's tab headers are DIVs with a tab stop and a click handler only: they get the roles of a tab list
#: (tablist, tab, aria-selected kept with the active tab) and Enter or Space opens the focused one. A card's
#: header button (the scenario editor's) says whether the card is open (aria-expanded).
PAGE_READY = """
document.documentElement.lang = lang;
for (const root of document.querySelectorAll('[data-root-id]')) {
  const box = getComputedStyle(root).display === 'contents' ? root.firstElementChild : root;
  if (box && !document.querySelector('[role="main"]')) box.setAttribute('role', 'main');
}
for (const view of Bokeh.index.query((v) => v.slider_el != null)) {
  for (const handle of view.slider_el.querySelectorAll('.noUi-handle')) {
    handle.setAttribute('aria-label', view.model.title);
    // read as the slider shows it ("80%"), not noUiSlider's raw "0.80": after its own aria update
    const say = (value) => handle.setAttribute('aria-valuetext', view.pretty(Number(value)));
    say(view.model.value);
    if (view._noUiSlider) view._noUiSlider.on('update.ntm', (_v, _h, raw) => say(raw[0]));
  }
}
for (const view of Bokeh.index.query((v) => v.header_els != null && v.headers_wrapper_el != null)) {
  const mark = () => {
    view.headers_wrapper_el.setAttribute('role', 'tablist');
    view.header_els.forEach((el, i) => {
      el.setAttribute('role', 'tab');
      el.setAttribute('aria-selected', String(i === view.model.active));
      if (!el.dataset.keys) {
        el.dataset.keys = '1';
        el.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            view.change_active(i);
          }
        });
      }
    });
  };
  mark();
  view.model.properties.active.change.connect(mark);
  view.model.properties.tabs.change.connect(() => setTimeout(mark, 0));
}
for (const view of Bokeh.index.query((v) => v.button_el != null && v.model.collapsed != null)) {
  const state = () => view.button_el.setAttribute('aria-expanded', String(!view.model.collapsed));
  state();
  view.model.properties.collapsed.change.connect(state);
}
"""


def session_lang() -> Catalogue:
    """The page's language: ``?lang=en`` in its address, else Vietnamese."""
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    values = args.get("lang") or [b"vi"]
    return Catalogue.of(values[0].decode("ascii", "replace") if isinstance(values[0], bytes) else values[0])


def skipped_folder(problem: Problem, root: Path) -> str:
    """The folder under ``root`` a problem is about (its name), else the problem's file."""
    try:
        return Path(problem.file).relative_to(root).parts[0]
    except (ValueError, IndexError):
        return problem.file


class Dashboard:
    """The dashboard over the results folders of ``settings.results``: its widgets, views and layout.

    Parameters
    ----------
    settings
        The folders, rights and job starters (:class:`~ntm_sim.dashboard.settings.DashboardSettings`).
    t
        The page's catalogue (its language).
    """

    def __init__(self, settings: DashboardSettings, t: Catalogue = VI) -> None:
        self.settings, self.t = settings, t
        self.root = Path(settings.results)
        runs, problems = scan_runs(self.root, cache=RUNS)
        self.order = folder_order(Path(settings.scenarios)) if Path(settings.scenarios).is_dir() else []
        self.runs: dict[str, ScenarioRun] = {r.name: r for r in in_scenario_order(runs, self.order or None)}
        self.shown: dict[str, ScenarioRun] = {}  # the same runs, named for reading
        self._curves: dict[str, Frontier | None] = {}
        self._relabel()
        keys = list(self.runs)
        self.choose = pn.widgets.CheckBoxGroup(label=t("choose.label"), options=self._options(),
                                               value=keys[:MAX_TICKED], inline=True,
                                               stylesheets=[":host .bk-input-group { flex-wrap: wrap; }"])
        self.which = pn.widgets.Select(label=t("which.label"), options=self._options(),
                                       value=keys[0] if keys else None)
        self.frontier = FrontierPanel(settings, self.shown, self._options(), t)
        self.frontier.ticked = self.chosen(self.choose.value)
        self.choose.param.watch(self._ticked, "value")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self.frontier.look)  # a stored curve shows once the page is there
        self.skipped = html_pane(self._skipped_html(problems), visible=bool(problems))
        self.new_run = NewRunPanel(settings, self.added, t)
        self.download = pn.widgets.FileDownload(callback=self.report_file, filename=t("download.report_file"),
                                                label=t("download.report"), color="success")
        self.lang = pn.widgets.RadioButtonGroup(label=t("page.lang"), options={v: k for k, v in LANGS.items()},
                                                value=t.lang, width=220, sizing_mode="fixed")
        self.lang.param.watch(self._switch_language, "value")
        header = pn.FlexBox(pn.pane.HTML(f"<h1>{html.escape(t('page.heading'))}</h1>"), self.lang)
        self.layout = pn.Column(header, self.skipped, *self._sections())

    def _sections(self) -> list[object]:
        t, c = self.t, self.choose
        heading = {key: pn.pane.Markdown(f"## {t('section.' + key)}", name=key) for key in SECTIONS}

        def bound(view: Callable[[list[ScenarioRun]], pn.viewable.Viewable]) -> object:
            return pn.bind(guarded(lambda value: view(self.chosen(value)), t), c)

        return [
            pn.pane.Markdown(f"## {t('section.verdict')}"), bound(self.verdict),
            c, pn.bind(self.ticked_note, c), pn.bind(guarded(self.banner, t), c), self.download,
            heading["indicators"], bound(lambda runs: views.indicators(runs, t)),
            heading["progress"], bound(lambda runs: views.progress(runs, t)),
            heading["baselines"], bound(lambda runs: views.baselines(runs, t)),
            heading["risk"], bound(lambda runs: views.risk(runs, t)),
            heading["backtest"], bound(lambda runs: views.backtest(runs, t)),
            heading["frontier"], self.frontier.layout,
            heading["communes"], self.which, self._where_tabs(),
            heading["provenance"], bound(lambda runs: views.provenance(runs, str(self.root), t)),
            heading["new_run"], self.new_run.layout,
        ]

    def _where_tabs(self) -> pn.Tabs:
        """One run's communes and districts in tabs: the table first, the others drawn when opened.

        The matrix and the map are thousands of glyphs: every page load would pay for them otherwise.
        """
        t, w = self.t, self.which

        def lazy(view: Callable[[ScenarioRun, Catalogue], pn.viewable.Viewable]) -> pn.param.ParamFunction:
            return pn.param.ParamFunction(pn.bind(guarded(self.where, t), w, view), lazy=True)

        return pn.Tabs((t("tab.table"), pn.bind(guarded(self.communes, t), w)),
                       (t("section.districts"), lazy(where.district_view)),
                       (t("section.matrix"), lazy(where.matrix_view)), (t("section.map"), lazy(where.map_view)),
                       dynamic=True, sizing_mode="stretch_width", css_classes=["where-tabs"])

    def _ticked(self, _event: object = None) -> None:
        """Mark the ticked runs on the budget curve."""
        self.frontier.ticked = self.chosen(self.choose.value)
        if self.frontier.current is not None:
            self.frontier.draw(self.frontier.current)

    def _switch_language(self, event: object) -> None:
        """Open the page again in the language chosen (``?lang=…``)."""
        lang = Catalogue.of(getattr(event, "new", "vi")).lang
        if pn.state.location is not None:
            pn.state.location.reload = True
            pn.state.location.search = f"?lang={lang}"

    # ----- runs --------------------------------------------------------------------------------------

    def _relabel(self) -> None:
        keys = list(self.runs)
        self.shown = dict(zip(keys, labelled([self.runs[k] for k in keys], self.t.lang), strict=True))

    def _options(self) -> dict[str, str]:
        """Checkbox and select options: label shown → folder name."""
        return {run.name: key for key, run in self.shown.items()}

    def _skipped_html(self, problems: list[Problem]) -> str:
        if not problems:
            return ""
        folders = list(dict.fromkeys(skipped_folder(p, self.root) for p in problems))
        lead = self.t("skipped.lead", folders=html.escape(", ".join(folders)))
        return message_html(lead, self.t.problems(problems), "warn", element_id="skipped-runs")

    def added(self, key: str) -> None:
        """Read back a run just written as ``root/key`` and tick it (raises InputError if unreadable)."""
        self.runs[key] = RUNS.load(self.root / key)
        self.runs = {r.name: r for r in in_scenario_order(list(self.runs.values()), self.order or None)}
        self._relabel()
        options = self._options()
        value = [*[v for v in self.choose.value if v != key], key]
        # one update each, so that every view is redrawn once
        self.choose.param.update(options=options, value=[k for k in self.runs if k in value])
        self.which.param.update(options=options, value=self.which.value or key)
        self.frontier.runs = self.shown
        self.frontier.which.options = options

    def chosen(self, value: list[str]) -> list[ScenarioRun]:
        """The ticked runs, in the order of the list, named for reading."""
        return [run for key, run in self.shown.items() if key in value]

    def curves(self, runs: list[ScenarioRun]) -> dict[str, Frontier | None]:
        """Each run's stored budget curve (None where none is stored or its data cannot be read)."""
        for run in runs:
            if run.name not in self._curves or self._curves[run.name] is None:
                try:
                    self._curves[run.name] = stored_curve(run)
                except InputError:
                    self._curves[run.name] = None
                except Exception:  # a curve is an extra: the verdict stands without it
                    log.exception("stored curve of %s", run.name)
                    self._curves[run.name] = None
        return {r.name: self._curves.get(r.name) for r in runs}

    def report_file(self) -> io.BytesIO:
        """The committee's report of the ticked runs, in the page's language."""
        runs = self.chosen(self.choose.value)
        if not runs:
            raise ValueError(self.t("report.none"))
        return io.BytesIO(build_report(runs, t=self.t, curves=self.curves(runs)).encode("utf-8"))

    # ----- views -------------------------------------------------------------------------------------

    def verdict(self, runs: list[ScenarioRun]) -> pn.viewable.Viewable:
        """The verdict box of each ticked run (with its budget curve's answer where one is stored)."""
        return views.verdict(runs, self.curves(runs), self.t)

    def ticked_note(self, value: list[str]) -> pn.viewable.Viewable:
        """How many runs are not ticked, when some are not (never a silent drop)."""
        total, ticked = len(self.runs), len([k for k in value if k in self.runs])
        if ticked >= total:
            return html_pane("")
        note = self.t("ticked.note", ticked=ticked, total=total, left=total - ticked)
        return html_pane(f'<p class="notice" id="ticked-note">{note}</p>')

    def banner(self, value: list[str]) -> pn.viewable.Viewable:
        """The demo-data label, when a ticked run is on demo data."""
        demo = next((r for r in self.chosen(value) if r.demo), None)
        if demo is None:
            return html_pane("")
        label = self.t("page.demo") if self.t.lang == "en" else str(demo.contract.demo_label)
        return html_pane(f'<div class="demo" id="demo-banner">{html.escape(label)}</div>')

    def communes(self, key: str | None) -> pn.viewable.Viewable:
        """Each commune's priority and reason, for one run: a table to sort, filter, search and download."""
        if key is None or key not in self.shown:
            return empty(self.t)
        return CommuneTable(self.shown[key], self.t).layout

    def where(self, key: str | None, view: Callable[[ScenarioRun, Catalogue], pn.viewable.Viewable]
              ) -> pn.viewable.Viewable:
        """One of the where-and-who views (:mod:`where`) of the run chosen for the commune table."""
        if key is None or key not in self.shown:
            return empty(self.t)
        return view(self.shown[key], self.t)


def create_app(settings: DashboardSettings, t: Catalogue | None = None) -> pn.viewable.Viewable:
    """The dashboard over ``settings.results`` in the page's language (see :class:`Dashboard`)."""
    t = t or session_lang()
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.js_on_event("document_ready", CustomJS(args={"lang": t.lang}, code=PAGE_READY))
    return Dashboard(settings, t).layout
