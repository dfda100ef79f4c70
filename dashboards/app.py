"""The ntm-sim dashboard: scenarios side by side, for the provincial steering committee.

Thin by design: layout and widgets over :mod:`ntm_sim.analysis.compare`, which reads the
results folders that ``ntm-sim solve`` and ``ntm-sim simulate`` wrote. Serve it with::

    ntm-sim serve --results results      # this machine only; see ntm_sim.serve.serving

Every script and style comes from the Panel server itself: nothing is loaded from the
internet (provincial offices often work offline).

Runs are keyed by their folder (unique under the results root) and shown by their
scenario's title, with the folder beside it when two runs share one. Everything a
planner sends (numbers, names, files) is checked here, on the server, before any work:
the bounds of a widget hold only in an honest browser.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import html
import io
import logging
import math
import numbers
import os
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import panel as pn
import yaml
from bokeh.models import CustomJS, NumeralTickFormatter

from ntm_sim.analysis.compare import ScenarioRun, commune_probability, labelled, plannable
from ntm_sim.analysis.frontier import DEFAULT_SCALES, Frontier
from ntm_sim.data.criteria import load_criteria_set
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.io.cells import neutralise_frame
from ntm_sim.errors import InputError, Problem
from ntm_sim.messages import LANGS, MESSAGES, Catalogue, folder_name, vietnam_time
from ntm_sim.model.scenario import Scenario, load_scenario, resolve_data_path
from ntm_sim.present.plots import frontier_chart, ntm_chart, threshold_chart
from ntm_sim.present.report_html import (
    CSS,
    backtest_section,
    baselines_html,
    build_report,
    indicators_html,
    provenance_html,
    risk_html,
)
from ntm_sim.run.frontier_cache import (
    CACHE_FOLDER,
    cached_frontier,
    frontier_cached,
    marginal_table,
    run_inputs,
    run_position,
)
from ntm_sim.run.jobs import JobRequest, RunJob, claim
from ntm_sim.run.runs import load_run, scan_runs
from ntm_sim.run.workflow import UPLOAD_SUFFIXES, scenario_dataset
from ntm_sim.storage import atomic_file
from ntm_sim.text import fold

# served as a script (``panel serve``), and loaded by file in tests: its sibling modules by their folder
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import where  # noqa: E402


def session_lang() -> Catalogue:
    """The page's language: ``?lang=en`` in its address, else Vietnamese."""
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    values = args.get("lang") or [b"vi"]
    return Catalogue.of(values[0].decode("ascii", "replace") if isinstance(values[0], bytes) else values[0])


VI = Catalogue("vi")
# a session whose websocket closes (e.g. a message above the server's limit) says so instead of freezing
pn.extension("tabulator", design="native", sizing_mode="stretch_width", notifications=True,
             disconnect_notification=session_lang()("page.disconnect"))

log = logging.getLogger(__name__)

STATUS_CSS = """
div.miss { color: #a50e0e; }
div.met { color: #137333; }
div.warn { background: #fff3cd; border: 1px solid #d39e00; padding: 4px 10px; }
.notice { background: #eef3fb; border: 1px solid #7a9cc6; padding: 4px 10px; }
"""

# Uploads travel to the server base64-encoded inside one websocket message, and Bokeh's
# server closes a session whose message exceeds its limit (20 MiB by default,
# ``panel serve --websocket-max-message-size``): 10 MB becomes about 13.3 MB on the way.
MAX_UPLOAD_BYTES = 10_000_000
MAX_TICKED = 8  # more columns than this do not fit a screen; the others are one tick away, and said so
DRAWS = (0, 100_000)
TIME_LIMIT_S = (5, 3600)
SCALE = (0.3, 1.5)
NAME_MAX = 64

# how a run is started (tests put a stand-in here)
start_job: Callable[[JobRequest], RunJob] = RunJob.start
POLL_S = 0.5

def html_pane(text: str) -> pn.pane.HTML:
    """An HTML pane with the tables' styles (each pane has its own shadow root)."""
    return pn.pane.HTML(text, stylesheets=[CSS, STATUS_CSS])


def results_root() -> Path:
    """Folder of results folders: ``NTM_SIM_RESULTS`` or ``results``."""
    return Path(os.environ.get("NTM_SIM_RESULTS", "results"))


def saving_allowed() -> bool:
    """Whether edited scenarios may be saved into the scenario folder (``NTM_SIM_SAVE_SCENARIOS=1``)."""
    return os.environ.get("NTM_SIM_SAVE_SCENARIOS") == "1"


def scenarios_root() -> Path:
    """Folder of scenario files offered as a base: ``NTM_SIM_SCENARIOS`` or ``scenarios``."""
    return Path(os.environ.get("NTM_SIM_SCENARIOS", "scenarios"))


def message_html(lead: str, items: Iterable[str] = (), css: str = "", element_id: str = "") -> str:
    """A message: a lead sentence (HTML) and a list of plain-text items, each escaped.

    Parameters
    ----------
    lead
        The lead sentence, already HTML (its variable parts escaped by the caller).
    items
        Plain text (file names, problems from the library): escaped here.
    css, element_id
        Class and id of the enclosing ``div`` (the browser tests find messages by id).
    """
    items = list(items)
    body = f"<p>{lead}</p>"
    if items:
        body += "<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>"
    ident = f' id="{html.escape(element_id)}"' if element_id else ""
    return f'<div{ident} class="{html.escape(css)}">{body}</div>'


def _shown(value: object, t: Catalogue = VI) -> str:
    """A value a client sent, for a message: in the page's number format, never long."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return t.number(float(value), 0 if float(value).is_integer() else 2)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _in_range(value: object, low: float, high: float, *, whole: bool = False) -> bool:
    """Whether ``value`` is a finite real number in ``[low, high]`` (and whole, if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    x = float(value)
    eps = 1e-9 * max(1.0, abs(high))  # a slider's steps of 0.05 land a hair beyond 1.5
    return math.isfinite(x) and low - eps <= x <= high + eps and (not whole or x.is_integer())


def name_problems(label: str, t: Catalogue = VI) -> list[str]:
    """Why ``label`` cannot name a result, or nothing.

    Any text of at most 64 characters, Vietnamese letters with their diacritics included,
    with at least one letter or digit and no control characters; its folder's name is
    derived from it (:func:`ntm_sim.messages.folder_name`).
    """
    if not label:
        return [t("name.empty")]
    out = []
    if len(label) > NAME_MAX:
        out.append(t("name.long", n=t.number(len(label)), max=NAME_MAX))
    control = list(dict.fromkeys(c for c in label if not c.isprintable()))
    if control:
        out.append(t("name.control", shown=" ".join(f"U+{ord(c):04X}" for c in control[:10])))
    if not folder_name(label):
        out.append(t("name.no_letters"))
    return out


class RunRequest(NamedTuple):  # not a dataclass: the served module is not importable by name
    """A new run as the planner asked for it, checked (see :func:`check_request`).

    ``label`` is the name the planner typed (the run's title; empty: the base's title and
    its share of money), ``folder`` the results folder's name derived from it.
    """

    label: str
    folder: str
    base: Path
    scale: float
    draws: int
    time_limit: float
    deterministic: bool


def _value_problems(files: dict[str, Path], t: Catalogue, *, base: object, scale: object, draws: object,
                    time_limit: object) -> list[str]:
    problems = []
    if not isinstance(base, str) or base not in files:
        problems.append(t("check.base", value=_shown(base, t)))
    if not _in_range(scale, *SCALE):
        problems.append(t("check.scale", low=round(SCALE[0] * 100), high=round(SCALE[1] * 100),
                          value=_shown(scale, t)))
    if not _in_range(draws, *DRAWS, whole=True):
        problems.append(t("check.draws", low=t.number(DRAWS[0]), high=t.number(DRAWS[1]), value=_shown(draws, t)))
    if not _in_range(time_limit, *TIME_LIMIT_S):
        problems.append(t("check.limit", low=t.number(TIME_LIMIT_S[0]), high=t.number(TIME_LIMIT_S[1]),
                          value=_shown(time_limit, t)))
    return problems


def check_request(files: dict[str, Path], *, base: object, scale: object, name: object, draws: object,
                  time_limit: object, deterministic: object, t: Catalogue = VI) -> tuple[RunRequest | None, list[str]]:
    """Check what the widgets hold before any work; every refusal in the page's language.

    Parameters
    ----------
    files
        Scenario files offered, by name.
    base, scale, name, draws, time_limit, deterministic
        The widgets' values, as a client may have set them (any type, any size).
    t
        The page's catalogue.

    Returns
    -------
    tuple
        The request (None if refused) and the reasons it is refused.
    """
    problems = _value_problems(files, t, base=base, scale=scale, draws=draws, time_limit=time_limit)
    label = unicodedata.normalize("NFC", name if isinstance(name, str) else "").strip()
    folder = folder_name(label)
    if not label and not problems:  # the default name needs a valid base and scale
        folder = f"{base}_{round(float(scale) * 100)}"  # type: ignore[arg-type]
    if label or not problems:
        problems += name_problems(label or folder, t)
    if problems:
        return None, problems
    # checked above: finite reals in range (the clamp only trims a slider's rounding)
    x_scale, x_draws, x_limit = float(scale), int(draws), float(time_limit)  # type: ignore[arg-type]
    return RunRequest(label=label, folder=folder, base=files[str(base)], scale=min(max(x_scale, SCALE[0]), SCALE[1]),
                      draws=x_draws, time_limit=x_limit, deterministic=bool(deterministic)), []


def upload_problems(filename: object, content: object, t: Catalogue = VI) -> list[str]:
    """Why an uploaded file is refused before it is parsed, or nothing."""
    if not isinstance(content, bytes):
        return [t("upload.one")]
    if len(content) > MAX_UPLOAD_BYTES:
        return [t("upload.big", size=t.number(len(content) / 1e6, 1), limit=t.number(MAX_UPLOAD_BYTES / 1e6))]
    if not isinstance(filename, str) or not filename.strip():
        return [t("upload.no_name")]
    return []


def variant(req: RunRequest, t: Catalogue = VI) -> Scenario:
    """The scenario ``req`` asks for: its base with the money scaled, named and titled.

    Titled as the planner named it, else after the base and its share of money.

    Raises
    ------
    InputError
        If the base scenario file cannot be read.
    """
    sc = load_scenario(req.base)
    budget = {**sc.budget.model_dump(), "scale": sc.budget.scale * req.scale}
    title = req.label or t("run.title", base=sc.title or sc.name, pct=t.number(100 * req.scale))
    return sc.with_(name=req.folder, title=title, budget=budget)


def job_request(root: Path, req: RunRequest, upload: tuple[str, bytes] | None = None,
                t: Catalogue = VI, scenario: Scenario | None = None) -> JobRequest:
    """What the run's child process does: ``req`` (or the edited ``scenario``) into ``root/req.folder``."""
    sc = scenario or variant(req, t)
    return JobRequest(scenario_yaml=sc.to_yaml(), scenario_file=str(req.base), out=str(root / req.folder),
                      draws=req.draws, time_limit=req.time_limit, deterministic=req.deterministic,
                      upload_name=upload[0] if upload else None, upload=upload[1] if upload else None,
                      uploads=str(root / ".uploads" / req.folder) if upload else None)


def _refusal_lead(problems: list[Problem], out: Path, label: str, t: Catalogue = VI) -> str:
    name = html.escape(label)
    if any(p.found == "a run in progress" for p in problems):
        return t("refuse.running_elsewhere", name=name)
    if any(p.file in (str(out), "--out") for p in problems):
        return t("refuse.write", name=name)
    return t("refuse.data")


def scenario_titles(files: dict[str, Path]) -> dict[str, str]:
    """Select options for scenario files: title → file stem (the stem beside a title two files share)."""
    titles = {}
    for stem, path in files.items():
        try:
            titles[stem] = load_scenario(path).title or stem
        except InputError:
            titles[stem] = stem  # refused with its problems if chosen
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    return {(title if counts[title] == 1 else f"{title} ({stem})"): stem for stem, title in titles.items()}


def _criteria_names(codes: object, names: dict[str, str]) -> str:
    """``TC2;TC5`` as ``Giao thông (TC2), Trường học (TC5)``."""
    if not isinstance(codes, str) or not codes.strip():
        return ""
    found = [c.strip() for c in re.split(r"[;,\s]+", codes) if c.strip()]
    return ", ".join(f"{names.get(c, c)} ({c})" for c in found)


def commune_table(run: ScenarioRun, t: Catalogue = VI) -> pd.DataFrame:
    """Each commune's priority for the table: rank, place, group, money in tỷ đồng, year, chance, what it lacks.

    Communes with nothing to plan for are left out (:func:`~ntm_sim.analysis.compare.plannable`),
    as in the committee's report; a recognised commune short of criteria stays (keeping the
    standard). Values stay numbers (the table sorts them); the
    columns are named in the page's language.
    """
    crit = load_criteria_set()
    names = {c.id: (c.name_vi if t.lang == "vi" else c.name_en) for c in crit.criteria}
    groups = {g.id: (g.name_vi if t.lang == "vi" else g.name_en) for g in crit.commune_groups}
    c = plannable(run)
    first = run.summary["years"][0]
    prob = commune_probability(run)
    table = pd.DataFrame({
        t("table.rank"): c["rank"].astype(int).to_numpy(),
        t("table.commune"): c["commune_name"].astype(str).to_numpy(),
        t("table.district"): c["district"].astype(str).to_numpy(),
        t("table.group"): [groups.get(str(g), str(g)) for g in c.get("group", pd.Series("", index=c.index))],
        t("table.met"): c["criteria_met_baseline"].astype(int).to_numpy(),
        t("table.money"): (c["cost_to_complete_mvnd"].astype(float) / 1000).round(1).to_numpy(),
        t("table.year"): [t("table.never") if pd.isna(y) else t("table.recognised") if y < first else str(int(y))
                          for y in c["year_ntm"]],
    })
    if prob is not None:
        p = c["commune_code"].astype(str).map(prob)
        table[t("table.chance", year=run.horizon)] = (100 * p).round(0).to_numpy()
    table[t("table.missing")] = [_criteria_names(m, names) for m in c.get("missing_criteria", [None] * len(c))]
    table[t("table.reason")] = c["reason_vi" if t.lang == "vi" else "reason_en"].astype(str).to_numpy()
    return table


def _text_filter(df: pd.DataFrame, district: str, text: str, columns: tuple[str, str], every: str) -> pd.DataFrame:
    """Rows of one district (or every one) whose commune's name holds ``text`` (diacritics and case ignored)."""
    commune, district_col = columns
    keep = pd.Series(True, index=df.index)
    if district and district != every:
        keep &= df[district_col] == district
    wanted = fold(text or "").strip().casefold()
    if wanted:
        keep &= df[commune].map(lambda name: wanted in fold(str(name)).casefold())
    return df[keep]


PAGINATION = {
    "vi": {"first": "Đầu", "first_title": "Trang đầu", "prev": "Trước", "prev_title": "Trang trước",
           "next": "Sau", "next_title": "Trang sau", "last": "Cuối", "last_title": "Trang cuối"},
    "en": {"first": "First", "first_title": "First page", "prev": "Prev", "prev_title": "Previous page",
           "next": "Next", "next_title": "Next page", "last": "Last", "last_title": "Last page"},
}


class CommuneTable:
    """The communes of one run in a table that sorts, filters by district, searches and downloads as Excel.

    Parameters
    ----------
    run
        The run shown.
    t
        The page's catalogue.
    """

    PAGE = 10  # rows a page: the table fits a 1366×768 screen

    def __init__(self, run: ScenarioRun, t: Catalogue = VI) -> None:
        self.t = t
        self.frame = commune_table(run, t)
        money = t("table.money")
        every = t("table.all_districts")
        districts = sorted(self.frame[t("table.district")].unique())
        self.district = pn.widgets.Select(name=t("table.district"), options=[every, *districts], value=every,
                                          width=260, sizing_mode="fixed")
        self.search = pn.widgets.TextInput(name=t("table.search"), placeholder=t("table.search_hint"), width=260,
                                           sizing_mode="fixed")
        number = {"type": "money", "decimal": t("table.decimal"), "thousand": t("table.thousand")}
        chance = next((c for c in self.frame.columns if c.startswith(t("table.chance", year="")[:12])), None)
        self.table = pn.widgets.Tabulator(
            self.frame, show_index=False, disabled=True, pagination="local", page_size=self.PAGE,
            layout="fit_columns", sizing_mode="stretch_width", selectable=False,
            formatters={money: {**number, "precision": 1}, **({chance: {**number, "precision": 0}} if chance else {})},
            widths={**{c: "7%" for c in self.frame.columns}, t("table.commune"): "10%", t("table.district"): "10%",
                    t("table.group"): "9%", t("table.missing"): "16%", t("table.reason"): "20%"},  # 100%
            configuration={"locale": t.lang, "langs": {t.lang: {"pagination": PAGINATION[t.lang]}}},
            css_classes=["commune-table"],
            stylesheets=[".tabulator-cell, .tabulator-col-title { white-space: normal !important; }"])
        self.table.add_filter(pn.bind(_text_filter, district=self.district, text=self.search.param.value_input,
                                      columns=(t("table.commune"), t("table.district")), every=every))
        self.download = pn.widgets.FileDownload(callback=self.excel, filename=t("table.file"),
                                                label=t("table.download"), button_type="success", width=260,
                                                sizing_mode="fixed")
        plan = run.folder / "plan.xlsx"  # the plan in the planners' layout, as `ntm-sim solve` wrote it
        self.plan = pn.widgets.FileDownload(file=str(plan), filename=f"ke_hoach_{run.folder.name}.xlsx",
                                            label=t("table.plan_download"), button_type="light", width=260,
                                            sizing_mode="fixed", embed=False, visible=plan.is_file())
        self.layout = pn.Column(pn.Row(self.district, self.search, self.download, self.plan), self.table)

    def excel(self) -> io.BytesIO:
        """The rows shown (filtered, sorted as the table is) as an Excel workbook; text cells kept as text."""
        view = self.table.current_view
        out = io.BytesIO()
        neutralise_frame(view).to_excel(out, index=False, sheet_name=self.t("table.sheet"))
        out.seek(0)
        return out


def input_template() -> io.BytesIO:
    """The blank input workbook, as ``ntm-sim template`` writes it (Lào Cai's communes pre-filled)."""
    from ntm_sim.data.io.excel_write import write_template

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_template(path)
        return io.BytesIO(path.read_bytes())


def _dataset_choices(sc: Scenario) -> tuple[dict[str, str], dict[str, str]]:
    """Communes (``name – district`` → code) and funding sources (name → id) of a scenario's data, cached."""
    def load() -> tuple[dict[str, str], dict[str, str]]:
        ds = scenario_dataset(sc)
        communes = {f"{row.commune_name} – {row.district_name}": str(code) for code, row in ds.communes.iterrows()}
        sources = {str(row.name_vi): str(sid) for sid, row in ds.sources.iterrows()}
        return dict(sorted(communes.items())), sources

    return pn.state.as_cached(f"ntm-sim-choices-{resolve_data_path(sc)}", load)


class ScenarioEditor:
    """Change a base scenario's levers; validate as the CLI does; save as YAML.

    The levers: the target, a lock, money by source and by year, carry-over, the objective and the
    uncertainty preset.

    Parameters
    ----------
    t
        The page's catalogue.
    """

    def __init__(self, t: Catalogue = VI) -> None:
        self.t = t
        keep = t("edit.keep")
        self.target = pn.widgets.IntInput(name=t("edit.target"), value=None, start=0, end=100_000, step=1)
        self.commune = pn.widgets.Select(name=t("edit.commune"), options={t("edit.no_lock"): ""}, value="")
        self.action = pn.widgets.Select(name=t("edit.action"), options={t("edit.force"): "force",
                                                                        t("edit.forbid"): "forbid"}, value="force")
        self.lock_year = pn.widgets.Select(name=t("edit.lock_year"), options={t("edit.every_year"): ""}, value="")
        self.source = pn.widgets.Select(name=t("edit.source"), options={t("edit.no_source"): ""}, value="")
        self.source_pct = pn.widgets.IntInput(name=t("edit.source_pct"), value=100, start=0, end=500, step=10)
        self.year = pn.widgets.Select(name=t("edit.year"), options={t("edit.no_year"): ""}, value="")
        self.year_pct = pn.widgets.IntInput(name=t("edit.year_pct"), value=100, start=0, end=500, step=10)
        self.carry = pn.widgets.Select(name=t("edit.carry"), options={keep: "", t("edit.carry_on"): "on",
                                                                      t("edit.carry_off"): "off"}, value="")
        self.mode = pn.widgets.Select(name=t("edit.mode"), options={keep: "", t("edit.max"): "max-achievement",
                                                                    t("edit.min_cost"): "min-cost"}, value="")
        self.preset = pn.widgets.Select(name=t("edit.preset"), options={
            keep: "", **{t(f"edit.preset_{name}"): name for name in ("default", "pessimistic", "disaster_2024")}},
            value="")
        self.status = html_pane("")
        self.layout = pn.Card(pn.Row(self.target, self.commune, self.action, self.lock_year),
                              pn.Row(self.source, self.source_pct, self.year, self.year_pct),
                              pn.Row(self.carry, self.mode, self.preset), self.status,
                              title=t("edit.title"), collapsed=True, sizing_mode="stretch_width")
        self._for: str | None = None

    @property
    def widgets(self) -> tuple[pn.widgets.Widget, ...]:
        """Every lever (a change to any of them must be checked again)."""
        return (self.target, self.commune, self.action, self.lock_year, self.source, self.source_pct, self.year,
                self.year_pct, self.carry, self.mode, self.preset)

    def fill(self, sc: Scenario) -> None:
        """Offer the communes and sources of ``sc``'s data, its years, and its own target."""
        communes, sources = _dataset_choices(sc)
        t = self.t
        years = {str(y): str(y) for y in range(sc.years[0], sc.years[1] + 1)}
        self.commune.options = {t("edit.no_lock"): "", **communes}
        self.source.options = {t("edit.no_source"): "", **sources}
        self.year.options = {t("edit.no_year"): "", **years}
        self.lock_year.options = {t("edit.every_year"): "", **years}
        self.target.value = sc.targets.communes_ntm
        self._for = sc.name

    def apply(self, sc: Scenario, display: str) -> Scenario:
        """``sc`` with the edits, checked as ``ntm-sim solve`` checks a scenario file.

        Raises
        ------
        InputError
            Naming ``display`` and each key that is not valid, with what was expected.
        """
        data = sc.model_dump(mode="json", exclude_defaults=True)
        budget = data.setdefault("budget", {})
        if self.target.value is not None:
            data.setdefault("targets", {})["communes_ntm"] = self.target.value
        if self.commune.value:
            lock = {"commune": self.commune.value, "action": self.action.value}
            data["locks"] = [*data.get("locks", []), {**lock, **({"year": int(self.lock_year.value)}
                                                                 if self.lock_year.value else {})}]
        if self.source.value and self.source_pct.value != 100:
            budget.setdefault("source_scale", {})[self.source.value] = _share(self.source_pct.value)
        if self.year.value and self.year_pct.value != 100:
            budget.setdefault("year_scale", {})[int(self.year.value)] = _share(self.year_pct.value)
        if self.carry.value:
            budget["carry_over"] = self.carry.value == "on"
        if self.mode.value:
            data["mode"] = self.mode.value
        if self.preset.value:  # the preset's assumptions as a whole, not mixed with the base scenario's own
            data["uncertainty"] = {"preset": self.preset.value}
        return checked_scenario(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), display,
                                Path(sc.source_file or display))


def _share(pct: object) -> object:
    """A percentage typed in the page as a share (anything else is passed on for the scenario check to name)."""
    return pct / 100 if isinstance(pct, int | float) else pct


def checked_scenario(text: str, display: str, beside: Path) -> Scenario:
    """A scenario's YAML ``text`` read exactly as ``ntm-sim solve`` reads a file (its problems named ``display``).

    ``beside``: the file whose folder relative paths in it (its ``data``) are taken from.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            sc = load_scenario(path)
        except InputError as exc:
            raise InputError([dataclasses.replace(p, file=display) for p in exc.problems]) from None
    sc.source_file = str(beside)
    return sc


class NewRunPanel:
    """Widgets to solve and simulate a variant of a scenario file into ``root/FOLDER``.

    The run goes to a child process (:class:`ntm_sim.run.jobs.RunJob`): the page stays
    responsive, shows the stage and the time elapsed, and can stop it.

    Parameters
    ----------
    root
        The results root.
    scenarios
        Folder of scenario files offered as a base (shown by their titles).
    on_done
        Called with the new folder's name once it is written; may raise
        :class:`~ntm_sim.errors.InputError` if the folder cannot be read back.
    t
        The page's catalogue.
    """

    def __init__(self, root: Path, scenarios: Path, on_done: Callable[[str], None], t: Catalogue = VI) -> None:
        self.root, self.on_done, self.t, self.scenarios = root, on_done, t, scenarios
        self.files = {p.stem: p for p in sorted(scenarios.glob("*.yaml"))}
        first = next(iter(self.files), None)
        self.base = pn.widgets.Select(name=t("run.base"), options=scenario_titles(self.files), value=first)
        self.scale = pn.widgets.FloatSlider(name=t("run.scale"), start=SCALE[0], end=SCALE[1], step=0.05,
                                            value=1.0, format=NumeralTickFormatter(format="0%"))
        self.name = pn.widgets.TextInput(name=t("run.name"), placeholder=t("run.name_hint"), max_length=NAME_MAX)
        self.draws = pn.widgets.IntInput(name=t("run.draws"), value=1000, start=DRAWS[0], end=DRAWS[1], step=100)
        self.limit = pn.widgets.IntInput(name=t("run.limit"), value=60, start=TIME_LIMIT_S[0], end=TIME_LIMIT_S[1],
                                         step=5)
        self.paper = pn.widgets.Checkbox(name=t("run.paper"), value=False)
        self.upload = pn.widgets.FileInput(accept=",".join(UPLOAD_SUFFIXES), multiple=False)
        self.button = pn.widgets.Button(name=t("run.button"), button_type="primary", disabled=first is None)
        self.stop = pn.widgets.Button(name=t("run.stop"), button_type="danger", visible=False)
        self.status = html_pane("")
        self.job: RunJob | None = None
        self._busy = False
        self.button.on_click(self.run)
        self.stop.on_click(self.cancel)
        self.editor = ScenarioEditor(t)
        self.check = pn.widgets.Button(name=t("edit.check"), button_type="default")
        self.save = pn.widgets.FileDownload(callback=self.scenario_file, filename="kich_ban.yaml", label=t("edit.save"),
                                            button_type="light", disabled=True)
        self._yaml = ""
        self._folder = ""
        self.check.on_click(self.check_scenario)
        # into the scenario folder only when the server was started so (`ntm-sim serve --save-scenarios`)
        self.store = pn.widgets.Button(name=t("edit.store"), button_type="light", disabled=True,
                                       visible=saving_allowed())
        self.store.on_click(self.store_scenario)
        self.editor.layout.append(pn.Row(self.check, self.save, self.store))
        e = self.editor
        for widget in (*e.widgets, self.base, self.scale, self.name):
            widget.param.watch(self._edited, "value")
        self.base.param.watch(self._refill, "value")
        if first is not None and pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self._refill)  # the data's communes and sources, once the page is there
        if first is None:
            self.layout = pn.Column(html_pane(f"<p>{t('run.no_files', folder=html.escape(str(scenarios)))}</p>"))
            return
        data_note = html_pane(f"<p>{t('run.data_note', limit=t.number(MAX_UPLOAD_BYTES / 1e6))}</p>")
        template = pn.widgets.FileDownload(callback=input_template, filename=t("run.template_file"),
                                           label=t("run.template"), button_type="light", width=300,
                                           sizing_mode="fixed")
        self.layout = pn.Column(pn.Row(self.base, self.scale), self.editor.layout, data_note, template, self.upload,
                                pn.Row(self.name, self.draws, self.limit), self.paper,
                                pn.Row(self.button, self.stop), self.status)

    def say(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        """Show a status message (``lead`` is HTML, ``items`` plain text)."""
        self.status.object = message_html(lead, items, css, element_id="run-status")

    def _refill(self, _event: object = None) -> None:
        """Offer the base scenario's communes and sources in the editor."""
        if str(self.base.value) not in self.files:  # refused with a message when run
            return
        try:
            self.editor.fill(load_scenario(self.files[str(self.base.value)]))
        except InputError as exc:
            self.editor.status.object = message_html(self.t("edit.loading"), self.t.problems(exc.problems), "miss",
                                                     element_id="edit-status")

    def _edited(self, _event: object = None) -> None:
        """Any change: the scenario must be checked again before it is downloaded or saved."""
        self.save.disabled = self.store.disabled = True

    def edited(self) -> tuple[RunRequest | None, Scenario | None, list[str]]:
        """The request and the edited scenario, checked as the CLI checks a scenario file; or the problems."""
        t = self.t
        req, problems = check_request(self.files, base=self.base.value, scale=self.scale.value, name=self.name.value,
                                      draws=self.draws.value, time_limit=self.limit.value,
                                      deterministic=self.paper.value, t=t)
        if req is None:
            return None, None, problems
        try:
            return req, self.editor.apply(variant(req, t), t("edit.display")), []
        except InputError as exc:
            return req, None, t.problems(exc.problems)

    def check_scenario(self, _event: object = None) -> None:
        """Check the edited scenario; once valid it can be downloaded (the check button's callback)."""
        req, sc, problems = self.edited()
        if sc is None or req is None:
            self.editor.status.object = message_html(self.t("edit.invalid"), problems, "miss", element_id="edit-status")
            self.save.disabled = True
            return
        self._yaml, self._folder = sc.to_yaml(), req.folder
        self.save.filename = f"{req.folder}.yaml"
        self.save.disabled = self.store.disabled = False
        self.editor.status.object = message_html(self.t("edit.valid"), (), "met", element_id="edit-status")

    def scenario_file(self) -> io.BytesIO:
        """The scenario last checked, as YAML (what ``ntm-sim solve`` reads)."""
        return io.BytesIO(self._yaml.encode("utf-8"))

    def store_scenario(self, _event: object = None) -> None:
        """Save the scenario last checked into the scenario folder as a new file, and offer it as a base."""
        if not saving_allowed() or not self._yaml:
            return
        path = self.scenarios / f"{self._folder}.yaml"
        try:
            with atomic_file(path, option=self.t("edit.store"), mark=False) as tmp:  # a new file, never replaced
                tmp.write_text(self._yaml, encoding="utf-8")
        except InputError as exc:  # a file of that name is there already: never overwritten
            self.editor.status.object = message_html(self.t("edit.not_stored"), self.t.problems(exc.problems),
                                                     "miss", element_id="edit-status")
            return
        self.files[path.stem] = path
        self.base.options = scenario_titles(self.files)
        self.store.disabled = True
        self.editor.status.object = message_html(
            self.t("edit.stored", file=f"<code>{html.escape(str(path))}</code>"), (), "met", element_id="edit-status")

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

    def _start(self) -> tuple[RunJob | None, RunRequest | None]:
        """Check what the widgets hold and start the run; None (and a message) if refused."""
        t = self.t
        req, problems = check_request(self.files, base=self.base.value, scale=self.scale.value, name=self.name.value,
                                      draws=self.draws.value, time_limit=self.limit.value,
                                      deterministic=self.paper.value, t=t)
        if req is None:
            self.say(t("refuse.input"), problems, "miss")
            return None, None
        upload = None
        if self.upload.value is not None:
            problems = upload_problems(self.upload.filename, self.upload.value, t)
            if problems:
                self.say(t("refuse.upload"), problems, "miss")
                return None, None
            upload = (str(self.upload.filename), self.upload.value)
        name, folder = html.escape(req.label or req.folder), html.escape(req.folder)
        out = self.root / req.folder
        try:
            exists = out.exists() or out.is_symlink()
        except OSError as exc:
            self.say(t("refuse.unreadable", name=name), [str(exc)], "miss")
            return None, None
        if exists:
            self.say(t("refuse.exists", name=name, folder=folder), css="miss")
            return None, None
        try:
            sc = self.editor.apply(variant(req, t), t("edit.display"))
        except InputError as exc:
            self.say(t("edit.invalid"), t.problems(exc.problems), "miss")
            return None, None
        request = job_request(self.root, req, upload, t, scenario=sc)
        job = claim(str(out.absolute()), lambda: start_job(request))
        if job is None:
            self.say(t("refuse.running_here", name=name), css="miss")
        return job, req

    def _progress(self, job: RunJob, name: str) -> None:
        t = self.t
        stage = t(f"stage.{job.stage}") if f"stage.{job.stage}" in MESSAGES else job.stage
        self.status.object = (f'<div id="run-status" data-stage="{html.escape(job.stage)}"><p>'
                              f"{t('run.progress', name=name, stage=html.escape(stage))} "
                              f'<span class="elapsed">{t("run.elapsed", time=t.duration(job.elapsed))}</span>'
                              "</p></div>")

    async def _follow(self, job: RunJob, req: RunRequest) -> None:
        """Show the stage and time elapsed until the run ends, then its outcome."""
        t = self.t
        name = html.escape(req.label or req.folder)
        while job.running:
            self._progress(job, name)
            await asyncio.sleep(POLL_S)
        took = t.duration(job.elapsed)
        if job.state == "cancelled":
            self.say(t("run.cancelled", name=name, time=took), css="warn")
        elif job.state == "failed":
            self.say(_refusal_lead(job.problems, self.root / req.folder, req.label or req.folder, t),
                     t.problems(job.problems), "miss")
        else:
            try:
                self.on_done(req.folder)
            except InputError as exc:  # written, but not readable as a run: say both
                self.say(t("run.unreadable", name=name), t.problems(exc.problems), "miss")
            else:
                clock = vietnam_time().strftime("%H:%M")
                self.say(t("run.done", name=name, time=took, clock=clock), css="met")


class FrontierPanel:
    """The budget curve of one shown run's scenario: from the cache at once, or computed in a background thread.

    Parameters
    ----------
    root
        The results root (the cache lives in its ``.frontier`` folder).
    runs
        The runs shown, by folder (the dashboard's own dict, so added runs are offered too).
    t
        The page's catalogue.
    """

    def __init__(self, root: Path, runs: dict[str, ScenarioRun], options: dict[str, str], t: Catalogue = VI) -> None:
        self.root, self.runs, self.t = root, runs, t
        self.which = pn.widgets.Select(name=t("frontier.scenario"), options=options,
                                       value=next(iter(options.values()), None), width=360, sizing_mode="fixed")
        self.button = pn.widgets.Button(name=t("frontier.button"), button_type="primary", width=260,
                                        sizing_mode="fixed")
        self.status = html_pane("")
        self.curve = pn.Column()
        self.ticked: list[ScenarioRun] = []
        self.current: Frontier | None = None
        self._busy = False
        self.button.on_click(self.compute)
        self.which.param.watch(self.look, "value")
        self.layout = pn.Column(html_pane(f"<p>{t('frontier.intro')}</p>"), pn.Row(self.which, self.button),
                                self.status, self.curve)

    def say(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        """Show a status message (``lead`` is HTML, ``items`` plain text)."""
        self.status.object = message_html(lead, items, css, element_id="frontier-status")

    async def look(self, _event: object = None) -> None:
        """Show the chosen run's curve if it is cached (never computes)."""
        run = self.runs.get(str(self.which.value))
        if run is None or self._busy:
            return
        asked = self.which.value
        try:
            found = await asyncio.to_thread(_cached_curve, self.root, run)
        except InputError as exc:
            self.say(self.t("frontier.failed", name=html.escape(run.title)), self.t.problems(exc.problems), "miss")
            return
        if self.which.value != asked or self._busy:  # another scenario was chosen meanwhile: its answer stands
            return
        if found is None:
            self.curve.objects = []
            self.say(self.t("frontier.none"), css="notice")
        else:
            self.draw(found)
            self.say(self.t("frontier.cached", folder=f"<code>{CACHE_FOLDER}</code>"), css="met")

    async def compute(self, _event: object = None) -> None:
        """Read or compute the chosen run's curve in a thread, showing the time elapsed (the button's callback)."""
        run = self.runs.get(str(self.which.value))
        if run is None or self._busy:  # a second click while one is going
            return
        self._busy, self.button.disabled = True, True
        start = time.monotonic()
        task = asyncio.ensure_future(asyncio.to_thread(_computed_curve, self.root, run))
        try:
            while not task.done():
                took = self.t.duration(time.monotonic() - start)
                self.say(self.t("frontier.working", name=html.escape(run.title), time=took), css="notice")
                await asyncio.wait([task], timeout=POLL_S)
            curve, cached = task.result()
        except InputError as exc:
            self.say(self.t("frontier.failed", name=html.escape(run.title)), self.t.problems(exc.problems), "miss")
        except (ValueError, RuntimeError) as exc:
            log.exception("budget curve of %s failed", run.name)
            self.say(self.t("frontier.failed", name=html.escape(run.title)), [str(exc)], "miss")
        else:
            self.draw(curve)
            took = self.t.duration(time.monotonic() - start)
            self.say(self.t("frontier.cached", folder=f"<code>{CACHE_FOLDER}</code>") if cached
                     else self.t("frontier.done", time=took), css="met")
        finally:
            self._busy, self.button.disabled = False, False

    def draw(self, curve: Frontier) -> None:
        """The chart (with the ticked runs marked), the marginal money table and the answer in one sentence."""
        t = self.t
        self.current = curve
        labels = {k: t(f"frontier.{k}") for k in ("title", "x", "y", "p", "median", "band", "chance")}
        marks = [(r.name, pos.budget_mvnd, pos.communes) for r in self.ticked
                 if (pos := run_position(r)) is not None]
        steps = marginal_table(curve)
        rows = "".join(
            f"<tr><td class='num'>{t.number(s.from_bn)}</td><td class='num'>{t.number(s.to_bn)}</td>"
            f"<td class='num'>{t.number(s.extra_communes, 1)}</td>"
            f"<td class='num'>{'–' if pd.isna(s.bn_per_commune) else t.number(s.bn_per_commune, 1)}</td></tr>"
            for s in steps.itertuples())
        head = "".join(f"<th>{t(f'frontier.{k}')}</th>" for k in ("from", "to", "extra", "per"))
        table = f'<table class="ntm" id="frontier-steps"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        self.curve.objects = [html_pane(f'<p id="frontier-answer">{html.escape(self._answer(curve))}</p>'),
                              pn.pane.Bokeh(frontier_chart(curve.table, marks, labels)),
                              html_pane(f"<p>{t('frontier.marks')}</p>{table}")]

    def _answer(self, curve: Frontier) -> str:
        t = self.t
        if curve.target is None:
            return ""
        conf = f"{t.number(100 * curve.confidence)}%"
        if curve.least_budget_mvnd is not None:
            return t("frontier.least", money=t.number(curve.least_budget_mvnd / 1000), target=curve.target, conf=conf)
        top = float(curve.table.sort_values("budget_mvnd")["p_target"].iloc[-1])
        return t("frontier.unreached", target=curve.target, conf=conf, p=f"{t.number(100 * top)}%")


def _inputs(run: ScenarioRun) -> tuple[Scenario, Dataset]:
    """The run's scenario and data, read once per server (by folder and their hashes): every page load asks."""
    hashes = "-".join(str(run.manifest.get(k, {}).get("hash")) for k in ("scenario", "data"))
    return pn.state.as_cached(f"ntm-sim-inputs-{run.folder}-{hashes}", lambda: run_inputs(run))


def _cached_curve(root: Path, run: ScenarioRun) -> Frontier | None:
    """The run's stored curve at the default levels and seed 0, or None (reads the run's data to key it)."""
    scenario, ds = _inputs(run)
    return cached_frontier(root, ds, scenario, DEFAULT_SCALES, seed=0)


def _computed_curve(root: Path, run: ScenarioRun) -> tuple[Frontier, bool]:
    """The run's curve at the default levels and seed 0, stored once computed."""
    scenario, ds = _inputs(run)
    return frontier_cached(root, ds, scenario, DEFAULT_SCALES, seed=0)


def _guarded(view: Callable[..., pn.viewable.Viewable], t: Catalogue = VI) -> Callable[..., pn.viewable.Viewable]:
    """A view that shows its failure in its own section instead of breaking the page."""
    @functools.wraps(view)
    def wrapper(*args: object) -> pn.viewable.Viewable:
        try:
            return view(*args)
        except Exception as exc:
            log.exception("view %s failed", view.__name__)
            return html_pane(message_html(t("view.failed"), [f"{type(exc).__name__}: {exc}"], "miss"))
    return wrapper


def _skipped_folder(problem: Problem, root: Path) -> str:
    """The folder under ``root`` a problem is about (its name), else the problem's file."""
    try:
        return Path(problem.file).relative_to(root).parts[0]
    except (ValueError, IndexError):
        return problem.file


SECTIONS = ("indicators", "progress", "baselines", "risk", "backtest", "frontier", "communes", "provenance",
            "new_run")


class Dashboard:
    """The dashboard over the results folders under ``root``: its widgets, views and layout.

    Parameters
    ----------
    root
        The results root (default :func:`results_root`).
    scenarios
        Scenario files offered for a new run (default :func:`scenarios_root`).
    t
        The page's catalogue (its language).
    """

    def __init__(self, root: Path | None = None, scenarios: Path | None = None, t: Catalogue = VI) -> None:
        self.t = t
        self.root = results_root() if root is None else Path(root)
        runs, problems = scan_runs(self.root)
        self.runs: dict[str, ScenarioRun] = {r.name: r for r in runs}  # by folder name
        self.shown: dict[str, ScenarioRun] = {}  # the same runs, named for reading
        self._relabel()
        keys = list(self.runs)
        self.choose = pn.widgets.CheckBoxGroup(name=t("choose.label"), options=self._options(),
                                               value=keys[:MAX_TICKED], inline=True)
        self.which = pn.widgets.Select(name=t("which.label"), options=self._options(),
                                       value=keys[0] if keys else None)
        self.frontier = FrontierPanel(self.root, self.shown, self._options(), t)
        self.frontier.ticked = self.chosen(self.choose.value)
        self.choose.param.watch(self._ticked, "value")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.onload(self.frontier.look)  # a cached curve shows once the page is there
        self.skipped = html_pane(self._skipped_html(problems))
        self.skipped.visible = bool(problems)
        self.new_run = NewRunPanel(self.root, scenarios_root() if scenarios is None else Path(scenarios), self.added,
                                   t)
        self.download = pn.widgets.FileDownload(callback=self.report_file, filename="bao_cao_so_sanh_kich_ban.html",
                                                label=t("download.report"), button_type="success")
        self.lang = pn.widgets.RadioButtonGroup(name=t("page.lang"), options={v: k for k, v in LANGS.items()},
                                                value=t.lang, width=220, sizing_mode="fixed")
        self.lang.param.watch(self._switch_language, "value")
        header = pn.Row(pn.pane.HTML(f"<h1>{html.escape(t('page.heading'))}</h1>"
                                     f"<p>{t('page.root', root=f'<code>{html.escape(str(self.root))}</code>')}</p>"),
                        self.lang)
        self.layout = pn.Column(header, self.skipped, *self._sections())

    def _sections(self) -> list[object]:
        t, c = self.t, self.choose
        heading = {key: pn.pane.Markdown(f"## {t('section.' + key)}", name=key) for key in SECTIONS}
        return [
            pn.bind(_guarded(self.banner, t), c), c, pn.bind(self.ticked_note, c), self.download,
            heading["indicators"], pn.bind(_guarded(self.indicators, t), c),
            heading["progress"], pn.bind(_guarded(self.chart, t), c),
            heading["baselines"], pn.bind(_guarded(self.compare, t), c),
            heading["risk"], pn.bind(_guarded(self.risk, t), c),
            heading["backtest"], pn.bind(_guarded(self.backtest, t), c),
            heading["frontier"], self.frontier.layout,
            heading["communes"], self.which, self._where_tabs(),
            heading["provenance"], pn.bind(_guarded(self.provenance, t), c),
            heading["new_run"], self.new_run.layout,
        ]

    def _where_tabs(self) -> pn.Tabs:
        """One run's communes and districts in tabs: the table first, the others drawn when opened.

        The matrix and the map are thousands of glyphs: every page load would pay for them otherwise.
        """
        t, w = self.t, self.which

        def lazy(view: Callable[[ScenarioRun, Catalogue], pn.viewable.Viewable]) -> pn.param.ParamFunction:
            return pn.param.ParamFunction(pn.bind(_guarded(self.where, t), w, view), lazy=True)

        return pn.Tabs((t("tab.table"), pn.bind(_guarded(self.communes, t), w)),
                       (t("section.districts"), lazy(where.district_view)),
                       (t("section.matrix"), lazy(where.matrix_view)), (t("section.map"), lazy(where.map_view)),
                       dynamic=True, sizing_mode="stretch_width")

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
        self.shown = dict(zip(keys, labelled([self.runs[k] for k in keys]), strict=True))

    def _options(self) -> dict[str, str]:
        """Checkbox and select options: label shown → folder name."""
        return {run.name: key for key, run in self.shown.items()}

    def _skipped_html(self, problems: list[Problem]) -> str:
        if not problems:
            return ""
        folders = list(dict.fromkeys(_skipped_folder(p, self.root) for p in problems))
        lead = self.t("skipped.lead", folders=html.escape(", ".join(folders)))
        return message_html(lead, self.t.problems(problems), "warn", element_id="skipped-runs")

    def added(self, key: str) -> None:
        """Read back a run just written as ``root/key`` and tick it (raises InputError if unreadable)."""
        self.runs[key] = load_run(self.root / key)
        self._relabel()
        options = self._options()
        value = [*[v for v in self.choose.value if v != key], key]
        # one update each, so that every view is redrawn once
        self.choose.param.update(options=options, value=value)
        self.which.param.update(options=options, value=self.which.value or key)
        self.frontier.runs = self.shown
        self.frontier.which.options = options

    def chosen(self, value: list[str]) -> list[ScenarioRun]:
        """The ticked runs, in the order of the list, named for reading."""
        return [run for key, run in self.shown.items() if key in value]

    def report_file(self) -> io.BytesIO:
        """The committee's report of the ticked runs."""
        runs = self.chosen(self.choose.value)
        if not runs:
            raise ValueError(self.t("report.none"))
        return io.BytesIO(build_report(runs).encode("utf-8"))

    # ----- views -------------------------------------------------------------------------------------

    def empty(self) -> pn.pane.HTML:
        """What a section shows when nothing is ticked."""
        return pn.pane.HTML(f"<p>{self.t('view.empty')}</p>")

    def ticked_note(self, value: list[str]) -> pn.viewable.Viewable:
        """How many runs are not ticked, when some are not (never a silent drop)."""
        total, ticked = len(self.runs), len([k for k in value if k in self.runs])
        if ticked >= total:
            return html_pane("")
        note = self.t("ticked.note", ticked=ticked, total=total, left=total - ticked)
        return html_pane(f'<p class="notice" id="ticked-note">{note}</p>')

    def banner(self, value: list[str]) -> pn.viewable.Viewable:
        """The demo-data label, when a ticked run is on demo data."""
        demo = next((r.summary.get("demo_label") for r in self.chosen(value) if r.demo), None)
        return html_pane(f'<div class="demo" id="demo-banner">{html.escape(str(demo))}</div>' if demo else "")

    def indicators(self, value: list[str]) -> pn.viewable.Viewable:
        """Headline indicators against the targets."""
        return html_pane(indicators_html(self.chosen(value))) if value else self.empty()

    def chart(self, value: list[str]) -> pn.viewable.Viewable:
        """Communes reaching the standard year by year."""
        return pn.pane.Bokeh(ntm_chart(self.chosen(value))) if value else self.empty()

    def compare(self, value: list[str]) -> pn.viewable.Viewable:
        """The recommended plan against the usual rules."""
        return html_pane(baselines_html(self.chosen(value))) if value else self.empty()

    def risk(self, value: list[str]) -> pn.viewable.Viewable:
        """The Monte Carlo spread, and which ticked runs have none."""
        runs = self.chosen(value)
        if not runs:
            return self.empty()
        bare = [r.name for r in runs if "optimum" not in (r.simulation or {}).get("plans", {})]
        parts = [html_pane(risk_html(runs))]
        if bare:
            # a run solved with 0 draws has no row: say so rather than leave the reader to notice
            parts.append(html_pane(message_html(self.t("risk.missing", names=html.escape("; ".join(bare))), (),
                                                "notice", element_id="risk-missing")))
        if len(bare) < len(runs):
            parts.append(pn.pane.Bokeh(threshold_chart(runs)))
        return pn.Column(*parts)

    def backtest(self, value: list[str]) -> pn.viewable.Viewable:
        """The simulation of 2021–2024 against the public record, when a ticked run is on the bundled data."""
        section = backtest_section([str(r.summary.get("dataset", "")) for r in self.chosen(value)], self.t, None)
        if section is None:
            return html_pane(f"<p>{html.escape(self.t('backtest.none'))}</p>")
        text, chart = section
        before, after = text.split('<div class="chart">{chart}</div>')
        return pn.Column(html_pane(before.replace("{{", "{").replace("}}", "}")), pn.pane.Bokeh(chart),
                         html_pane(after.replace("{{", "{").replace("}}", "}")))

    def provenance(self, value: list[str]) -> pn.viewable.Viewable:
        """Where every figure comes from."""
        return html_pane(provenance_html(self.chosen(value))) if value else self.empty()

    def communes(self, key: str | None) -> pn.viewable.Viewable:
        """Each commune's priority and reason, for one run: a table to sort, filter, search and download."""
        if key is None or key not in self.shown:
            return self.empty()
        return CommuneTable(self.shown[key], self.t).layout


    def where(self, key: str | None, view: Callable[[ScenarioRun, Catalogue], pn.viewable.Viewable]
              ) -> pn.viewable.Viewable:
        """One of the where-and-who views (:mod:`where`) of the run chosen for the commune table."""
        if key is None or key not in self.shown:
            return self.empty()
        return view(self.shown[key], self.t)


def create_app(root: Path | None = None, scenarios: Path | None = None,
               t: Catalogue | None = None) -> pn.viewable.Viewable:
    """Build the dashboard over the results folders under ``root`` (see :class:`Dashboard`)."""
    t = t or session_lang()
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:  # the page's own language, for readers and spelling
        doc.js_on_event("document_ready", CustomJS(code=f"document.documentElement.lang = '{t.lang}';"))
    return Dashboard(root, scenarios, t).layout


if __name__.startswith("bokeh"):
    _t = session_lang()
    create_app(t=_t).servable(title=_t("page.title"))
