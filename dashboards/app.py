"""The ntm-sim dashboard: scenarios side by side, for the provincial steering committee.

Thin by design: layout and widgets over :mod:`ntm_sim.analysis.compare`, which reads the
results folders that ``ntm-sim solve`` and ``ntm-sim simulate`` wrote. Serve it with::

    NTM_SIM_RESULTS=results panel serve dashboards/app.py

Every script and style comes from the Panel server itself: nothing is loaded from the
internet (provincial offices often work offline).
"""

from __future__ import annotations

import asyncio
import html
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import panel as pn
from bokeh.models import NumeralTickFormatter

from ntm_sim.analysis.compare import ScenarioRun, load_run, scan_runs
from ntm_sim.errors import InputError
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
from ntm_sim.scenario import load_scenario
from ntm_sim.text import format_number_vi
from ntm_sim.workflow import UPLOAD_SUFFIXES, dataset_from_upload, run_scenario, scenario_dataset

pn.extension(design="native", sizing_mode="stretch_width")


def html_pane(text: str) -> pn.pane.HTML:
    """An HTML pane with the tables' styles (each pane has its own shadow root)."""
    return pn.pane.HTML(text, stylesheets=[CSS])


def results_root() -> Path:
    """Folder of results folders: ``NTM_SIM_RESULTS`` or ``results``."""
    return Path(os.environ.get("NTM_SIM_RESULTS", "results"))


def scenarios_root() -> Path:
    """Folder of scenario files offered as a base: ``NTM_SIM_SCENARIOS`` or ``scenarios``."""
    return Path(os.environ.get("NTM_SIM_SCENARIOS", "scenarios"))


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def new_run_panel(root: Path, on_done: Callable[[str], None]) -> pn.Column:
    """Widgets to solve and simulate a variant of a scenario file into ``root/NAME``."""
    files = {p.stem: p for p in sorted(scenarios_root().glob("*.yaml"))}
    if not files:
        return pn.Column(html_pane(f"<p>Không có tệp kịch bản trong <code>{html.escape(str(scenarios_root()))}"
                                   "</code>.</p>"))
    base = pn.widgets.Select(name="Kịch bản gốc", options=list(files), value=next(iter(files)))
    scale = pn.widgets.FloatSlider(name="Vốn so với kịch bản gốc", start=0.3, end=1.5, step=0.05, value=1.0,
                                   format=NumeralTickFormatter(format="0%"))
    name = pn.widgets.TextInput(name="Tên kết quả (chữ không dấu, số, _ . -)", placeholder="vd. baseline_80")
    draws = pn.widgets.IntInput(name="Số lần thử mô phỏng", value=1000, start=0, end=100_000, step=100)
    limit = pn.widgets.IntInput(name="Thời gian giải tối đa (giây)", value=60, start=5, end=3600, step=5)
    paper = pn.widgets.Checkbox(name="Nhanh: phương án tối ưu trên giấy (không chọn theo mô phỏng)", value=False)
    upload = pn.widgets.FileInput(accept=",".join(UPLOAD_SUFFIXES), multiple=False)
    button = pn.widgets.Button(name="Giải và mô phỏng", button_type="primary")
    status = html_pane("")

    def say(text: str, css: str = "") -> None:
        status.object = f'<div id="run-status" class="{css}">{text}</div>'

    async def run(_event: object) -> None:
        label = (name.value or f"{base.value}_{round(scale.value * 100)}").strip()
        if not SAFE_NAME.match(label):
            say(f"Tên kết quả không hợp lệ: <code>{html.escape(label)}</code> (chỉ chữ không dấu, số, _ . -).",
                "miss")
            return
        if (root / label).exists():
            say(f"Đã có kết quả <code>{html.escape(label)}</code>: chọn tên khác.", "miss")
            return
        button.disabled = True
        say(f"Đang giải và mô phỏng <code>{html.escape(label)}</code>…")
        try:
            sc = load_scenario(files[base.value])
            budget = {**sc.budget.model_dump(), "scale": sc.budget.scale * scale.value}
            pct = format_number_vi(100 * scale.value)
            sc = sc.with_(name=label, title=f"{sc.title or sc.name} – vốn {pct}%", budget=budget)
            if upload.value:
                ds, path = dataset_from_upload(upload.filename, upload.value, root / ".uploads" / label)
                sc = sc.with_(data=str(path))
            else:
                ds = scenario_dataset(sc)
            await asyncio.to_thread(run_scenario, ds, sc, root / label, draws=int(draws.value),
                                    time_limit=float(limit.value), deterministic=bool(paper.value))
        except InputError as exc:
            say(f"<pre>{html.escape(str(exc))}</pre>", "miss")
        except Exception as exc:  # shown to the planner, not lost in the server log
            say(f"Lỗi không mong đợi: <code>{html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc))}</code>", "miss")
        else:
            on_done(label)
            say(f"Xong: <code>{html.escape(label)}</code> đã được thêm vào so sánh.", "met")
        finally:
            button.disabled = False

    button.on_click(run)
    data_note = html_pane("<p>Dữ liệu của tỉnh (tuỳ chọn): tệp Excel theo mẫu <code>ntm-sim template</code>; "
                          "bỏ trống để dùng dữ liệu của kịch bản gốc.</p>")
    return pn.Column(pn.Row(base, scale), data_note, upload, pn.Row(name, draws, limit), paper, button, status)


def create_app(root: Path | None = None) -> pn.viewable.Viewable:
    """Build the dashboard over the results folders under ``root``."""
    root = results_root() if root is None else root
    header = pn.pane.HTML("<h1>ntm-sim · So sánh kịch bản xây dựng nông thôn mới</h1>"
                          f"<p>Thư mục kết quả: <code>{html.escape(str(root))}</code></p>")
    runs, problems = scan_runs(root)
    skipped = pn.pane.Alert(
        "Bỏ qua thư mục kết quả không đọc được:<br>" + "<br>".join(html.escape(str(p)) for p in problems),
        alert_type="warning", visible=bool(problems))
    by_name = {r.name: r for r in runs}
    names = list(by_name)
    choose = pn.widgets.CheckBoxGroup(name="Kịch bản", options=names, value=names[:4], inline=True)
    which = pn.widgets.Select(name="Ưu tiên theo xã của kịch bản", options=names,
                              value=names[0] if names else None)

    def added(label: str) -> None:
        run = load_run(root / label)
        by_name[run.name] = run
        if run.name not in names:
            names.append(run.name)
        # one update each, so that every view is redrawn once
        choose.param.update(options=list(names), value=[*choose.value, run.name])
        which.options = list(names)

    def chosen(value: list[str]) -> list[ScenarioRun]:
        return [by_name[n] for n in names if n in value]

    def report_file() -> io.BytesIO:
        runs = chosen(choose.value)
        if not runs:
            raise ValueError("chọn ít nhất một kịch bản")
        return io.BytesIO(build_report(runs).encode("utf-8"))

    download = pn.widgets.FileDownload(callback=report_file, filename="bao_cao_so_sanh_kich_ban.html",
                                       label="Tải báo cáo cho Ban Chỉ đạo (HTML, dùng được khi không có mạng)",
                                       button_type="success")

    def empty() -> pn.pane.HTML:
        return pn.pane.HTML("<p>Chọn ít nhất một kịch bản (hoặc giải một kịch bản mới ở cuối trang).</p>")

    def banner(value: list[str]) -> pn.viewable.Viewable:
        demo = next((r.summary.get("demo_label") for r in chosen(value) if r.demo), None)
        return html_pane(f'<div class="demo" id="demo-banner">{html.escape(demo)}</div>' if demo else "")

    def indicators(value: list[str]) -> pn.viewable.Viewable:
        return html_pane(indicators_html(chosen(value))) if value else empty()

    def chart(value: list[str]) -> pn.viewable.Viewable:
        return pn.pane.Bokeh(ntm_chart(chosen(value))) if value else empty()

    def compare(value: list[str]) -> pn.viewable.Viewable:
        return html_pane(baselines_html(chosen(value))) if value else empty()

    def risk(value: list[str]) -> pn.viewable.Viewable:
        if not value:
            return empty()
        return pn.Column(html_pane(risk_html(chosen(value))), pn.pane.Bokeh(threshold_chart(chosen(value))))

    def provenance(value: list[str]) -> pn.viewable.Viewable:
        return html_pane(provenance_html(chosen(value))) if value else empty()

    def communes(name: str | None) -> pn.viewable.Viewable:
        if name is None or name not in by_name:
            return empty()
        return pn.pane.DataFrame(communes_frame(by_name[name]), index=False, max_rows=200, escape=True,
                                 stylesheets=["table.panel-df td, table.panel-df th { text-align: left; }"])

    return pn.Column(
        header, skipped, pn.bind(banner, choose), choose, download,
        pn.pane.Markdown("## Chỉ tiêu chính"), pn.bind(indicators, choose),
        pn.pane.Markdown("## Tiến độ"), pn.bind(chart, choose),
        pn.pane.Markdown("## So với cách phân bổ thông thường (cùng các lần thử mô phỏng)"), pn.bind(compare, choose),
        pn.pane.Markdown("## Rủi ro (mô phỏng Monte Carlo)"), pn.bind(risk, choose),
        pn.pane.Markdown("## Ưu tiên theo xã"), which, pn.bind(communes, which),
        pn.pane.Markdown("## Nguồn gốc số liệu"), pn.bind(provenance, choose),
        pn.pane.Markdown("## Thử một kịch bản vốn mới"), new_run_panel(root, added),
    )


if __name__.startswith("bokeh"):
    create_app().servable(title="ntm-sim · So sánh kịch bản")
