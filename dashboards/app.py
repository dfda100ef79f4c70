"""The ntm-sim dashboard: scenarios side by side, for the provincial steering committee.

Thin by design: layout and widgets over :mod:`ntm_sim.analysis.compare`, which reads the
results folders that ``ntm-sim solve`` and ``ntm-sim simulate`` wrote. Serve it with::

    ntm-sim serve --results results      # this machine only; see ntm_sim.serving

Every script and style comes from the Panel server itself: nothing is loaded from the
internet (provincial offices often work offline).

Runs are keyed by their folder (unique under the results root) and shown by their
scenario's title, with the folder beside it when two runs share one. Everything a
planner sends (numbers, names, files) is checked here, on the server, before any work:
the bounds of a widget hold only in an honest browser.
"""

from __future__ import annotations

import asyncio
import functools
import html
import io
import logging
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import panel as pn
from bokeh.models import NumeralTickFormatter

from ntm_sim.analysis.compare import ScenarioRun, labelled
from ntm_sim.errors import InputError, Problem
from ntm_sim.jobs import JobRequest, RunJob, claim
from ntm_sim.plots import ntm_chart, threshold_chart
from ntm_sim.report_html import (
    CSS,
    baselines_html,
    build_report,
    communes_frame,
    indicators_html,
    provenance_html,
    risk_html,
)
from ntm_sim.runs import load_run, scan_runs
from ntm_sim.scenario import Scenario, load_scenario
from ntm_sim.text import format_number_vi
from ntm_sim.workflow import UPLOAD_SUFFIXES

# a session whose websocket closes (e.g. a message above the server's limit) says so instead of freezing
pn.extension(design="native", sizing_mode="stretch_width", notifications=True,
             disconnect_notification="Mất kết nối với máy chủ (có thể do tệp tải lên quá lớn): hãy tải lại trang. "
                                     "Các kết quả đã xong vẫn được giữ.")

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
NAME_CHARS = re.compile(r"[A-Za-z0-9_.-]")

# how a run is started (tests put a stand-in here)
start_job: Callable[[JobRequest], RunJob] = RunJob.start
POLL_S = 0.5

STAGE_VI = {
    "start": "đang khởi động",
    "data": "đang đọc dữ liệu",
    "weights": "đang ước lượng khả năng thành công của từng xã",
    "solve": "đang giải mô hình tối ưu",
    "train": "đang chọn phương án bằng mô phỏng",
    "judge": "đang kiểm tra phương án trên các lần thử mới",
    "simulate": "đang mô phỏng rủi ro",
    "write": "đang ghi kết quả",
}


def html_pane(text: str) -> pn.pane.HTML:
    """An HTML pane with the tables' styles (each pane has its own shadow root)."""
    return pn.pane.HTML(text, stylesheets=[CSS, STATUS_CSS])


def results_root() -> Path:
    """Folder of results folders: ``NTM_SIM_RESULTS`` or ``results``."""
    return Path(os.environ.get("NTM_SIM_RESULTS", "results"))


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


def _shown(value: object) -> str:
    """A value a client sent, for a message: Vietnamese number format, never long."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return format_number_vi(float(value), 0 if float(value).is_integer() else 2)
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _in_range(value: object, low: float, high: float, *, whole: bool = False) -> bool:
    """Whether ``value`` is a finite real number in ``[low, high]`` (and whole, if asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    x = float(value)
    eps = 1e-9 * max(1.0, abs(high))  # a slider's steps of 0.05 land a hair beyond 1.5
    return math.isfinite(x) and low - eps <= x <= high + eps and (not whole or x.is_integer())


def name_problems(label: str) -> list[str]:
    """Why ``label`` cannot name a results folder (in Vietnamese), or nothing.

    A name is ASCII letters, digits and ``_ . -``, at most 64 characters, not starting
    with a dot (hidden folders are uploads and runs being written).
    """
    if not label:
        return ["Chưa có tên kết quả."]
    out = []
    if len(label) > NAME_MAX:
        out.append(f"Tên kết quả dài {format_number_vi(len(label))} ký tự: tối đa {NAME_MAX} ký tự.")
    if label.startswith("."):
        out.append("Tên kết quả không được bắt đầu bằng dấu chấm.")
    bad = list(dict.fromkeys(c for c in label if not NAME_CHARS.fullmatch(c)))  # in the order typed
    if bad:
        shown = " ".join("dấu cách" if c == " " else f"“{c}”" if c.isprintable() else f"mã U+{ord(c):04X}"
                         for c in bad[:10])
        out.append(f"Tên kết quả chỉ được gồm chữ cái không dấu, chữ số và các dấu _ . - (có ký tự không dùng "
                   f"được: {shown}).")
    return out


class RunRequest(NamedTuple):  # not a dataclass: the served module is not importable by name
    """A new run as the planner asked for it, checked (see :func:`check_request`)."""

    label: str
    base: Path
    scale: float
    draws: int
    time_limit: float
    deterministic: bool


def check_request(files: dict[str, Path], *, base: object, scale: object, name: object, draws: object,
                  time_limit: object, deterministic: object) -> tuple[RunRequest | None, list[str]]:
    """Check what the widgets hold before any work; every refusal in Vietnamese.

    Parameters
    ----------
    files
        Scenario files offered, by name.
    base, scale, name, draws, time_limit, deterministic
        The widgets' values, as a client may have set them (any type, any size).

    Returns
    -------
    tuple
        The request (None if refused) and the reasons it is refused.
    """
    problems = []
    if not isinstance(base, str) or base not in files:
        problems.append(f"Kịch bản gốc “{_shown(base)}” không có trong thư mục kịch bản.")
    if not _in_range(scale, *SCALE):
        problems.append(f"Vốn so với kịch bản gốc phải từ {round(SCALE[0] * 100)}% đến {round(SCALE[1] * 100)}% "
                        f"(nhận được {_shown(scale)}).")
    if not _in_range(draws, *DRAWS, whole=True):
        problems.append(f"Số lần thử mô phỏng phải là số nguyên từ {format_number_vi(DRAWS[0])} đến "
                        f"{format_number_vi(DRAWS[1])} (nhận được {_shown(draws)}).")
    if not _in_range(time_limit, *TIME_LIMIT_S):
        problems.append(f"Thời gian giải tối đa phải từ {format_number_vi(TIME_LIMIT_S[0])} đến "
                        f"{format_number_vi(TIME_LIMIT_S[1])} giây (nhận được {_shown(time_limit)}).")
    label = (name if isinstance(name, str) else "").strip()
    if not label and not problems:  # the default name needs a valid base and scale
        label = f"{base}_{round(float(scale) * 100)}"  # type: ignore[arg-type]
    if label or not problems:
        problems += name_problems(label)
    if problems:
        return None, problems
    # checked above: finite reals in range (the clamp only trims a slider's rounding)
    x_scale, x_draws, x_limit = float(scale), int(draws), float(time_limit)  # type: ignore[arg-type]
    return RunRequest(label=label, base=files[str(base)], scale=min(max(x_scale, SCALE[0]), SCALE[1]),
                      draws=x_draws, time_limit=x_limit, deterministic=bool(deterministic)), []


def upload_problems(filename: object, content: object) -> list[str]:
    """Why an uploaded file is refused before it is parsed (in Vietnamese), or nothing."""
    if not isinstance(content, bytes):
        return ["Chỉ tải lên một tệp."]
    if len(content) > MAX_UPLOAD_BYTES:
        return [f"Tệp nặng {format_number_vi(len(content) / 1e6, 1)} MB, quá giới hạn "
                f"{format_number_vi(MAX_UPLOAD_BYTES / 1e6)} MB: bỏ bớt các trang không cần rồi tải lên lại."]
    if not isinstance(filename, str) or not filename.strip():
        return ["Tệp tải lên không có tên."]
    return []


def variant(req: RunRequest) -> Scenario:
    """The scenario ``req`` asks for: its base with the money scaled, named and titled after it.

    Raises
    ------
    InputError
        If the base scenario file cannot be read.
    """
    sc = load_scenario(req.base)
    budget = {**sc.budget.model_dump(), "scale": sc.budget.scale * req.scale}
    pct = format_number_vi(100 * req.scale)
    return sc.with_(name=req.label, title=f"{sc.title or sc.name} – vốn {pct}%", budget=budget)


def job_request(root: Path, req: RunRequest, upload: tuple[str, bytes] | None = None) -> JobRequest:
    """What the run's child process does: ``req`` into ``root/req.label`` (the upload kept beside)."""
    sc = variant(req)
    return JobRequest(scenario_yaml=sc.to_yaml(), scenario_file=str(req.base), out=str(root / req.label),
                      draws=req.draws, time_limit=req.time_limit, deterministic=req.deterministic,
                      upload_name=upload[0] if upload else None, upload=upload[1] if upload else None,
                      uploads=str(root / ".uploads" / req.label) if upload else None)


def elapsed_vi(seconds: float) -> str:
    """Elapsed time as minutes and seconds, ``1 phút 05 giây``."""
    m, s = divmod(int(seconds), 60)
    return f"{m} phút {s:02d} giây" if m else f"{s} giây"


def _refusal_lead(problems: list[Problem], out: Path, label: str) -> str:
    name = html.escape(label)
    if any(p.found == "a run in progress" for p in problems):
        return (f"Không chạy được: một lượt chạy khác (phiên khác hoặc dòng lệnh) đang ghi kết quả <code>{name}"
                "</code>. Chờ lượt đó xong rồi tải lại trang, hoặc chọn tên khác.")
    if any(p.file in (str(out), "--out") for p in problems):
        return f"Không chạy được: không ghi được kết quả <code>{name}</code>. Chi tiết:"
    return "Không chạy được: dữ liệu chưa dùng được. Từng lỗi, kèm tệp, trang, dòng và cột:"


class NewRunPanel:
    """Widgets to solve and simulate a variant of a scenario file into ``root/NAME``.

    The run goes to a child process (:class:`ntm_sim.jobs.RunJob`): the page stays
    responsive, shows the stage and the time elapsed, and can stop it.

    Parameters
    ----------
    root
        The results root.
    scenarios
        Folder of scenario files offered as a base.
    on_done
        Called with the new folder's name once it is written; may raise
        :class:`~ntm_sim.errors.InputError` if the folder cannot be read back.
    """

    def __init__(self, root: Path, scenarios: Path, on_done: Callable[[str], None]) -> None:
        self.root = root
        self.on_done = on_done
        self.files = {p.stem: p for p in sorted(scenarios.glob("*.yaml"))}
        first = next(iter(self.files), None)
        self.base = pn.widgets.Select(name="Kịch bản gốc", options=list(self.files), value=first)
        self.scale = pn.widgets.FloatSlider(name="Vốn so với kịch bản gốc", start=SCALE[0], end=SCALE[1], step=0.05,
                                            value=1.0, format=NumeralTickFormatter(format="0%"))
        self.name = pn.widgets.TextInput(name="Tên kết quả (chữ không dấu, số, _ . -)", placeholder="vd. baseline_80",
                                         max_length=NAME_MAX)
        self.draws = pn.widgets.IntInput(name="Số lần thử mô phỏng", value=1000, start=DRAWS[0], end=DRAWS[1],
                                         step=100)
        self.limit = pn.widgets.IntInput(name="Thời gian giải tối đa (giây)", value=60, start=TIME_LIMIT_S[0],
                                         end=TIME_LIMIT_S[1], step=5)
        self.paper = pn.widgets.Checkbox(name="Nhanh: phương án tối ưu trên giấy (không chọn theo mô phỏng)",
                                         value=False)
        self.upload = pn.widgets.FileInput(accept=",".join(UPLOAD_SUFFIXES), multiple=False)
        self.button = pn.widgets.Button(name="Giải và mô phỏng", button_type="primary", disabled=first is None)
        self.stop = pn.widgets.Button(name="Dừng lượt chạy", button_type="danger", visible=False)
        self.status = html_pane("")
        self.job: RunJob | None = None
        self._busy = False
        self.button.on_click(self.run)
        self.stop.on_click(self.cancel)
        if first is None:
            self.layout = pn.Column(html_pane(
                f"<p>Không có tệp kịch bản trong <code>{html.escape(str(scenarios))}</code>.</p>"))
            return
        limit_mb = format_number_vi(MAX_UPLOAD_BYTES / 1e6)
        data_note = html_pane("<p>Dữ liệu của tỉnh (tuỳ chọn): tệp Excel theo mẫu <code>ntm-sim template</code>, "
                              f"tối đa {limit_mb} MB; bỏ trống để dùng dữ liệu của kịch bản gốc. Tệp lớn hơn khoảng "
                              "15 MB làm trình duyệt mất kết nối với máy chủ (khi đó tải lại trang).</p>")
        self.layout = pn.Column(pn.Row(self.base, self.scale), data_note, self.upload,
                                pn.Row(self.name, self.draws, self.limit), self.paper,
                                pn.Row(self.button, self.stop), self.status)

    def say(self, lead: str, items: Iterable[str] = (), css: str = "") -> None:
        """Show a status message (``lead`` is HTML, ``items`` plain text)."""
        self.status.object = message_html(lead, items, css, element_id="run-status")

    def cancel(self, _event: object = None) -> None:
        """Stop the run under way (the stop button's callback)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.say("Đang dừng lượt chạy…")

    async def run(self, _event: object = None) -> None:
        """Check the request, start it in a child process and follow it (the button's callback)."""
        if self._busy:  # a second click (a double click) while this panel's run is starting or going
            return
        self._busy = True  # before any await: a queued click sees it
        self.button.disabled = True
        try:
            job, label = self._start()
            if job is not None:
                self.job = job
                self.stop.visible = True
                await self._follow(job, label)
        finally:
            self.job = None
            self.stop.visible = False
            self._busy = False
            self.button.disabled = False

    def _start(self) -> tuple[RunJob | None, str]:
        """Check what the widgets hold and start the run; None (and a message) if refused."""
        req, problems = check_request(self.files, base=self.base.value, scale=self.scale.value, name=self.name.value,
                                      draws=self.draws.value, time_limit=self.limit.value,
                                      deterministic=self.paper.value)
        if req is None:
            self.say("Không chạy được: thông tin nhập chưa hợp lệ.", problems, "miss")
            return None, ""
        upload = None
        if self.upload.value is not None:
            problems = upload_problems(self.upload.filename, self.upload.value)
            if problems:
                self.say("Không chạy được: tệp dữ liệu tải lên không dùng được.", problems, "miss")
                return None, req.label
            upload = (str(self.upload.filename), self.upload.value)
        name = html.escape(req.label)
        out = self.root / req.label
        try:
            exists = out.exists() or out.is_symlink()
        except OSError as exc:
            self.say(f"Không chạy được: không đọc được thư mục kết quả <code>{name}</code>.", [str(exc)], "miss")
            return None, req.label
        if exists:
            self.say(f"Đã có kết quả <code>{name}</code>: chọn tên khác.", css="miss")
            return None, req.label
        try:
            request = job_request(self.root, req, upload)
        except InputError as exc:
            self.say("Không chạy được: kịch bản gốc chưa dùng được.", [str(p) for p in exc.problems], "miss")
            return None, req.label
        job = claim(str(out.absolute()), lambda: start_job(request))
        if job is None:
            self.say(f"Kết quả <code>{name}</code> đang được giải trong một phiên khác trên máy chủ này: chờ xong rồi "
                     "tải lại trang để xem, hoặc chọn tên khác.", css="miss")
        return job, req.label

    def _progress(self, job: RunJob, name: str) -> None:
        stage = STAGE_VI.get(job.stage, job.stage)
        self.status.object = (f'<div id="run-status" data-stage="{html.escape(job.stage)}"><p>Đang chạy <code>'
                              f"{name}</code>: <b>{html.escape(stage)}</b>… "
                              f'<span class="elapsed">đã chạy {elapsed_vi(job.elapsed)}</span></p></div>')

    async def _follow(self, job: RunJob, label: str) -> None:
        """Show the stage and time elapsed until the run ends, then its outcome."""
        name = html.escape(label)
        while job.running:
            self._progress(job, name)
            await asyncio.sleep(POLL_S)
        took = elapsed_vi(job.elapsed)
        if job.state == "cancelled":
            self.say(f"Đã dừng lượt chạy <code>{name}</code> sau {took}: không ghi kết quả nào.", css="warn")
        elif job.state == "failed":
            self.say(_refusal_lead(job.problems, self.root / label, label), [str(p) for p in job.problems], "miss")
        else:
            try:
                self.on_done(label)
            except InputError as exc:  # written, but not readable as a run: say both
                self.say(f"Đã ghi kết quả <code>{name}</code> nhưng không đọc lại được để so sánh:",
                         [str(p) for p in exc.problems], "miss")
            else:
                self.say(f"Xong: <code>{name}</code> đã được thêm vào so sánh (mất {took}).", css="met")


def _guarded(view: Callable[..., pn.viewable.Viewable]) -> Callable[..., pn.viewable.Viewable]:
    """A view that shows its failure in its own section instead of breaking the page."""
    @functools.wraps(view)
    def wrapper(*args: object) -> pn.viewable.Viewable:
        try:
            return view(*args)
        except Exception as exc:
            log.exception("view %s failed", view.__name__)
            return html_pane(message_html("Không hiển thị được phần này.", [f"{type(exc).__name__}: {exc}"],
                                          "miss"))
    return wrapper


def _skipped_folder(problem: Problem, root: Path) -> str:
    """The folder under ``root`` a problem is about (its name), else the problem's file."""
    try:
        return Path(problem.file).relative_to(root).parts[0]
    except (ValueError, IndexError):
        return problem.file


class Dashboard:
    """The dashboard over the results folders under ``root``: its widgets, views and layout.

    Parameters
    ----------
    root
        The results root (default :func:`results_root`).
    scenarios
        Scenario files offered for a new run (default :func:`scenarios_root`).
    """

    def __init__(self, root: Path | None = None, scenarios: Path | None = None) -> None:
        self.root = results_root() if root is None else Path(root)
        runs, problems = scan_runs(self.root)
        self.runs: dict[str, ScenarioRun] = {r.name: r for r in runs}  # by folder name
        self.shown: dict[str, ScenarioRun] = {}  # the same runs, named for reading
        self._relabel()
        keys = list(self.runs)
        self.choose = pn.widgets.CheckBoxGroup(name="Kịch bản", options=self._options(), value=keys[:MAX_TICKED],
                                               inline=True)
        self.which = pn.widgets.Select(name="Ưu tiên theo xã của kịch bản", options=self._options(),
                                       value=keys[0] if keys else None)
        self.skipped = html_pane(self._skipped_html(problems))
        self.skipped.visible = bool(problems)
        self.new_run = NewRunPanel(self.root, scenarios_root() if scenarios is None else Path(scenarios), self.added)
        self.download = pn.widgets.FileDownload(
            callback=self.report_file, filename="bao_cao_so_sanh_kich_ban.html",
            label="Tải báo cáo cho Ban Chỉ đạo (HTML, dùng được khi không có mạng)", button_type="success")
        header = pn.pane.HTML("<h1>ntm-sim · So sánh kịch bản xây dựng nông thôn mới</h1>"
                              f"<p>Thư mục kết quả: <code>{html.escape(str(self.root))}</code></p>")
        c = self.choose
        self.layout = pn.Column(
            header, self.skipped, pn.bind(_guarded(self.banner), c), c, pn.bind(self.ticked_note, c), self.download,
            pn.pane.Markdown("## Chỉ tiêu chính"), pn.bind(_guarded(self.indicators), c),
            pn.pane.Markdown("## Tiến độ"), pn.bind(_guarded(self.chart), c),
            pn.pane.Markdown("## So với cách phân bổ thông thường (cùng các lần thử mô phỏng)"),
            pn.bind(_guarded(self.compare), c),
            pn.pane.Markdown("## Rủi ro (mô phỏng Monte Carlo)"), pn.bind(_guarded(self.risk), c),
            pn.pane.Markdown("## Ưu tiên theo xã"), self.which, pn.bind(_guarded(self.communes), self.which),
            pn.pane.Markdown("## Nguồn gốc số liệu"), pn.bind(_guarded(self.provenance), c),
            pn.pane.Markdown("## Thử một kịch bản vốn mới"), self.new_run.layout,
        )

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
        lead = (f"Bỏ qua thư mục kết quả không đọc được: <b>{html.escape(', '.join(folders))}</b>. "
                "Các kịch bản khác vẫn hiển thị. Chi tiết:")
        return message_html(lead, [str(p) for p in problems], "warn", element_id="skipped-runs")

    def added(self, key: str) -> None:
        """Read back a run just written as ``root/key`` and tick it (raises InputError if unreadable)."""
        self.runs[key] = load_run(self.root / key)
        self._relabel()
        options = self._options()
        value = [*[v for v in self.choose.value if v != key], key]
        # one update each, so that every view is redrawn once
        self.choose.param.update(options=options, value=value)
        self.which.param.update(options=options, value=self.which.value or key)

    def chosen(self, value: list[str]) -> list[ScenarioRun]:
        """The ticked runs, in the order of the list, named for reading."""
        return [run for key, run in self.shown.items() if key in value]

    def report_file(self) -> io.BytesIO:
        """The committee's report of the ticked runs."""
        runs = self.chosen(self.choose.value)
        if not runs:
            raise ValueError("chọn ít nhất một kịch bản")
        return io.BytesIO(build_report(runs).encode("utf-8"))

    # ----- views -------------------------------------------------------------------------------------

    @staticmethod
    def empty() -> pn.pane.HTML:
        """What a section shows when nothing is ticked."""
        return pn.pane.HTML("<p>Chọn ít nhất một kịch bản (hoặc giải một kịch bản mới ở cuối trang).</p>")

    def ticked_note(self, value: list[str]) -> pn.viewable.Viewable:
        """How many runs are not ticked, when some are not (never a silent drop)."""
        total, ticked = len(self.runs), len([k for k in value if k in self.runs])
        if ticked >= total:
            return html_pane("")
        return html_pane(f'<p class="notice" id="ticked-note">Đang so sánh {ticked} trong {total} kịch bản; '
                         f"{total - ticked} kịch bản chưa được chọn: tích ô ở trên để thêm.</p>")

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
            parts.append(html_pane(message_html(
                "Chưa mô phỏng rủi ro (chỉ có số liệu trên giấy) cho: "
                f"<b>{html.escape('; '.join(bare))}</b>. Chạy <code>ntm-sim simulate</code> vào thư mục kết quả, "
                "hoặc giải lại với số lần thử mô phỏng lớn hơn 0.", (), "notice", element_id="risk-missing")))
        if len(bare) < len(runs):
            parts.append(pn.pane.Bokeh(threshold_chart(runs)))
        return pn.Column(*parts)

    def provenance(self, value: list[str]) -> pn.viewable.Viewable:
        """Where every figure comes from."""
        return html_pane(provenance_html(self.chosen(value))) if value else self.empty()

    def communes(self, key: str | None) -> pn.viewable.Viewable:
        """Each commune's priority and reason, for one run."""
        if key is None or key not in self.shown:
            return self.empty()
        return pn.pane.DataFrame(communes_frame(self.shown[key]), index=False, max_rows=200, escape=True,
                                 stylesheets=["table.panel-df td, table.panel-df th { text-align: left; }"])


def create_app(root: Path | None = None, scenarios: Path | None = None) -> pn.viewable.Viewable:
    """Build the dashboard over the results folders under ``root`` (see :class:`Dashboard`)."""
    return Dashboard(root, scenarios).layout


if __name__.startswith("bokeh"):
    create_app().servable(title="ntm-sim · So sánh kịch bản")
