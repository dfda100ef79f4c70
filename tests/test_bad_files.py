"""A corpus of broken input files, each rejected with its file, sheet, row and column named.

Every case builds one bad file in ``tmp_path`` (no binary fixtures), then checks that
the reader raises :class:`InputError` with a problem at exactly the expected place,
and that the CLI reports it with exit code 2, no traceback and nothing half-written.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.data.dataset import bundled_path
from ntm_sim.data.io import read_any
from ntm_sim.data.io.schema import SHEET_COMMUNES, SHEET_COST, SHEET_SOURCES, SHEET_STATUS
from ntm_sim.errors import InputError, Problem

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

Rows = list[list[object]]

TC = [f"TC{i}" for i in range(1, 20)]
# TC1…TC12 met, TC13…TC19 not met (columns P…V in the planner layout)
MET = ["Đạt"] * 12 + ["Chưa đạt"] * 7
BAO_THANG = [(2911, "Xã Bản Phiệt"), (2914, "Xã Bản Cầm"), (2917, "Xã Thái Niên")]
PLANNER_MERGED = ["A5:A6", "B5:B6", "C5:C6", "D5:V5"]
LONG_HEADER = ["commune_code", "commune_name", "criterion", "met", "cost_mvnd"]


# ----- builders --------------------------------------------------------------------------


def save_xlsx(path: Path, sheets: dict[str, Rows], merged: dict[str, list[str]] | None = None) -> Path:
    """Write sheets cell by cell (so blank rows stay blank) and merge ranges."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for i, row in enumerate(rows, start=1):
            for j, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=i, column=j, value=value)
        for cells in (merged or {}).get(title, []):
            ws.merge_cells(cells)
    wb.save(path)
    return path


def commune_rows(communes: list[tuple[object, object]] = BAO_THANG) -> Rows:
    return [[k, name, code, *MET] for k, (code, name) in enumerate(communes, start=1)]


def planner_rows(body: Rows | None = None, n_criteria: int = 19) -> Rows:
    """The shared example's layout: header in rows 5–6, district row 7, communes from row 8."""
    return [
        ["UBND HUYỆN BẢO THẮNG"],
        ["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI"],
        ["(tệp thử)"],
        [],
        ["STT", "Đơn vị", "Mã xã", "Kết quả thực hiện các tiêu chí"],
        [None, None, None, *range(1, n_criteria + 1)],
        ["I", "Huyện Bảo Thắng"],
        *(commune_rows() if body is None else body),
    ]


def planner(path: Path, body: Rows | None = None, **more: Rows) -> Path:
    """A workbook with the planner status sheet and any further sheets."""
    return save_xlsx(path, {SHEET_STATUS: planner_rows(body), **more}, {SHEET_STATUS: PLANNER_MERGED})


def cost_row(k: int, code: int, name: str, **cells: object) -> list[object]:
    """A cost-sheet row: 500 for each unmet criterion unless given."""
    values = [cells.get(c, 500 if m == "Chưa đạt" else None) for c, m in zip(TC, MET, strict=True)]
    return [k, name, code, *values]


def cost_rows(body: Rows) -> Rows:
    """Cost sheet: title, blank row, header in row 3, communes from row 4."""
    return [["NHU CẦU VỐN ĐỂ HOÀN THÀNH CÁC TIÊU CHÍ CHƯA ĐẠT (triệu đồng)"], [],
            ["STT", "Đơn vị", "Mã xã", *TC], *body]


def source_rows(*body: list[object]) -> Rows:
    """Sources sheet: header in row 1 (years in D, E), sources from row 2."""
    return [["Mã nguồn", "Tên nguồn vốn", "Được chi cho tiêu chí", 2021, 2022], *body]


GOOD_SOURCE = ["ns_tinh", "Ngân sách tỉnh", "Tất cả", 1000, 1200]


def single_header_rows(header: list[object], *body: list[object]) -> Rows:
    """Title in row 1, a one-row header in row 2, data from row 3."""
    return [["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ"], header, *body]


def long_rows(code: object = 2911, name: str = "Bản Phiệt") -> Rows:
    """The 19 rows of one commune in the tidy long layout (data rows 2…20)."""
    return [[code, name, c, m, 500 if m == "Chưa đạt" else None] for c, m in zip(TC, MET, strict=True)]


def save_csv(path: Path, rows: Rows, delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([["" if v is None else v for v in r] for r in rows])
    return path


def copy_bundled(folder: Path) -> Path:
    out = folder / "ds"
    shutil.copytree(bundled_path("lao_cai"), out)
    return out


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file; ``row`` is 1-based with the header as row 1."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


# ----- the corpus ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A bad file and the problem it must be reported with."""

    id: str
    build: Callable[[Path], Path]
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    words: tuple[str, ...]

    @property
    def location(self) -> str:
        return Problem(self.file, "", self.sheet, self.row, self.column).location


CASES: list[Case] = []


def case(id: str, file: str, sheet: str | None, row: int | None, column: str | None,
         *words: str) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    """Register a builder with the place and key words of the problem it must raise."""

    def register(build: Callable[[Path], Path]) -> Callable[[Path], Path]:
        CASES.append(Case(id, build, file, sheet, row, column, words))
        return build

    return register


@case("status-unrecognised", "in.xlsx", SHEET_STATUS, 9, "E (TC2)", "unrecognised status", "TC2")
def _(d: Path) -> Path:
    body = commune_rows()
    body[1][3 + 1] = "Dat?"
    return planner(d / "in.xlsx", body)


@case("status-empty", "in.xlsx", SHEET_STATUS, 10, "H (TC5)", "empty status", "TC5")
def _(d: Path) -> Path:
    body = commune_rows()
    body[2][3 + 4] = None
    return planner(d / "in.xlsx", body)


@case("status-only-18-criteria", "in.xlsx", SHEET_STATUS, 6, None, "no column for TC19")
def _(d: Path) -> Path:
    body = [row[:-1] for row in commune_rows()]
    rows = planner_rows(body, n_criteria=18)
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows},
                     {SHEET_STATUS: ["A5:A6", "B5:B6", "C5:C6", "D5:U5"]})


@case("duplicate-commune", "in.xlsx", SHEET_STATUS, 10, "C (Mã xã)", "2911", "appears twice",
      "first in row 8")
def _(d: Path) -> Path:
    return planner(d / "in.xlsx", commune_rows([*BAO_THANG[:2], BAO_THANG[0]]))


@case("code-typo-with-name", "in.xlsx", SHEET_STATUS, 9, "C (Mã xã)", "2912", "not in the Lào Cai",
      "did you mean 2911 (Bản Phiệt")
def _(d: Path) -> Path:
    return planner(d / "in.xlsx", commune_rows([(2914, "Xã Bản Cầm"), (2912, "Xã Bản Phiệt")]))


@case("code-only-typo", "in.xlsx", SHEET_STATUS, 4, "A (Mã xã)", "2912", "not in the Lào Cai",
      "did you mean 2911 (Bản Phiệt")
def _(d: Path) -> Path:
    rows = single_header_rows(["Mã xã", *TC], [2914, *MET], [2912, *MET])
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows})


@case("code-and-name-disagree", "in.xlsx", SHEET_STATUS, 8, "C (Mã xã)", "code 2911 is Bản Phiệt",
      "'Xã Bản Cầm' belongs to 2914")
def _(d: Path) -> Path:
    return planner(d / "in.xlsx", commune_rows([(2911, "Xã Bản Cầm"), (2917, "Xã Thái Niên")]))


@case("name-typo", "in.xlsx", SHEET_STATUS, 9, "B (Đơn vị)", "Bản Phiêt", "not in the Lào Cai",
      "did you mean 2911 (Bản Phiệt")
def _(d: Path) -> Path:
    return planner(d / "in.xlsx", commune_rows([(2914, "Xã Bản Cầm"), (None, "Xã Bản Phiêt")]))


@case("ambiguous-name", "in.xlsx", SHEET_STATUS, 3, "B (Đơn vị)", "Thanh Bình", "ambiguous", "2779", "3022")
def _(d: Path) -> Path:
    rows = single_header_rows(["STT", "Đơn vị", *TC], [1, "Xã Thanh Bình", *MET])
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows})


@case("district-column-unknown", "in.xlsx", SHEET_STATUS, 4, "B (Huyện)", "Huyện Bảo Thắg",
      "not in the Lào Cai")
def _(d: Path) -> Path:
    rows = single_header_rows(["STT", "Huyện", "Mã xã", "Đơn vị", *TC],
                              [1, "Huyện Bảo Thắng", 2911, "Xã Bản Phiệt", *MET],
                              [2, "Huyện Bảo Thắg", 2914, "Xã Bản Cầm", *MET])
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows})


# A district row the list does not know must not leave the previous district as the
# context: "Thanh Bình" below "Thị xã Sapa" would silently become Mường Khương's.
@case("district-row-unknown", "in.xlsx", SHEET_STATUS, 6, "B (Đơn vị)", "Thanh Bình", "ambiguous")
def _(d: Path) -> Path:
    rows = single_header_rows(["STT", "Đơn vị", *TC],
                              ["I", "Huyện Mường Khương"], [1, "Xã Pha Long", *MET],
                              ["II", "Thị xã Sapa"], [1, "Xã Thanh Bình", *MET])
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows})


@case("values-without-commune", "in.xlsx", SHEET_STATUS, 9, "B (Đơn vị)", "no commune")
def _(d: Path) -> Path:
    body = commune_rows()
    body[1][1] = body[1][2] = None
    return planner(d / "in.xlsx", body)


@case("no-header-row", "in.xlsx", None, None, None, "no sheet with a criterion status table")
def _(d: Path) -> Path:
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: commune_rows()})


@case("no-commune-column", "in.xlsx", SHEET_STATUS, 2, None, "no commune column")
def _(d: Path) -> Path:
    rows = single_header_rows(["STT", *TC], [1, *MET], [2, *MET])
    return save_xlsx(d / "in.xlsx", {SHEET_STATUS: rows})


@case("cost-negative", "in.xlsx", SHEET_COST, 5, "Q (TC14)", "cost for TC14", "non-negative")
def _(d: Path) -> Path:
    cost = cost_rows([cost_row(1, 2911, "Xã Bản Phiệt"), cost_row(2, 2914, "Xã Bản Cầm", TC14=-500)])
    return planner(d / "in.xlsx", **{SHEET_COST: cost})


@case("cost-text", "in.xlsx", SHEET_COST, 6, "T (TC17)", "cost for TC17", "non-negative")
def _(d: Path) -> Path:
    cost = cost_rows([cost_row(1, 2911, "Xã Bản Phiệt"), cost_row(2, 2914, "Xã Bản Cầm"),
                      cost_row(3, 2917, "Xã Thái Niên", TC17="khoảng 1 tỷ")])
    return planner(d / "in.xlsx", **{SHEET_COST: cost})


@case("cost-commune-not-in-status", "in.xlsx", SHEET_COST, 5, "C (Mã xã)", "2920",
      "not in the status sheet")
def _(d: Path) -> Path:
    cost = cost_rows([cost_row(1, 2911, "Xã Bản Phiệt"), cost_row(2, 2920, "Xã Phong Niên")])
    return planner(d / "in.xlsx", **{SHEET_COST: cost})


@case("source-bad-rule", "in.xlsx", SHEET_SOURCES, 3, "C (Được chi cho tiêu chí)", "eligibility rule",
      "TC25")
def _(d: Path) -> Path:
    sources = source_rows(GOOD_SOURCE, ["long_ghep", "Lồng ghép", "Hạ tầng; TC25", 500, 500])
    return planner(d / "in.xlsx", **{SHEET_SOURCES: sources})


@case("source-negative-amount", "in.xlsx", SHEET_SOURCES, 2, "E (2022)", "amount for 2022",
      "non-negative")
def _(d: Path) -> Path:
    return planner(d / "in.xlsx", **{SHEET_SOURCES: source_rows(["ns_tinh", "Ngân sách tỉnh", "Tất cả",
                                                                 1000, -1200])})


@case("source-text-amount", "in.xlsx", SHEET_SOURCES, 3, "D (2021)", "amount for 2021", "non-negative")
def _(d: Path) -> Path:
    sources = source_rows(GOOD_SOURCE, ["dan_gop", "Nhân dân đóng góp", "TC2; TC6", "năm trăm", 300])
    return planner(d / "in.xlsx", **{SHEET_SOURCES: sources})


@case("commune-sheet-text-population", "in.xlsx", SHEET_COMMUNES, 3, "C (Dân số (người))", "not a number")
def _(d: Path) -> Path:
    communes = [["Mã xã", "Tên xã", "Dân số (người)"], [2911, "Bản Phiệt", 4200],
                [2914, "Bản Cầm", "khoảng 3 nghìn"]]
    return planner(d / "in.xlsx", **{SHEET_COMMUNES: communes})


@case("not-excel", "in.xlsx", None, None, None, "cannot be opened as an Excel workbook")
def _(d: Path) -> Path:
    path = d / "in.xlsx"
    path.write_text("commune_code,criterion,met\n2911,TC1,Đạt\n", encoding="utf-8")
    return path


@case("old-xls", "plan.xls", None, None, None, ".xls format is not supported")
def _(d: Path) -> Path:
    path = d / "plan.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))  # OLE2 signature of old Excel
    return path


@case("empty-workbook", "in.xlsx", None, None, None, "no sheet with a criterion status table")
def _(d: Path) -> Path:
    path = d / "in.xlsx"
    Workbook().save(path)
    return path


@case("missing-file", "nowhere.xlsx", None, None, None, "file not found")
def _(d: Path) -> Path:
    return d / "nowhere.xlsx"


@case("long-unknown-criterion", "long.csv", None, 20, "criterion", "unknown criterion")
def _(d: Path) -> Path:
    rows = long_rows()
    rows[-1][2] = "TC20"
    return save_csv(d / "long.csv", [LONG_HEADER, *rows])


@case("long-duplicate-pair", "long.csv", None, 21, "criterion", "TC3 of commune 2911 appears twice",
      "first in row 4")
def _(d: Path) -> Path:
    rows = long_rows()
    return save_csv(d / "long.csv", [LONG_HEADER, *rows, rows[2]])


@case("long-missing-met-column", "long.csv", None, 1, None, "column 'met' not found")
def _(d: Path) -> Path:
    return save_csv(d / "long.csv", [[h for h in LONG_HEADER if h != "met"],
                                     *[[c, n, k, v] for c, n, k, _, v in long_rows()]])


@case("long-status-co-le", "long.csv", None, 8, "met", "unrecognised status for TC7")
def _(d: Path) -> Path:
    rows = long_rows()
    rows[6][3] = "có lẽ"
    return save_csv(d / "long.csv", [LONG_HEADER, *rows])


@case("long-negative-cost-semicolon", "long.csv", None, 16, "cost_mvnd", "must not be below 0")
def _(d: Path) -> Path:
    rows = long_rows()
    rows[14][4] = "-1.500"  # Vietnamese thousands separator, in a semicolon file
    return save_csv(d / "long.csv", [LONG_HEADER, *rows], delimiter=";")


@case("folder-missing-file", "ds/envelopes.csv", None, None, None, "file missing")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    (folder / "envelopes.csv").unlink()
    return folder


@case("folder-text-population", "ds/communes.csv", None, 3, "population", "not a number")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    edit_csv(folder / "communes.csv", 3, "population", "khoảng 5000")
    return folder


@case("folder-status-unknown-commune", "ds/criteria_status.csv", None, 2, "commune_code", "9999",
      "not in communes.csv")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    edit_csv(folder / "criteria_status.csv", 2, "commune_code", "9999")
    return folder


@case("folder-unknown-criteria-set", "ds/dataset.yaml", None, 3, "criteria_set",
      "unknown criteria set", "qd999")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    meta = folder / "dataset.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("qd318-2021-2025", "qd999"), encoding="utf-8")
    return folder


@case("folder-sources-bad-rule", "ds/sources.csv", None, 3, "eligible", "eligibility rule", "TC99")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    edit_csv(folder / "sources.csv", 3, "eligible", "Phát triển; TC99")
    return folder


@case("folder-envelope-unknown-source", "ds/envelopes.csv", None, 3, "source_id", "khong_co",
      "not in sources.csv")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    edit_csv(folder / "envelopes.csv", 3, "source_id", "khong_co")
    return folder


@case("folder-envelope-duplicate-year", "ds/envelopes.csv", None, 3, "year", "appears twice",
      "first in row 2")
def _(d: Path) -> Path:
    folder = copy_bundled(d)
    edit_csv(folder / "envelopes.csv", 3, "year", "2021")  # row 2 is the same source's 2021
    return folder


def _ids() -> list[str]:
    ids = [c.id for c in CASES]
    assert len(set(ids)) == len(ids), "case ids must be distinct"
    return ids


@pytest.fixture(params=CASES, ids=_ids())
def bad(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Case, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    c: Case = request.param
    return c, c.build(folder)


def _describe(problems: list[Problem]) -> str:
    return "\n".join(f"  {p.severity}: {p}" for p in problems) or "  (none)"


# ----- tests -----------------------------------------------------------------------------


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 20
    kinds = {c.file.rsplit(".", 1)[-1] for c in CASES}
    assert {"xlsx", "csv", "xls"} <= kinds


def test_reader_names_the_place(bad: tuple[Case, Path]) -> None:
    c, path = bad
    with pytest.raises(InputError) as info:
        read_any(path)
    errors = info.value.errors
    hits = [p for p in errors
            if (p.file, p.sheet, p.row, p.column) == (c.file, c.sheet, c.row, c.column)
            and all(w.casefold() in p.message.casefold() for w in c.words)]
    assert hits, f"expected an error at {c.location!r} saying {c.words}; got:\n{_describe(info.value.problems)}"


def test_validate_reports_place_with_exit_2(bad: tuple[Case, Path]) -> None:
    c, path = bad
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == EXIT_INPUT, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert c.location in result.output
    assert "Traceback" not in result.output


def test_export_writes_nothing(bad: tuple[Case, Path], tmp_path: Path) -> None:
    c, path = bad
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "OUT.xlsx"
    result = CliRunner().invoke(app, ["data", "export", str(out), "--data", str(path)])
    assert result.exit_code == EXIT_INPUT, result.output
    assert "Traceback" not in result.output
    assert c.location in result.output
    assert list(out_dir.iterdir()) == []  # no OUT.xlsx, no temporary file


def test_unbroken_workbook_reads(tmp_path: Path) -> None:
    # the corpus breaks one thing at a time: the workbook it starts from is accepted
    cost = cost_rows([cost_row(k, code, name) for k, (code, name) in enumerate(BAO_THANG, start=1)])
    sources = source_rows(GOOD_SOURCE, ["dan_gop", "Nhân dân đóng góp", "TC2; TC6", 300, "1.500"])
    communes = [["Mã xã", "Tên xã", "Dân số (người)"], [2911, "Bản Phiệt", 4200], [2914, "Bản Cầm", "3.100"]]
    ds = read_any(planner(tmp_path / "in.xlsx",
                          **{SHEET_COST: cost, SHEET_SOURCES: sources, SHEET_COMMUNES: communes}))
    assert list(ds.communes.index) == ["2911", "2914", "2917"]
    assert ds.criteria_met.tolist() == [12, 12, 12]
    assert ds.cost.loc["2914", "TC14"] == 500
    assert not ds.any_cost_estimated
    assert ds.envelopes.loc["dan_gop", 2022] == 1500
    assert ds.sources.loc["dan_gop", "name_en"] == ""  # optional column left out
    assert ds.communes.loc["2914", "population"] == 3100


def test_unbroken_single_row_layouts_read(tmp_path: Path) -> None:
    rows = single_header_rows(["STT", "Đơn vị", *TC],
                              ["I", "Huyện Mường Khương"], [1, "Xã Pha Long", *MET],
                              ["II", "Thị xã Sa Pa"], [1, "Xã Thanh Bình", *MET])
    ds = read_any(save_xlsx(tmp_path / "a.xlsx", {SHEET_STATUS: rows}))
    assert list(ds.communes.index) == ["2752", "3022"]  # the district row decides Thanh Bình
    rows = single_header_rows(["Mã xã", *TC], [2914, *MET], [2911, *MET])
    assert list(read_any(save_xlsx(tmp_path / "b.xlsx", {SHEET_STATUS: rows})).communes.index) == ["2914", "2911"]


def test_unbroken_long_csv_and_folder_read(tmp_path: Path, lao_cai) -> None:
    ds = read_any(save_csv(tmp_path / "long.csv", [LONG_HEADER, *long_rows()], delimiter=";"))
    assert ds.criteria_met.loc["2911"] == 12
    assert read_any(copy_bundled(tmp_path)).content_hash() == lao_cai.content_hash()


def test_district_row_unknown_is_reported_as_warning(tmp_path: Path) -> None:
    path = next(c for c in CASES if c.id == "district-row-unknown").build(tmp_path)
    with pytest.raises(InputError) as info:
        read_any(path)
    warnings = [p for p in info.value.problems if p.severity == "warning"]
    assert any(p.row == 5 and p.column == "B (Đơn vị)" and "Thị xã Sapa" in p.message for p in warnings), \
        _describe(info.value.problems)


@pytest.mark.parametrize("case_id", ["not-excel", "status-unrecognised", "folder-missing-file"])
def test_real_process_prints_no_traceback(case_id: str, tmp_path: Path) -> None:
    c = next(c for c in CASES if c.id == case_id)
    path = c.build(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "ntm_sim", "validate", str(path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert proc.returncode == EXIT_INPUT, proc.stderr
    assert c.location in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
