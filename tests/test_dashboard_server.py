"""The dashboard on the server, without a browser: runs keyed by folder, damaged folders named,
every value a client sends checked before any work, one run per name, uploads bounded and parsed
in the run's own process, runs without a simulation said so."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ntm_sim.analysis.compare import labelled
from ntm_sim.errors import InputError, Problem
from ntm_sim.model.scenario import load_scenario
from ntm_sim.run.jobs import running
from ntm_sim.run.runs import find_runs, load_run, scan_runs
from suite_settings import ROOT


class App:
    """The dashboard package as these tests use it: pages built from their settings, as ``ntm-sim serve`` builds them.

    A run is started by ``self.start`` and followed every ``self.poll`` seconds: both reach the page
    through its :class:`~ntm_sim.dashboard.settings.DashboardSettings`, never through a global.
    """

    def __init__(self) -> None:
        import panel as pn

        from ntm_sim.dashboard import communes, new_run, page, settings, views
        from ntm_sim.messages import Catalogue
        from ntm_sim.run.jobs import RunJob
        from ntm_sim.run.run_request import MAX_UPLOAD_BYTES, checked_scenario

        self.pn, self.Catalogue, self.checked_scenario = pn, Catalogue, checked_scenario
        self.MAX_TICKED, self.MAX_UPLOAD_BYTES = page.MAX_TICKED, MAX_UPLOAD_BYTES
        self.commune_table, self.CommuneTable = communes.commune_table, communes.CommuneTable
        self._page, self._new_run, self._settings, self.views = page, new_run, settings, views
        self.start, self.poll = RunJob.start, 0.5

    def settings(self, root: Path, scenarios: Path, **more: object):
        return self._settings.DashboardSettings(results=Path(root), scenarios=Path(scenarios),
                                                start_run=lambda r: self.start(r), poll_s=self.poll, **more)

    def Dashboard(self, root: Path, scenarios: Path, t=None):  # noqa: N802  (the class it builds)
        return self._page.Dashboard(self.settings(root, scenarios), t or self.Catalogue("vi"))

    def NewRunPanel(self, root: Path, scenarios: Path, on_done, t=None, **more):  # noqa: N802
        return self._new_run.NewRunPanel(self.settings(root, scenarios, **more), on_done, t or self.Catalogue("vi"))


@pytest.fixture(scope="module")
def app():
    """The dashboard package (``ntm_sim.dashboard``), with Bokeh's registry of models put back afterwards."""
    from bokeh.core.has_props import _default_resolver

    # importing Panel registers its models with Bokeh, whose inline resources would then carry
    # Panel's scripts into every report later built in this worker: put back as it was afterwards
    known = dict(_default_resolver._known_models)
    yield App()
    _default_resolver._known_models = known


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    (folder / "baseline.yaml").write_text(sc.with_(data="lao_cai").to_yaml(), encoding="utf-8")
    return folder


def _copy(compare_root: Path, name: str, dest: Path, **summary: object) -> Path:
    """A copy of one of the ``compare_root`` runs as ``dest``, with summary fields changed.

    Without a ``title`` the copy has none, so that it is shown by its folder's name.
    """
    shutil.copytree(compare_root / name, dest)
    summary = {"title": None, **summary}
    path = dest / "summary.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, **summary}, ensure_ascii=False), encoding="utf-8")
    return dest


def _columns(indicators_html: str) -> list[str]:
    head = re.search(r'<table class="ntm" id="indicators"><thead><tr>(.*?)</tr>', indicators_html)
    assert head is not None
    return re.findall(r'<th scope="col">\(\d+\) (.*?)</th>', head.group(1))


def _communes_cells(indicators_html: str) -> list[str]:
    row = re.search(r'<tr data-indicator="communes_ntm">(.*?)</tr>', indicators_html)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[1:]  # after the target (the name is a row header)
    return [re.sub(r"<span.*", "", re.sub(r'^<span class="mark"[^>]*>.</span> ', "", c)) for c in cells]


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


# ----- 1. runs keyed by folder, shown by title --------------------------------------------------------


def test_two_folders_of_one_scenario_are_two_runs(app, compare_root, tmp_path, scenarios):
    from ntm_sim.text import format_number_vi

    # both solved from the scenario "baseline": once keyed by scenario, they were one column
    a = _copy(compare_root, "baseline", tmp_path / "a")
    b = _copy(compare_root, "budget_cut_20", tmp_path / "b", scenario="baseline")
    dash = app.Dashboard(tmp_path, scenarios)
    assert dash.choose.value == ["a", "b"]
    assert list(dash.choose.options.values()) == ["a", "b"]
    page = app.views.indicators(dash.chosen(dash.choose.value), dash.t).object
    assert _columns(page) == ["a", "b"]
    # each column carries its own folder's figures: the simulated median, and the figure on paper
    median = _summary(a)["headline"]["outcomes"]["communes_ntm"]["median"]
    assert _communes_cells(page) == [format_number_vi(median), format_number_vi(_summary(b)["communes_ntm"])]
    table = dash.communes("b").select(app.pn.widgets.Tabulator)[0]
    assert table.value.equals(app.commune_table(load_run(b)))


def test_a_shared_title_gets_the_folder_beside_it(app, compare_root, tmp_path, scenarios):
    title = "Kế hoạch <2025> & “vốn” của tỉnh"
    _copy(compare_root, "baseline", tmp_path / "a", title=title)
    _copy(compare_root, "budget_cut_20", tmp_path / "b", title=title)
    _copy(compare_root, "budget_cut_20", tmp_path / "c", title="Giảm 20% vốn")
    dash = app.Dashboard(tmp_path, scenarios)
    assert dash.choose.options == {f"{title} (a)": "a", f"{title} (b)": "b", "Giảm 20% vốn": "c"}
    page = app.views.indicators(dash.chosen(dash.choose.value), dash.t).object
    assert "<2025>" not in page  # titles come from files: escaped
    assert _columns(page) == [f"Kế hoạch &lt;2025&gt; &amp; “vốn” của tỉnh ({x})" for x in "ab"] + ["Giảm 20% vốn"]


def test_labels_stay_unique(compare_root, tmp_path):
    one = _copy(compare_root, "budget_cut_20", tmp_path / "x" / "run")
    two = _copy(compare_root, "budget_cut_20", tmp_path / "y" / "run")
    named = _copy(compare_root, "budget_cut_20", tmp_path / "y" / "other", title="run (run)")
    runs = [load_run(p) for p in (one, two, named)]
    assert [r.name for r in runs] == ["run", "run", "other"]  # keys: the folders
    labels = [r.name for r in labelled(runs)]
    assert len(set(labels)) == 3
    assert labels[:2] == [f"run ({one})", f"run ({two})"]


# ----- 2. damaged folders named, never fatal ----------------------------------------------------------


@pytest.fixture
def damaged_root(compare_root, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "results"
    _copy(compare_root, "baseline", root / "good")
    (_copy(compare_root, "budget_cut_20", root / "empty_csv") / "communes.csv").write_text("", encoding="utf-8")
    (_copy(compare_root, "budget_cut_20", root / "not_json") / "summary.json").write_text("{", encoding="utf-8")
    _copy(compare_root, "budget_cut_20", root / "wrong_shape", baselines={"planners_rule": 3})
    _copy(compare_root, "budget_cut_20", root / "locked")
    # the tests run as root here: a folder the server's account cannot read, as the system says it
    real_stat = Path.stat

    def stat(self: Path, *, follow_symlinks: bool = True):
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", stat)
    return root


DAMAGED = {"empty_csv": "communes.csv", "not_json": "summary.json", "wrong_shape": "summary.json",
           "locked": "summary.json"}


def test_damaged_folders_are_problems_naming_folder_and_file(damaged_root):
    runs, problems = scan_runs(damaged_root)
    assert [r.name for r in runs] == ["good"]
    assert sorted(Path(p.file).parent.name for p in problems) == sorted(DAMAGED)
    for p in problems:
        folder = Path(p.file).parent.name
        assert Path(p.file) == damaged_root / folder / DAMAGED[folder], p
    text = {Path(p.file).parent.name: str(p) for p in problems}
    assert "empty file" in text["empty_csv"]
    assert "not valid JSON" in text["not_json"]
    assert "no permission" in text["locked"]
    with pytest.raises(InputError, match="wrong_shape"):
        find_runs(damaged_root)


def test_the_report_command_names_the_damaged_folder_and_exits_2(damaged_root, tmp_path):
    from ntm_sim.cli import app as cli

    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(damaged_root), "--out", str(out)])
    assert result.exit_code == 2, result.output
    for folder, file in DAMAGED.items():
        assert f"{folder}/{file}" in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert not out.exists()
    result = CliRunner().invoke(cli, ["report", str(damaged_root / "empty_csv"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "communes.csv" in result.output


def test_the_dashboard_shows_the_others_and_names_the_damaged(app, damaged_root, scenarios):
    from bokeh.document import Document

    dash = app.Dashboard(damaged_root, scenarios)
    assert dash.choose.value == ["good"]
    assert dash.skipped.visible
    lead = re.search(r"<p>(.*?)</p>", dash.skipped.object).group(1)
    assert lead.startswith("Bỏ qua thư mục kết quả không đọc được")
    assert all(folder in lead for folder in DAMAGED)
    assert dash.skipped.object.count("<li>") == len(DAMAGED)
    assert _columns(app.views.indicators(dash.chosen(dash.choose.value), dash.t).object) == ["good"]
    dash.layout.get_root(Document())  # the whole page is drawn


# ----- 3. every run ticked (up to 8, the others counted) ----------------------------------------------


def test_runs_are_ticked_and_none_is_dropped_silently(app, compare_root, tmp_path, scenarios):
    for i in range(10):
        _copy(compare_root, "budget_cut_20", tmp_path / f"r{i:02d}")
    dash = app.Dashboard(tmp_path, scenarios)
    assert dash.choose.value == [f"r{i:02d}" for i in range(app.MAX_TICKED)]
    note = dash.ticked_note(dash.choose.value).object
    assert f"Đang so sánh {app.MAX_TICKED} trong 10 kịch bản" in note
    assert f"{10 - app.MAX_TICKED} kịch bản chưa được chọn" in note
    assert dash.ticked_note(list(dash.runs)).object == ""
    # a run written meanwhile joins ticked, the others' ticks kept; in the scenario folder's order (a
    # baseline run before the budget cuts: the folder has no order.txt, so its files' names)
    _copy(compare_root, "baseline", tmp_path / "new")
    dash.added("new")
    assert dash.choose.value == ["new", *(f"r{i:02d}" for i in range(app.MAX_TICKED))]
    assert dash.choose.options["new"] == "new"
    assert _columns(app.views.indicators(dash.chosen(dash.choose.value), dash.t).object)[0] == "new"


def test_a_few_runs_are_all_ticked(app, compare_root, scenarios):
    dash = app.Dashboard(compare_root, scenarios)
    assert dash.choose.value == ["baseline", "budget_cut_20"]
    assert dash.ticked_note(dash.choose.value).object == ""


# ----- 5. bounds checked on the server ----------------------------------------------------------------


class FakeJob:
    """A stand-in for :class:`ntm_sim.run.jobs.RunJob`: ``work(request)`` in a thread (InputError: failed)."""

    def __init__(self, request, work) -> None:
        self.request, self.stage, self.state, self.problems = request, "start", "running", []
        self.started, self.finished = time.monotonic(), None
        threading.Thread(target=self._go, args=(work,), daemon=True).start()

    def _go(self, work) -> None:
        try:
            work(self.request)
        except InputError as exc:
            self.problems, state = exc.errors or exc.problems, "failed"
        else:
            state = "done"
        self.finished = time.monotonic()
        self.state = state

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def cancel(self) -> None:
        self.state = "cancelled"


def fake_runs(app, monkeypatch, work) -> None:
    """Runs of the dashboard done by ``work(request)`` in a thread, followed quickly (given in the page's settings)."""
    monkeypatch.setattr(app, "start", lambda request: FakeJob(request, work))
    monkeypatch.setattr(app, "poll", 0.01)


@pytest.fixture
def panel(app, tmp_path, scenarios, monkeypatch):
    """A new-run panel whose runs are recorded instead of done."""
    calls: list = []
    fake_runs(app, monkeypatch, calls.append)
    p = app.NewRunPanel(tmp_path, scenarios, lambda label: None)
    p.calls = calls
    p.name.value = "ok_name"
    return p


@pytest.mark.parametrize(("widget", "value", "says"), [
    pytest.param("draws", 200_000_000, "Số lần thử mô phỏng phải là số nguyên từ 0 đến 100.000 (nhận được "
                 "200.000.000)", id="draws-huge"),
    pytest.param("draws", -1, "Số lần thử mô phỏng phải là số nguyên", id="draws-negative"),
    pytest.param("draws", None, "Số lần thử mô phỏng phải là số nguyên", id="draws-empty"),
    pytest.param("limit", 10**9, "Thời gian giải tối đa phải từ 5 đến 3.600 giây", id="limit-huge"),
    pytest.param("limit", 1, "Thời gian giải tối đa phải từ 5 đến 3.600 giây", id="limit-small"),
    pytest.param("scale", float("nan"), "Vốn so với kịch bản gốc phải từ 30% đến 150%", id="scale-nan"),
    pytest.param("scale", float("inf"), "Vốn so với kịch bản gốc phải từ 30% đến 150%", id="scale-inf"),
    pytest.param("scale", 9.0, "Vốn so với kịch bản gốc phải từ 30% đến 150%", id="scale-huge"),
    pytest.param("base", "../../etc/passwd", "Kịch bản gốc “../../etc/passwd” không có trong thư mục kịch bản",
                 id="base-unknown"),
    pytest.param("name", "a" * 300, "Tên kết quả dài 300 ký tự: tối đa 64 ký tự", id="name-300-chars"),
    pytest.param("name", "a\nb", "Tên kết quả có ký tự điều khiển (U+000A)", id="name-newline"),
    pytest.param("name", "%%% …", "Tên kết quả cần ít nhất một chữ cái hoặc chữ số", id="name-no-letters"),
])
def test_out_of_bounds_values_are_refused_before_any_work(panel, widget, value, says):
    getattr(panel, widget).value = value  # as a client can, through the Bokeh model
    asyncio.run(panel.run())
    status = panel.status.object
    assert "Không chạy được: thông tin nhập chưa hợp lệ." in status
    assert html_escaped(says) in status
    assert panel.calls == []
    assert not panel.button.disabled


def html_escaped(text: str) -> str:
    import html

    return html.escape(text)


def test_values_at_the_bounds_are_accepted(panel):
    panel.draws.value, panel.limit.value = 100_000, 3600
    panel.scale.value = 0.3 + 24 * 0.05  # a slider's last step: 1.5000000000000002
    panel.name.value = "A-z_0.9" + "x" * 57  # 64 characters
    asyncio.run(panel.run())
    assert len(panel.calls) == 1, panel.status.object
    req = panel.calls[0]
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    sc = yaml.safe_load(req.scenario_yaml)
    assert (req.draws, req.time_limit, sc["budget"]["scale"], sc["name"]) == (
        100_000, 3600.0, 1.5 * base.budget.scale, panel.name.value)
    assert req.out == str(panel.root / panel.name.value)
    assert req.upload is None
    assert "Xong" in panel.status.object


@pytest.mark.parametrize(("name", "folder"), [
    ("Giảm vốn 20% – Đồng Tuyển", "Giam_von_20_Dong_Tuyen"),
    (".hidden", "hidden"),  # never a hidden folder (uploads, runs being written)
    ("../../etc/passwd", "etc_passwd"),  # never outside the results root
    ("a/b\\c", "a_b_c"),
])
def test_a_name_with_diacritics_is_the_title_and_its_folder_is_safe(panel, name, folder):
    panel.name.value = name
    asyncio.run(panel.run())
    req = panel.calls[0]
    assert Path(req.out) == panel.root / folder
    assert yaml.safe_load(req.scenario_yaml)["title"] == name  # shown as typed
    assert f"<code>{html_escaped(name)}</code>" in panel.status.object


def test_two_names_of_one_folder_are_refused_with_the_folder(panel):
    (panel.root / "Giam_von").mkdir()
    panel.name.value = "Giảm vốn"
    asyncio.run(panel.run())
    assert panel.calls == []
    assert "Đã có kết quả <code>Giảm vốn</code> (thư mục <code>Giam_von</code>)" in panel.status.object


def test_the_default_name_is_checked_too(panel):
    panel.name.value = ""
    panel.scale.value = 0.8
    asyncio.run(panel.run())
    assert Path(panel.calls[0].out).name == "baseline_80"


# ----- 4. uploads bounded, parsed off the event loop --------------------------------------------------


def test_a_big_upload_is_refused_before_parsing(panel, app):
    panel.upload.filename = "so_lieu.xlsx"
    panel.upload.value = b"\0" * (app.MAX_UPLOAD_BYTES + 1)
    asyncio.run(panel.run())
    assert "Không chạy được: tệp dữ liệu tải lên không dùng được." in panel.status.object
    assert "quá giới hạn 10 MB" in panel.status.object
    assert panel.calls == []


def test_an_upload_is_parsed_in_the_run_s_own_process(app, tmp_path, scenarios, monkeypatch):
    """Not on the page's event loop: the child process reads it, and names the file when it is broken."""
    monkeypatch.setattr(app, "poll", 0.05)
    p = app.NewRunPanel(tmp_path, scenarios, lambda label: None)
    p.name.value = "tinh"
    p.upload.filename, p.upload.value = "so_lieu.xlsx", b"PK\3\4"
    asyncio.run(p.run())
    status = p.status.object
    assert "Không chạy được: dữ liệu chưa dùng được" in status
    assert "<li>tệp so_lieu.xlsx: không mở được như một tệp Excel" in status  # in Vietnamese
    assert not (tmp_path / "tinh").exists()
    assert not (tmp_path / ".uploads" / "tinh").exists()  # a refused file is not kept


# ----- 6. one run per name; refusals readable ---------------------------------------------------------


def test_a_second_run_of_a_name_under_way_is_refused_at_once(app, compare_root, tmp_path, scenarios, monkeypatch):
    started, finish = threading.Event(), threading.Event()
    calls: list[str] = []

    def fake_run(request):
        calls.append(Path(request.out).name)
        started.set()
        assert finish.wait(60)
        shutil.copytree(compare_root / "baseline", request.out)

    fake_runs(app, monkeypatch, fake_run)
    # two sessions of one server: two pages, each with its own widgets
    one, two = app.Dashboard(tmp_path, scenarios), app.Dashboard(tmp_path, scenarios)
    for d in (one, two):
        d.new_run.name.value = "same"
        d.new_run.draws.value = 0

    async def clicks() -> None:
        first = asyncio.create_task(one.new_run.run())
        while not started.is_set():
            await asyncio.sleep(0.01)
        assert one.new_run.button.disabled
        await asyncio.sleep(0.05)
        assert "Đang chạy <code>same</code>" in one.new_run.status.object
        assert one.new_run.stop.visible  # it can be stopped
        await asyncio.wait_for(two.new_run.run(), 5)  # at once, while the first is under way
        await one.new_run.run()  # a click queued in the same session: ignored
        assert "Đang chạy <code>same</code>" in one.new_run.status.object
        finish.set()
        await first

    asyncio.run(clicks())
    assert calls == ["same"]
    assert "<code>same</code> đang được giải trong một phiên khác" in two.new_run.status.object
    assert re.search(r"Xong lúc \d\d:\d\d \(giờ Việt Nam\): <code>same</code>", one.new_run.status.object)
    assert not one.new_run.button.disabled
    assert "same" in one.choose.value
    assert not one.new_run.stop.visible
    assert not running(str((tmp_path / "same").absolute()))


def test_a_run_writing_the_folder_elsewhere_is_shown_in_vietnamese(app, tmp_path, scenarios, monkeypatch):
    """The run's child process finds the folder locked by another process (here: this one)."""
    from ntm_sim.storage import reserve

    monkeypatch.setattr(app, "poll", 0.05)
    p = app.NewRunPanel(tmp_path, scenarios, lambda label: None)
    p.name.value = "held"
    with reserve(tmp_path / "held"):  # another run (here: this thread) holds the folder
        asyncio.run(p.run())
    status = p.status.object
    assert "<p>Không chạy được: một lượt chạy khác" in status
    assert "<ul><li>" in status
    assert "một lượt chạy ntm-sim khác đang ghi vào đây; chưa ghi gì" in status  # the reader's message, translated
    assert "<pre>" not in status
    assert not p.button.disabled
    assert not running(str((tmp_path / "held").absolute()))


def test_problems_are_escaped(app, tmp_path, scenarios, monkeypatch):
    def bad(request):
        raise InputError([Problem("<script>alert(1)</script>.xlsx", "a & b", row=3, column="E")])

    fake_runs(app, monkeypatch, bad)
    p = app.NewRunPanel(tmp_path, scenarios, lambda label: None)
    p.name.value = "esc"
    asyncio.run(p.run())
    assert "<script>" not in p.status.object
    assert "<li>tệp &lt;script&gt;alert(1)&lt;/script&gt;.xlsx, dòng 3, cột E: a &amp; b</li>" in p.status.object


# ----- 7. a run without simulation is said so ---------------------------------------------------------


def test_a_run_without_simulation_is_named_in_the_risk_section(app, compare_root, scenarios):
    dash = app.Dashboard(compare_root, scenarios)

    def risk(value: list[str]) -> str:
        return "".join(o.object for o in app.views.risk(dash.chosen(value), dash.t).objects
                       if isinstance(o, app.pn.pane.HTML))

    both = risk(["baseline", "budget_cut_20"])
    notice = re.search(r'<div id="risk-missing".*?</div>', both, re.DOTALL).group(0)
    assert "Chưa mô phỏng rủi ro" in notice
    title = load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml").title
    assert f"<b>{title}</b>" in notice  # only the run without simulation, by its title
    assert 'id="risk"' in both  # the simulated run keeps its row
    assert "risk-missing" not in risk(["baseline"])
    assert "Chưa mô phỏng rủi ro" in risk(["budget_cut_20"])


def test_a_run_written_but_unreadable_is_said_so(app, tmp_path, scenarios, monkeypatch):
    def broken(request):
        out = Path(request.out)
        out.mkdir()
        (out / "summary.json").write_text("{", encoding="utf-8")

    fake_runs(app, monkeypatch, broken)
    dash = app.Dashboard(tmp_path, scenarios)
    dash.new_run.name.value = "half"
    asyncio.run(dash.new_run.run())
    status = dash.new_run.status.object
    assert "Đã ghi kết quả <code>half</code> nhưng không đọc lại được" in status
    assert "không phải JSON hợp lệ" in status  # the reader's message, in the page's language
    assert "Xong" not in status
    assert "half" not in dash.choose.value


# ----- 8. the commune table ---------------------------------------------------------------------------


def test_the_commune_table_in_billions_with_criteria_by_name(app, compare_root):
    run = load_run(compare_root / "budget_cut_20")
    table = app.commune_table(run)
    c = run.communes.set_index("commune_name")
    short = table[table["Năm đạt chuẩn"] == "chưa đạt"].iloc[0]
    assert short["Vốn cần (tỷ đồng)"] == pytest.approx(c.loc[short["Xã"], "cost_to_complete_mvnd"] / 1000, abs=0.05)
    code = re.split(r"[;,\s]+", str(c.loc[short["Xã"], "missing_criteria"]))[0]
    assert re.search(rf"[^(]+ \({code}\)", short["Tiêu chí còn thiếu cuối kỳ"])  # a name, then the code
    english = app.commune_table(run, app.Catalogue("en"))
    assert "Money needed (billion VND)" in english.columns
    # the rows with something to plan for: not counted at the start, or recognised but short of criteria
    assert english["Reason"].iloc[0] == run.communes.sort_values("rank").pipe(
        lambda f: f[f["year_ntm"].isna() | (f["year_ntm"] >= run.summary["years"][0])
                    | (f["cost_to_complete_mvnd"] > 0)])["reason_en"].iloc[0]


def test_the_commune_table_filters_and_downloads_text_as_text(app, compare_root, tmp_path):
    import openpyxl

    run = load_run(_copy(compare_root, "budget_cut_20", tmp_path / "cut"))
    row = run.communes.index[run.communes["year_ntm"].isna()][0]
    run.communes.loc[row, "commune_name"] = "=HYPERLINK(\"http://x\")"  # from a planner's file: never a formula
    view = app.CommuneTable(run)
    district = run.communes.loc[row, "district"]
    view.district.value = district
    shown = view.table.current_view
    assert set(shown["Huyện"]) == {district}
    view.search.value_input = "hyperlink"
    assert list(view.table.current_view["Xã"]) == ["=HYPERLINK(\"http://x\")"]
    view.search.value_input = ""
    wb = openpyxl.load_workbook(view.excel())
    cells = [c.value for c in wb.active["B"]][1:]
    assert len(cells) == len(shown)
    assert "'=HYPERLINK(\"http://x\")" in cells  # the OWASP rule, as in every workbook the tool writes
    assert all(c.data_type != "f" for c in wb.active["B"])  # no formula cell


# ----- 9. the scenario editor -------------------------------------------------------------------------


def _edit(panel, *, target=None, commune=None, action="forbid", source=None, pct=100) -> None:
    e = panel.editor
    e.target.value = target
    if commune:
        e.commune.options = {"(none)": "", "Y Tý – Huyện Bát Xát": commune}
        e.commune.value, e.action.value = commune, action
    if source:
        e.source.options = {"(none)": "", "Ngân sách tỉnh": source}
        e.source.value, e.source_pct.value = source, pct


def test_an_edited_scenario_is_run_as_edited(panel):
    _edit(panel, target=90, commune="2701", action="forbid", source="ns_tinh", pct=50)
    asyncio.run(panel.run())
    assert len(panel.calls) == 1, panel.status.object
    sc = yaml.safe_load(panel.calls[0].scenario_yaml)
    assert sc["targets"]["communes_ntm"] == 90
    assert {"commune": "2701", "action": "forbid"} in sc["locks"]
    assert sc["budget"]["source_scale"] == {"ns_tinh": 0.5}


def test_an_invalid_edit_is_refused_as_the_cli_would(panel):
    _edit(panel, target=-5)  # a client may send what the widget's bounds forbid
    asyncio.run(panel.run())
    assert panel.calls == []
    status = panel.status.object
    assert "Kịch bản chưa hợp lệ:" in status
    assert "tệp kịch bản đã sửa: mục ‘targets.communes_ntm’: phải lớn hơn hoặc bằng 0" in status


def test_the_edited_scenario_downloads_once_checked(panel, app):
    _edit(panel, target=90, source="ns_tinh", pct=120)
    assert panel.save.disabled  # not before it is checked
    panel.check_scenario()
    assert "Kịch bản hợp lệ" in panel.editor.status.object
    assert not panel.save.disabled
    text = panel.scenario_file().read().decode("utf-8")
    sc = app.checked_scenario(text, "x", Path("x.yaml"))  # what `ntm-sim solve` would read
    assert sc.targets.communes_ntm == 90
    assert sc.budget.source_scale == {"ns_tinh": 1.2}
    panel.editor.target.value = 91
    assert panel.save.disabled  # changed: check again


def test_money_by_year_carry_over_objective_and_preset_are_edited(panel, app):
    e = panel.editor
    e.year.options = {"(none)": "", "2023": "2023"}
    e.year.value, e.year_pct.value = "2023", 60
    e.carry.value, e.mode.value, e.preset.value = "off", "min-cost", "disaster_2024"
    panel.check_scenario()
    assert "Kịch bản hợp lệ" in panel.editor.status.object, panel.editor.status.object
    sc = app.checked_scenario(panel.scenario_file().read().decode("utf-8"), "x", Path("x.yaml"))
    assert sc.budget.year_scale == {2023: 0.6}
    assert sc.budget.carry_over is False
    assert sc.mode == "min-cost"
    assert sc.uncertainty.preset == "disaster_2024"
    assert sc.uncertainty == type(sc.uncertainty).named("disaster_2024")  # the preset whole, not mixed


def test_a_lock_of_one_year_and_a_forced_year_without_a_criterion(panel, app):
    e = panel.editor
    e.commune.options = {"(none)": "", "Y Tý – Huyện Bát Xát": "2701"}
    e.lock_year.options = {"(cả kỳ)": "", "2022": "2022"}
    e.commune.value, e.action.value, e.lock_year.value = "2701", "forbid", "2022"
    panel.check_scenario()
    sc = app.checked_scenario(panel.scenario_file().read().decode("utf-8"), "x", Path("x.yaml"))
    assert {"commune": "2701", "year": 2022, "action": "forbid"} in [
        lock.model_dump(exclude_none=True) for lock in sc.locks]
    e.action.value = "force"  # a year is forced only for one criterion's project: named as the CLI names it
    panel.check_scenario()
    assert "Kịch bản chưa hợp lệ:" in panel.editor.status.object
    assert panel.save.disabled


def test_a_checked_scenario_is_saved_as_a_new_file_only_when_allowed(app, scenarios, monkeypatch, tmp_path):
    folder = tmp_path / "scenarios"
    shutil.copytree(scenarios, folder)
    before = sorted(folder.iterdir())

    def edited(allowed: bool):
        p = app.NewRunPanel(tmp_path / "results", folder, lambda label: None, save_scenarios=allowed)
        p.name.value = "Giảm vốn năm 2023"
        p.editor.target.value = 90
        p.check_scenario()
        return p

    panel = edited(False)
    monkeypatch.setenv("NTM_SIM_SAVE_SCENARIOS", "1")  # the environment allows nothing: the page's settings do
    assert not panel.store.visible  # not allowed: download only
    panel.store_scenario()
    assert sorted(folder.iterdir()) == before
    panel = edited(True)
    assert panel.store.visible
    panel.store_scenario()
    tmp_path = folder
    saved = tmp_path / "Giam_von_nam_2023.yaml"
    assert load_scenario(saved).targets.communes_ntm == 90
    assert "Giam_von_nam_2023" in panel.files
    assert "Đã lưu" in panel.editor.status.object
    before = saved.read_bytes()
    panel.editor.target.value = 80
    panel.check_scenario()
    panel.store_scenario()  # the same name again: never overwritten
    assert saved.read_bytes() == before
    assert "Chưa lưu" in panel.editor.status.object
    assert str(saved) in panel.editor.status.object
