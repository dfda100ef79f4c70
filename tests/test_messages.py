"""The catalogue: two languages with the same texts, problems readable in the user's language, safe folder names."""

from __future__ import annotations

import ast
import json
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.data.io.values import EXPECTED_MET
from ntm_sim.errors import InputError, Problem, Text
from ntm_sim.messages import (
    MAX_ITEMS,
    MESSAGES,
    PROBLEMS,
    Catalogue,
    folder_name,
    joined,
    problem_line,
    pydantic_text,
    vietnam_time,
)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_both_languages_hold_every_text_with_the_same_fields():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"vi", "en"}, key
        assert _fields(entry["vi"]) == _fields(entry["en"]), key
        assert entry["vi"] != entry["en"] or key.startswith("problem."), key


def test_a_problem_reads_in_the_page_s_language():
    p = Problem("so_lieu.xlsx", Text("status.unrecognised", criterion="TC2"), sheet="Kết quả tiêu chí", row=9,
                column="E (TC2)", expected=EXPECTED_MET, found="có lẽ")  # as the readers write it
    assert Catalogue("vi").problem(p) == ("tệp so_lieu.xlsx, trang ‘Kết quả tiêu chí’, dòng 9, cột E (TC2): không "
                                          "hiểu trạng thái của TC2; cần ‘Đạt’ hoặc ‘Chưa đạt’ (hoặc x, 1/0); nhận "
                                          "được ‘có lẽ’")
    assert Catalogue("en").problem(p).startswith("file so_lieu.xlsx, sheet ‘Kết quả tiêu chí’, row 9, column E (TC2): "
                                                 "unrecognised status for TC2")
    unknown = Problem("x.csv", "something new went wrong")
    assert Catalogue("vi").problem(unknown) == "tệp x.csv: something new went wrong"  # kept, never lost


def test_a_blank_template_gives_a_short_list(tmp_path):
    """2,413 problems on 47,000 px before: one line per column, at most 30 lines."""
    from ntm_sim.data.io.excel_write import write_template
    from ntm_sim.data.registry import load_dataset
    from ntm_sim.data.units import lao_cai_units

    path = tmp_path / "mau_trong.xlsx"
    write_template(path)  # what `ntm-sim template` writes: the communes listed, every status empty
    with pytest.raises(InputError) as err:
        load_dataset(path, units=lao_cai_units())
    problems = err.value.problems
    assert len(problems) > 1000
    lines = Catalogue("vi").problems(problems)
    assert len(lines) <= MAX_ITEMS + 1
    assert any("trạng thái của TC1 để trống" in line and " dòng (" in line for line in lines), lines[:3]
    if len(lines) == MAX_ITEMS + 1:
        assert lines[-1].startswith("… và ")


def test_folder_names_are_safe():
    assert folder_name("Giảm vốn 20% – Đồng Tuyển") == "Giam_von_20_Dong_Tuyen"
    assert folder_name("../..") == ""
    assert folder_name(".an") == "an"
    assert folder_name("Bắc Hà/Si Ma Cai") == "Bac_Ha_Si_Ma_Cai"
    assert len(folder_name("ă" * 200)) == 64


def test_times_are_in_vietnam_time():
    moment = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    assert vietnam_time(moment).strftime("%d/%m %H:%M") == "02/12 00:30"


def test_numbers_follow_the_language():
    assert Catalogue("vi").number(1234.5, 1) == "1.234,5"
    assert Catalogue("en").number(1234.5, 1) == "1,234.5"
    assert Catalogue.of("fr").lang == "vi"


# ----- problems: one catalogue, the user's language (issue 22, #8 and #18) -------------------------

SRC = Path(__file__).resolve().parents[1] / "src" / "ntm_sim"
ROOT = Path(__file__).resolve().parents[1]
# English words that never stand in a Vietnamese sentence of ours (codes, options and data aside)
ENGLISH = re.compile(r"\b(the|of|is|are|not|and|or|with|for|be|was|expected|found|file|sheet|row|column|"
                     r"cannot|must|has|have|this|that|which|it|by|from|at|as|on|per|each|every|more|than|only|"
                     r"should|would|missing|unknown|empty|error|errors|warning|warnings|too|large)\b", re.IGNORECASE)
# what may stand in a Vietnamese text: quoted data, fields, options, keys and paths, names of formats and programs
_NOT_WORDS = re.compile(r"'[^']*'|‘[^’]*’|“[^”]*”|\"[^\"]*\"|`[^`]*`|\{[^}]*\}|--[\w-]+|\b[\w-]+(?:[./][\w-]+)+\b|"
                        r"\b\w+_\w+\b|https?://\S+")


def english_in(text: str) -> list[str]:
    """English words left in ``text`` once quoted data, fields, options and paths are set aside."""
    return ENGLISH.findall(_NOT_WORDS.sub(" ", text))


def _fields_of(template: str) -> set[str]:
    return {f.split(":")[0].split("!")[0] for _, f, _, _ in string.Formatter().parse(template) if f}


def _samples(key: str) -> dict[str, object]:
    fields = _fields_of(PROBLEMS[key]["en"]) | _fields_of(PROBLEMS[key]["vi"])
    return {f: 7 for f in fields}


def test_every_problem_text_is_in_both_languages_with_the_same_fields():
    assert not set(PROBLEMS) & set(MESSAGES)
    for key, entry in PROBLEMS.items():
        assert set(entry) - {"page"} == {"en", "vi"}, key
        if key.startswith("pydantic.") or key == "text.in_language":
            continue  # English: pydantic's own words; a text given in both languages
        assert _fields_of(entry["vi"]) == _fields_of(entry["en"]), key
        if "page" in entry:
            assert set(entry["page"]) == {"en", "vi"}, key
            assert _fields_of(entry["page"]["vi"]) == _fields_of(entry["page"]["en"]) <= _fields_of(entry["en"]), key


def test_no_english_inside_the_vietnamese_texts():
    for key, entry in PROBLEMS.items():
        for text in (entry["vi"], entry.get("page", {}).get("vi", "")):
            assert not english_in(text), (key, text, english_in(text))
        words = _NOT_WORDS.sub(" ", entry["vi"])
        if re.search(r"[a-zA-Z]{3}", words) and key not in ("dask.missing.expected", "serve.app"):
            assert entry["vi"] != entry["en"] or entry["en"].startswith("{"), key  # translated


def test_the_detector_finds_english():
    assert english_in("cần at most 64 MiB a part")  # what the page showed (issue 22, #8)
    assert not english_in("không có cột cho TC19 (Quốc phòng và An ninh)")
    assert english_in("không mở được: file not found")
    assert not english_in("tệp ‘the file.xlsx’, trang 'Sheet of data', cột commune_code: --force, budget.scale")


def test_the_page_never_advises_an_option_it_does_not_have():
    for key in PROBLEMS:
        for lang in ("vi", "en"):
            text = Text(key, **_samples(key)).render(lang, page=True)
            assert "--force" not in text, (key, lang, text)
            assert "--units" not in text, (key, lang, text)


def test_every_key_in_the_code_is_in_the_catalogue():
    used = set()
    for path in [*SRC.rglob("*.py"), *(ROOT / "dashboards").rglob("*.py")]:
        used |= set(re.findall(r'(?:Text|cli_text)\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    assert used, "the scan finds the keys"
    assert sorted(used - set(PROBLEMS)) == []


def _is_words(node: ast.expr | None) -> bool:
    """A literal sentence or an f-string: English written into the code instead of the catalogue."""
    if isinstance(node, ast.JoinedStr):  # words in it, not only data put together (f"{old}={new}")
        return any(isinstance(v, ast.Constant) and re.search(r"[A-Za-z]{2}", str(v.value)) for v in node.values)
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value


def test_every_problem_the_code_raises_goes_through_the_catalogue():
    """No ``Problem(file, "words")``, ``log.error(f"…")`` nor ``expected="…"`` in the library: a :class:`Text`."""
    offences = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in ("Problem", "error", "warn", "bad", "Refusal", "Match"):
                continue
            if name in ("error", "warn") and not (isinstance(node.func, ast.Attribute)
                                                 and getattr(node.func.value, "id", "") in ("log", "clog", "cells",
                                                                                            "self")):
                continue
            message = node.args[1] if name == "Problem" and len(node.args) > 1 else (
                node.args[0] if name != "Problem" and node.args else None)
            if name == "Match":
                message = node.args[1] if len(node.args) > 1 else None
            keywords = {k.arg: k.value for k in node.keywords}
            for what, value in (("message", message or keywords.get("message")),
                                ("expected", keywords.get("expected")), ("found", keywords.get("found"))):
                if _is_words(value):
                    offences.append(f"{path.relative_to(SRC)}:{node.lineno}: {what}")
    assert offences == []


def test_a_problem_keeps_its_key_through_a_job_and_a_pickle():
    import pickle

    p = Problem("x.xlsx", Text("status.empty", criterion="TC5"), sheet="S", row=10, column="H (TC5)",
                expected=EXPECTED_MET, found=Text("xlsx.a_formula"))
    for back in (Problem.from_json(json.loads(json.dumps(p.to_json()))), pickle.loads(pickle.dumps(p))):
        assert back == p
        assert back.key == "status.empty"
        assert back.fields == {"criterion": "TC5"}
        assert Catalogue("vi").problem(back) == ("tệp x.xlsx, trang ‘S’, dòng 10, cột H (TC5): trạng thái của TC5 để "
                                                 "trống; cần ‘Đạt’ hoặc ‘Chưa đạt’ (hoặc x, 1/0); nhận được ‘một "
                                                 "công thức’")
    assert str(p) == ("x.xlsx, sheet 'S', row 10, column H (TC5): empty status for TC5; expected 'Đạt' or 'Chưa đạt' "
                      "(also x, 1/0), found 'a formula'")  # str(problem): English, as before


def test_numbers_and_lists_follow_the_language():
    t = Text("memory.over", draws=200000, plans=3, need=7.25, limit=6.0, which=Text("memory.limit_fixed"))
    assert str(t) == ("200,000 draws of 3 plan(s) would need about 7.2 GiB of memory, over the limit of 6.0 GiB "
                      "(the tool's own limit, the same on every machine)")
    assert t.render("vi") == ("200.000 lần thử của 3 phương án sẽ cần khoảng 7,2 GiB bộ nhớ, quá giới hạn 6,0 GiB "
                              "(giới hạn của công cụ, như nhau trên mọi máy)")
    both = joined(["'A'", "'B'", "'C'"])
    assert (str(both), both.render("vi")) == ("'A', 'B' and 'C'", "'A', 'B' và 'C'")


def test_pydantic_errors_are_translated_by_their_type():
    from pydantic import ValidationError

    from ntm_sim.model.scenario import Scenario

    with pytest.raises(ValidationError) as err:
        Scenario.model_validate({"name": "x", "budget": {"scale": -1, "carry_over": "có lẽ"}, "mode": "nhanh",
                                 "targets": {"communes_ntm": 1.5}, "bogus": 1})
    texts = {".".join(map(str, e["loc"])): pydantic_text(e) for e in err.value.errors()}
    assert texts["budget.scale"].render("vi") == "phải lớn hơn hoặc bằng 0"
    assert str(texts["budget.scale"]) == "Input should be greater than or equal to 0"
    assert texts["mode"].render("vi") == "phải là 'max-achievement' hoặc 'min-cost'"
    assert texts["bogus"].render("vi") == "không có mục này (xem lại tên mục)"
    for text in texts.values():
        assert not english_in(text.render("vi")), text.render("vi")


# ----- the command line: Vietnamese by default, English with --lang en or NTM_SIM_LANG=en ---------

@pytest.fixture
def vietnamese(monkeypatch):
    monkeypatch.delenv("NTM_SIM_LANG", raising=False)


def _problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("  LỖI: ", "  cảnh báo: ", "  ERROR: ",
                                                                     "  warning: "))]


def test_the_command_line_speaks_vietnamese_by_default(tmp_path, vietnamese):
    from test_bad_files import CASES

    checked = 0
    for c in CASES:
        (tmp_path / c.id).mkdir()
        path = c.build(tmp_path / c.id)
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == EXIT_INPUT, (c.id, result.output)
        assert re.search(r"^\d+ lỗi, \d+ cảnh báo:$", result.output, re.MULTILINE), (c.id, result.output)
        lines = _problem_lines(result.output)
        assert lines, result.output
        assert all(line.startswith(("  LỖI: ", "  cảnh báo: ")) for line in lines), result.output
        for line in lines:
            assert not english_in(line.replace(str(tmp_path), "")), (c.id, line, english_in(line))
        if c.sheet is not None:
            assert f"trang '{c.sheet}'" in result.output, (c.id, result.output)
        if c.row is not None:
            assert f"dòng {c.row}" in result.output, (c.id, result.output)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("args", [
    ["solve", "scenarios/baseline.yaml", "--draws", str(10**9)],
    ["solve", "scenarios/baseline.yaml", "--time-limit", "0"],
    ["sweep", "scenarios/baseline.yaml", "--budget-scale", "0.5,inf"],
    ["simulate", "scenarios/baseline.yaml", "--scheduler", "foo"],
    ["validate", "khong_co.xlsx"],
    ["validate", "khong_co.xlsx", "--units", "narnia@pre2025"],
])
def test_option_problems_are_vietnamese_too(tmp_path, vietnamese, args, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, [*args, *(["--out", str(tmp_path / "out")] if args[0] != "validate" else [])])
    assert result.exit_code == EXIT_INPUT, result.output
    lines = _problem_lines(result.output)
    assert lines, result.output
    assert all(not english_in(line) for line in lines), lines


def test_english_on_request(tmp_path, vietnamese, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = ["solve", "scenarios/baseline.yaml", "--draws", "-3", "--out", str(tmp_path / "out")]
    vi = CliRunner().invoke(app, args)
    en = CliRunner().invoke(app, ["--lang", "en", *args])
    env = CliRunner().invoke(app, args, env={"NTM_SIM_LANG": "en"})
    assert "1 lỗi, 0 cảnh báo:" in vi.output
    assert "LỖI: --draws: số lần thử mô phỏng nằm ngoài khoảng cho phép; cần từ 0 đến 100.000" in vi.output
    for result in (en, env):
        assert result.exit_code == EXIT_INPUT
        assert "1 error(s), 0 warning(s):" in result.output
        assert "ERROR: --draws: number of draws out of range; expected 0 to 100,000, found '-3'" in result.output
    bad = CliRunner().invoke(app, ["--lang", "fr", "validate", "x.xlsx"])
    assert bad.exit_code == EXIT_INPUT
    assert "--lang" in bad.output
    assert "'fr'" in bad.output


def test_a_long_name_is_cut_in_messages(tmp_path, vietnamese):
    """A 100,000-character name was printed whole (issue 22, #18)."""
    from test_bad_files import LONG_HEADER, long_rows, save_csv

    rows = long_rows()
    name = "Xã " + "Bản Phiệt " * 10_000
    rows = [[r[0], name, *r[2:]] for r in rows]
    path = save_csv(tmp_path / "dai.csv", [LONG_HEADER, *rows])
    result = CliRunner().invoke(app, ["validate", str(path), "--units", "lao_cai"])
    assert result.exit_code == EXIT_INPUT, result.output[:2000]
    lines = _problem_lines(result.output)
    assert lines
    assert max(len(line) for line in lines) < 1000, max(len(line) for line in lines)
    assert any("Bản Phiệt Bản Phiệt" in line and "…" in line for line in lines)
    p = Problem("f.csv", Text("units.name_unknown", name=repr(name), units="Lào Cai 2021"), found=name, column=name)
    for text in (str(p), problem_line(p, "vi"), Catalogue("vi").problem(p), Catalogue("en").problem(p)):
        assert len(text) < 800, len(text)


def test_the_page_shows_a_refused_output_without_an_option(tmp_path):
    from ntm_sim.storage import atomic_folder, check_output

    out = tmp_path / "chay"
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as err:
        check_output(out, option=str(out))
    page = Catalogue("vi").problems(err.value.problems)
    assert page == [f"tệp {out}: đã có sẵn; không thay thế gì; cần một tên khác (trang này không bao giờ thay thế "
                    f"một kết quả đã có); nhận được ‘{out}’"]
    assert "--force" in problem_line(err.value.problems[0], "vi")  # the command line has the option


def test_a_shortfall_is_named_in_vietnamese_with_the_datas_names(lao_cai):
    """The command line's '! không thể đạt' line: the district's name in Vietnamese, not 'district unit 89'."""
    from ntm_sim.present.console import _paper_lines
    from ntm_sim.run.results import shortfall_name_vi

    van_ban = "Huyện Văn Bàn đạt chuẩn/hoàn thành nhiệm vụ NTM cấp huyện"
    assert shortfall_name_vi("district_units:89", lao_cai) == van_ban
    code = lao_cai.communes.index[0]
    name = lao_cai.communes.loc[code, "commune_name"]
    assert shortfall_name_vi(f"lock:commune:{code}", lao_cai) == f"xã {name} (bắt buộc đạt chuẩn NTM)"
    assert shortfall_name_vi("advanced", lao_cai) == "số xã nâng cao"
    summary = {"communes_ntm_by_year": {"2025": 80}, "communes_ntm": 80, "new_communes_ntm": 19, "avg_criteria": 15.0,
               "villages_ntm_new": 1, "villages_model_new": 1, "total_cost_mvnd": 1e6, "budget_mvnd": 2e6,
               "unspent_mvnd": 1e6, "shortfalls": [
                   {"key": "district_units:89", "label": "district unit 89",
                    "label_vi": shortfall_name_vi("district_units:89", lao_cai), "needed": 1.0, "achieved": 0.0,
                    "missing": 1.0},
                   {"key": "advanced", "label": "advanced communes", "needed": 20.0, "achieved": 18.0,
                    "missing": 2.0}]}  # a folder written before label_vi: its English label still shows
    lines = _paper_lines(summary)
    assert f"  ! không thể đạt: {van_ban}: thiếu 1,0 (cần 1,0)" in lines
    assert "  ! không thể đạt: advanced communes: thiếu 2,0 (cần 20,0)" in lines


# ----- labels: the words these modules show come from the catalogue (issue 20) ---------------------

#: modules whose labels all live in ``messages:`` of the catalogue
LABEL_MODULES = ("present/console.py", "present/report.py", "present/explain.py", "analysis/robustness.py",
                 "analysis/compare.py", "analysis/frontier.py", "cli/run_commands.py", "cli/data_commands.py",
                 "cli/common.py", "dashboard/communes.py", "optimize/__init__.py", "optimize/baselines.py",
                 "analysis/backtest.py", "run/results.py", "run/sweep.py", "serve/panel_server.py")
# a letter only Vietnamese (or an accented vowel) uses: a Vietnamese word, whatever else the literal holds
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
#: not labels: the planners' workbook's status words, written into ``plan.xlsx`` as data its reader parses;
#: proper names the code compares data with or cites (the backtest's province and the commune merged in 2024,
#: ``data carry --to``'s default province)
DATA_WORDS = frozenset({"Đạt", "Chưa đạt", "Lào Cai", "Tà Chải"})
#: typer's help, which is English: a Vietnamese gloss or an example value in it is not a label
ENGLISH_HELP = frozenset({
    "Seed (hạt giống ngẫu nhiên): same seed, same numbers.",
    "Seed (hạt giống ngẫu nhiên), the same at every level.",
    "Reference unit list: 'auto' (the province detected from the sheet's codes or names), 'lao_cai' (2021), a "
    "province ('lai_chau', 'Lai Châu@pre2025', '15@2025'), a CSV file, or 'none' (codes as written).",
})


def vietnamese_literals(source: str) -> list[tuple[int, str]]:
    """The string constants of ``source`` (f-strings' parts too, docstrings aside) holding a Vietnamese letter."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and VIETNAMESE.search(node.value) and node.value not in DATA_WORDS | ENGLISH_HELP)


def test_the_scan_finds_vietnamese_literals():
    assert vietnamese_literals('x = f"Xã NTM đến {year}: {n}"\n') == [(1, "Xã NTM đến ")]
    assert vietnamese_literals('LABELS = {"slip": ("xã rớt chuẩn", "falling back")}\n') == [(1, "xã rớt chuẩn")]
    assert vietnamese_literals('def f():\n    """Xã: a docstring."""\n    return "Communes"\n') == []
    assert vietnamese_literals('MET = "Đạt"\nkey = "report.kind.model"\n') == []


def test_no_vietnamese_label_left_in_the_catalogued_modules():
    """Every Vietnamese word the modules of :data:`LABEL_MODULES` show is in messages.yaml."""
    left = {module: vietnamese_literals((SRC / module).read_text(encoding="utf-8")) for module in LABEL_MODULES}
    assert {module: found for module, found in left.items() if found} == {}


def test_the_keys_these_modules_name_are_in_the_catalogue():
    used = set()
    for module in LABEL_MODULES:
        text = (SRC / module).read_text(encoding="utf-8")
        used |= set(re.findall(r'\b(?:VI|EN|_say|_column)\(\s*["\']([a-z0-9_.]+)["\']', text))
    assert len(used) > 50, "the scan finds the keys"
    assert sorted(k for k in used if k not in MESSAGES and f"report.col.{k}" not in MESSAGES) == []


def test_the_tables_built_from_the_catalogue_keep_their_words():
    """Keys these modules build (``plan.{name}``, ``stage_name.{name}``, ``communes.pager.{key}``) all exist."""
    from ntm_sim.dashboard.communes import PAGINATION
    from ntm_sim.optimize import STAGE_NAMES_VI
    from ntm_sim.optimize.baselines import NAMES_VI

    assert NAMES_VI["planners_rule"] == "Quy tắc hiện hành: xã ít tiêu chí thiếu nhất trước"
    assert list(NAMES_VI) == ["planners_rule", "cheapest_first", "d07_shareout", "recommended", "deterministic"]
    assert STAGE_NAMES_VI["tiers"] == "xã nâng cao, kiểu mẫu"
    assert len(STAGE_NAMES_VI) == 10
    assert PAGINATION["vi"]["counter"] == {"showing": "Hiện", "of": "trong", "rows": "dòng", "pages": "trang"}
    assert PAGINATION["en"]["prev_title"] == "Previous page"
    assert len(PAGINATION["en"]) == 12
