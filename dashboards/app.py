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
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, NumeralTickFormatter, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from ntm_sim.analysis.compare import (
    ScenarioRun,
    baseline_table,
    indicator_table,
    load_run,
    ntm_by_year,
    risk_table,
    scan_runs,
    threshold_curves,
)
from ntm_sim.errors import InputError
from ntm_sim.scenario import load_scenario
from ntm_sim.text import format_number_vi, format_percent_vi
from ntm_sim.workflow import UPLOAD_SUFFIXES, dataset_from_upload, run_scenario, scenario_dataset

pn.extension(design="native", sizing_mode="stretch_width")

CSS = """
table.ntm { border-collapse: collapse; font-size: 14px; }
table.ntm th, table.ntm td { border: 1px solid #ccc; padding: 4px 8px; }
table.ntm td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.ntm td.met { background: #e6f4ea; }
table.ntm td.miss { background: #fce8e6; }
.demo { background: #fff3cd; border: 2px solid #d39e00; padding: 6px 10px; font-weight: bold; }
"""


def html_pane(text: str) -> pn.pane.HTML:
    """An HTML pane with the tables' styles (each pane has its own shadow root)."""
    return pn.pane.HTML(text, stylesheets=[CSS])


def results_root() -> Path:
    """Folder of results folders: ``NTM_SIM_RESULTS`` or ``results``."""
    return Path(os.environ.get("NTM_SIM_RESULTS", "results"))


def _cell(value: float, decimals: int, css: str = "num") -> str:
    return f'<td class="{css}">{html.escape(format_number_vi(value, decimals))}</td>'


def indicators_html(runs: list[ScenarioRun]) -> str:
    """Headline indicators, one column per scenario; green where the target is met."""
    table = indicator_table(runs)
    head = "".join(f"<th>{html.escape(r.name)}</th>" for r in runs)
    rows = []
    for _, row in table.iterrows():
        target = row["target"]
        cells = []
        for r in runs:
            v = row[r.name]
            css = "num"
            if not pd.isna(target):
                css += " met" if v >= target - 1e-9 else " miss"
            cells.append(_cell(v, int(row["decimals"]), css))
        t = "" if pd.isna(target) else format_number_vi(target, int(row["decimals"]))
        rows.append(f'<tr data-indicator="{row["indicator"]}"><td>{html.escape(row["label_vi"])}</td>'
                    f'<td class="num">{t}</td>{"".join(cells)}</tr>')
    return (f'<table class="ntm" id="indicators"><thead><tr><th>Chỉ tiêu</th><th>Mục tiêu</th>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def baselines_html(runs: list[ScenarioRun]) -> str:
    """The optimum against the usual rules, per scenario."""
    table = baseline_table(runs)
    rows = []
    for _, r in table.iterrows():
        gain = "" if r["plan"] == "optimum" else f'+{format_number_vi(r["optimum_gain"])}'
        rows.append(f'<tr><td>{html.escape(r["scenario"])}</td><td>{html.escape(r["plan_vi"])}</td>'
                    f'{_cell(r["communes_ntm"], 0)}{_cell(r["total_cost_mvnd"], 0)}<td class="num">{gain}</td></tr>')
    return ('<table class="ntm" id="baselines"><thead><tr><th>Kịch bản</th><th>Cách phân bổ</th>'
            '<th>Số xã đạt chuẩn</th><th>Vốn sử dụng (triệu đồng)</th><th>Phương án tối ưu hơn</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def risk_html(runs: list[ScenarioRun]) -> str:
    """Monte Carlo spread and target probabilities, per scenario with a simulation."""
    table = risk_table(runs)
    if table.empty:
        return "<p>Chưa có kết quả mô phỏng (chạy <code>ntm-sim simulate … --out KẾT_QUẢ/simulation</code>).</p>"
    target = next((r.summary.get("targets", {}).get("communes_ntm", {}).get("target") for r in runs), None)
    label = f"Xác suất đạt ≥ {format_number_vi(target)} xã" if target else "Xác suất đạt mục tiêu số xã"
    rows = []
    for _, r in table.iterrows():
        rows.append(f'<tr><td>{html.escape(r["scenario"])}</td>{_cell(r["draws"], 0)}{_cell(r["mean"], 1)}'
                    f'<td class="num">{format_number_vi(r["p5"])}–{format_number_vi(r["p95"])}</td>'
                    f'<td class="num">{format_percent_vi(r["p_target"])}</td>'
                    f'<td class="num">{format_percent_vi(r["p_all"])}</td>'
                    f'<td>{html.escape(r["failure_vi"])}</td></tr>')
    return ('<table class="ntm" id="risk"><thead><tr><th>Kịch bản</th><th>Số lần thử</th>'
            f'<th>Số xã đạt chuẩn (bình quân)</th><th>Khoảng 5–95%</th><th>{label}</th>'
            '<th>Xác suất đạt mọi mục tiêu</th><th>Khi nào kế hoạch hụt</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def status_vi(summary: dict) -> str:
    """Solver status in words: which stages are proven optimal, which stopped at the time limit."""
    if summary.get("proven_optimal"):
        return "tối ưu (đã chứng minh)"
    proven, open_ = [], []
    for st in summary.get("stages", []):
        label = html.escape(str(st.get("name_vi", st["name"])))
        if st.get("proven_optimal"):
            proven.append(label)
        else:
            gap = st.get("mip_gap")
            gap_txt = "" if gap is None or pd.isna(gap) else f" (sai số {format_percent_vi(gap, 2)})"
            open_.append(label + gap_txt)
    parts = ["dừng do hết thời gian, có phương án"]
    if proven:
        parts.append("đã chứng minh tối ưu: " + ", ".join(proven))
    if open_:
        parts.append("chưa chứng minh: " + ", ".join(open_))
    return "; ".join(parts)


def provenance_html(runs: list[ScenarioRun]) -> str:
    """Where each figure comes from: hashes, solver status and gap, seed."""
    rows = []
    for r in runs:
        m, s = r.manifest, r.summary
        gap = s.get("mip_gap")
        gap_txt = "–" if gap is None or pd.isna(gap) else format_percent_vi(gap, 2)
        seed = r.simulation["seed"] if r.simulation else "–"
        scen = str(m.get("scenario", {}).get("hash", ""))[:12]
        data = str(m.get("data", {}).get("hash", ""))[:12]
        rows.append(f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(str(r.folder))}</td>"
                    f"<td>{status_vi(s)}</td><td>{gap_txt}</td>"
                    f"<td>{html.escape(str(s.get('solver')))} {html.escape(str(s.get('solver_version')))}</td>"
                    f"<td><code>{scen}</code></td><td><code>{data}</code></td><td>{seed}</td></tr>")
    return ('<table class="ntm" id="provenance"><thead><tr><th>Kịch bản</th><th>Thư mục</th><th>Trạng thái</th>'
            '<th>Sai số MIP (chỉ tiêu chính)</th><th>Bộ giải</th><th>Mã kịch bản</th><th>Mã dữ liệu</th>'
            '<th>Hạt giống</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')


def ntm_chart(runs: list[ScenarioRun]) -> figure:
    """Communes NTM by year: each scenario's optimum, and the target line."""
    data = ntm_by_year(runs, baselines=False)
    p = figure(height=320, title="Số xã đạt chuẩn NTM theo năm (phương án tối ưu)", x_axis_label="Năm",
               y_axis_label="Số xã", toolbar_location=None, sizing_mode="stretch_width")
    for i, run in enumerate(runs):
        d = data[data["scenario"] == run.name]
        src = ColumnDataSource(d)
        color = Category10_10[i % 10]
        p.line("year", "communes_ntm", source=src, color=color, line_width=2, legend_label=run.name)
        p.scatter("year", "communes_ntm", source=src, color=color, size=7)
    target = next((r.summary.get("targets", {}).get("communes_ntm", {}).get("target") for r in runs), None)
    if target:
        p.add_layout(Span(location=target, dimension="width", line_dash="dashed", line_color="#444"))
    p.xaxis.ticker = sorted(data["year"].unique().tolist()) if len(data) else []
    p.legend.location = "top_left"
    return p


def threshold_chart(runs: list[ScenarioRun]) -> figure:
    """P(communes NTM ≥ k) for each simulated scenario."""
    data = threshold_curves(runs)
    p = figure(height=320, title="Xác suất đạt ít nhất k xã (mô phỏng)", x_axis_label="k (số xã)",
               y_axis_label="Xác suất", toolbar_location=None, sizing_mode="stretch_width", y_range=(0, 1.02))
    for i, run in enumerate(runs):
        d = data[data["scenario"] == run.name]
        if len(d):
            p.step("k", "probability", source=ColumnDataSource(d), color=Category10_10[i % 10], line_width=2,
                   legend_label=run.name, mode="after")
    p.yaxis.formatter = NumeralTickFormatter(format="0%")  # whole percentages: no decimal mark to localise
    if p.legend:
        p.legend.location = "bottom_left"
    return p


def communes_frame(run: ScenarioRun) -> pd.DataFrame:
    """The per-commune priorities of a run, communes not NTM at the start first, by rank."""
    c = run.communes.copy()
    c = c[c["year_ntm"].isna() | (c["year_ntm"] >= run.summary["years"][0])] if "year_ntm" in c else c
    c = c.sort_values("rank")
    cols = {"rank": "Thứ tự", "commune_name": "Xã", "district": "Huyện", "criteria_met_baseline": "Tiêu chí đầu kỳ",
            "cost_to_complete_mvnd": "Vốn cần (triệu đồng)", "year_ntm": "Năm đạt chuẩn", "reason_vi": "Lý do"}
    out = c[list(cols)].rename(columns=cols)
    out["Vốn cần (triệu đồng)"] = [format_number_vi(v) for v in out["Vốn cần (triệu đồng)"]]
    out["Năm đạt chuẩn"] = ["chưa đạt" if pd.isna(v) else str(int(v)) for v in out["Năm đạt chuẩn"]]
    return out


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
    limit = pn.widgets.IntInput(name="Thời gian giải tối đa (giây)", value=30, start=5, end=3600, step=5)
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
                                    time_limit=float(limit.value))
        except InputError as exc:
            say(f"<pre>{html.escape(str(exc))}</pre>", "miss")
        else:
            on_done(label)
            say(f"Xong: <code>{html.escape(label)}</code> đã được thêm vào so sánh.", "met")
        finally:
            button.disabled = False

    button.on_click(run)
    data_note = html_pane("<p>Dữ liệu của tỉnh (tuỳ chọn): tệp Excel theo mẫu <code>ntm-sim template</code>; "
                          "bỏ trống để dùng dữ liệu của kịch bản gốc.</p>")
    return pn.Column(pn.Row(base, scale), data_note, upload, pn.Row(name, draws, limit), button, status)


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
        choose.options = list(names)
        choose.value = [*choose.value, run.name]
        which.options = list(names)

    def chosen(value: list[str]) -> list[ScenarioRun]:
        return [by_name[n] for n in names if n in value]

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
        header, skipped, pn.bind(banner, choose), choose,
        pn.pane.Markdown("## Chỉ tiêu chính"), pn.bind(indicators, choose),
        pn.pane.Markdown("## Tiến độ"), pn.bind(chart, choose),
        pn.pane.Markdown("## So với cách phân bổ thông thường"), pn.bind(compare, choose),
        pn.pane.Markdown("## Rủi ro (mô phỏng Monte Carlo)"), pn.bind(risk, choose),
        pn.pane.Markdown("## Ưu tiên theo xã"), which, pn.bind(communes, which),
        pn.pane.Markdown("## Nguồn gốc số liệu"), pn.bind(provenance, choose),
        pn.pane.Markdown("## Thử một kịch bản vốn mới"), new_run_panel(root, added),
    )


if __name__.startswith("bokeh"):
    create_app().servable(title="ntm-sim · So sánh kịch bản")
