"""Write workbooks in the planners' own layout (and the blank template)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName  # noqa: F401  (kept for readers of the file)
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ntm_sim.data.criteria import CriteriaSet, load_criteria_set
from ntm_sim.data.dataset import Dataset
from ntm_sim.data.io import schema
from ntm_sim.data.io.cells import formula_cell, safe_cell
from ntm_sim.data.io.tables import Column
from ntm_sim.data.units import UnitList

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_DEMO = Font(bold=True, color="C00000")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_DISTRICT_FILL = PatternFill("solid", fgColor="F2F2F2")
_NOT_MET_FILL = PatternFill("solid", fgColor="FCE4D6")
_PLANNED_FILL = PatternFill("solid", fgColor="E2EFDA")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
          "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX")
MONEY_FORMAT = "#,##0"

# Every value goes in through ``safe_cell`` (text stays text, see ntm_sim.data.io.cells), and the
# only formulas are the totals built here, through ``formula_cell``.


def save_workbook_atomic(wb: Workbook, path: Path, *, force: bool = True) -> None:
    """Save a workbook atomically, readable by others (see :func:`ntm_sim.storage.atomic_file`).

    Callers that take a path from the user check it first (``--force``); the default
    replaces a workbook the tool is asked to write again.
    """
    from ntm_sim.storage import atomic_file

    with atomic_file(path, force=force) as tmp:
        wb.save(tmp)


def _title_rows(ws: Worksheet, width: int, lines: Sequence[tuple[str, Font]]) -> int:
    for i, (text, font) in enumerate(lines, start=1):
        safe_cell(ws, i, 1, text).font = font
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=width)
        ws.cell(row=i, column=1).alignment = Alignment(horizontal="center")
    return len(lines) + 2  # one blank row, then the header


@dataclass(frozen=True)
class _WideLayout:
    """Columns of a wide sheet: STT, unit name, commune code, one per criterion, the total."""

    n_criteria: int
    money: bool              # amounts (the cost sheet) rather than statuses
    first_crit: int = 4      # column of the first criterion

    @property
    def total_col(self) -> int:
        """Column of the row total (the last column)."""
        return self.first_crit + self.n_criteria

    @property
    def width(self) -> int:
        """Number of columns."""
        return self.total_col


def wide_sheet(
    ws: Worksheet,
    ds: Dataset | None,
    criteria: CriteriaSet,
    communes: pd.DataFrame,
    title: str,
    value: Callable[[str, str], object],
    total: Callable[[int, int, int], str],
    *,
    money: bool,
    demo_label: str | None,
    choices: bool = True,
) -> None:
    """Fill a sheet in the planners' wide layout: a row per commune, a column per criterion.

    Parameters
    ----------
    ws
        The (empty) sheet.
    ds
        The dataset whose title heads the sheet (None for the blank template).
    criteria
        The criteria set of the columns.
    communes
        The communes, grouped under a row per district in order of first appearance.
    title
        The sheet's title line.
    value
        Cell value of a commune code and criterion id.
    total
        Formula of a commune row's total, given the row and the first and last
        criterion columns.
    money
        Amounts (million VND) rather than statuses.
    demo_label
        Shown under the title when the data are demo data.
    choices
        Offer the statuses as a drop-down list (status sheets only).
    """
    layout = _WideLayout(len(criteria), money)
    head = _wide_title(ws, ds, title, demo_label, layout.width)
    sub = _wide_header(ws, head, criteria, layout)
    row = sub + 1
    dv = _status_choices(ws) if not money and choices else None
    stt = 0
    for d_index, (d_code, group) in enumerate(communes.groupby("district_code", sort=False)):
        district_row = row
        if d_code:  # communes without a district (units from 1 July 2025) have no district row
            _district_row(ws, row, d_index, str(group["district_name"].iloc[0]) or f"Huyện {d_code}", layout)
            row += 1
        start = row
        for code, r in group.iterrows():
            stt += 1
            _commune_row(ws, row, stt, code, r["commune_name"], criteria, value, total, layout, dv)
            row += 1
        if d_code:
            _district_total(ws, district_row, start, row - 1, layout)
    _wide_columns(ws, sub, layout)


def _wide_title(ws: Worksheet, ds: Dataset | None, title: str, demo_label: str | None, width: int) -> int:
    """Write the title lines (dataset title, sheet title, demo label); return the header row."""
    lines = [(title, _TITLE)]
    if ds is not None and ds.meta.title:
        lines.insert(0, (ds.meta.title, _BOLD))
    if demo_label:
        lines.append((demo_label, _DEMO))
    return _title_rows(ws, width, lines)


def _wide_header(ws: Worksheet, head: int, criteria: CriteriaSet, layout: _WideLayout) -> int:
    """Write the two header rows (criterion numbers in the second); return the second's row.

    The layout of the planners' own sheets: STT, unit, code and total span both rows;
    one merged cell heads the criterion columns.
    """
    first_crit, total_col, money = layout.first_crit, layout.total_col, layout.money
    sub = head + 1
    for col, text in ((1, "STT"), (2, "Đơn vị"), (3, "Mã xã"),
                      (total_col, "Tổng (triệu đồng)" if money else "Tổng số tiêu chí đạt")):
        safe_cell(ws, head, col, text)
        ws.merge_cells(start_row=head, start_column=col, end_row=sub, end_column=col)
    safe_cell(ws, head, first_crit,
              "Nhu cầu vốn theo tiêu chí chưa đạt (triệu đồng)" if money else "Kết quả thực hiện các tiêu chí")
    ws.merge_cells(start_row=head, start_column=first_crit, end_row=head, end_column=total_col - 1)
    for k, crit in enumerate(criteria.criteria):
        cell = safe_cell(ws, sub, first_crit + k, crit.number)
        cell.comment = None
    for r in (head, sub):
        for c in range(1, layout.width + 1):
            cell = ws.cell(row=r, column=c)
            cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEAD_FILL, _CENTER, _BOX
    return sub


def _status_choices(ws: Worksheet) -> DataValidation:
    """Add (and return) the drop-down list of statuses; commune rows are added to it."""
    dv = DataValidation(type="list", formula1='"Đạt,Chưa đạt"', allow_blank=True,
                        error="Chỉ nhập Đạt hoặc Chưa đạt", errorTitle="Giá trị không hợp lệ")
    ws.add_data_validation(dv)
    return dv


def _district_row(ws: Worksheet, row: int, d_index: int, name: str, layout: _WideLayout) -> None:
    """Write a district's heading row (Roman numeral, name), shaded and bold."""
    safe_cell(ws, row, 1, _ROMAN[d_index] if d_index < len(_ROMAN) else str(d_index + 1))
    safe_cell(ws, row, 2, name)
    for c in range(1, layout.width + 1):
        ws.cell(row=row, column=c).fill = _DISTRICT_FILL
        ws.cell(row=row, column=c).font = _BOLD
        ws.cell(row=row, column=c).border = _BOX


def _commune_row(
    ws: Worksheet,
    row: int,
    stt: int,
    code: object,
    name: object,
    criteria: CriteriaSet,
    value: Callable[[str, str], object],
    total: Callable[[int, int, int], str],
    layout: _WideLayout,
    dv: DataValidation | None,
) -> None:
    """Write a commune's row: number, name, code, a cell per criterion and the total formula.

    Unmet criteria are shaded, planned ones ("KH …") too, in their own colour; the
    status cells join the drop-down list ``dv`` if given.
    """
    first_crit, total_col, money = layout.first_crit, layout.total_col, layout.money
    safe_cell(ws, row, 1, stt)
    safe_cell(ws, row, 2, name)
    safe_cell(ws, row, 3, int(code) if str(code).isdigit() else code)
    for k, crit in enumerate(criteria.ids):
        v = value(str(code), crit)
        cell = safe_cell(ws, row, first_crit + k, v)
        cell.alignment = Alignment(horizontal="center")
        if money:
            cell.number_format = MONEY_FORMAT
        elif v == "Chưa đạt":
            cell.fill = _NOT_MET_FILL
        elif isinstance(v, str) and v.startswith("KH"):
            cell.fill = _PLANNED_FILL
    a, b = get_column_letter(first_crit), get_column_letter(total_col - 1)
    formula_cell(ws, row, total_col, total(row, first_crit, total_col - 1))
    if money:
        ws.cell(row=row, column=total_col).number_format = MONEY_FORMAT
    for c in range(1, layout.width + 1):
        ws.cell(row=row, column=c).border = _BOX
    if dv is not None:
        dv.add(f"{a}{row}:{b}{row}")


def _district_total(ws: Worksheet, district_row: int, first: int, last: int, layout: _WideLayout) -> None:
    """Sum the district's commune totals (rows ``first`` … ``last``) into its heading row."""
    col = get_column_letter(layout.total_col)
    formula_cell(ws, district_row, layout.total_col, f"=SUM({col}{first}:{col}{last})")
    if layout.money:
        ws.cell(row=district_row, column=layout.total_col).number_format = MONEY_FORMAT


def _wide_columns(ws: Worksheet, sub: int, layout: _WideLayout) -> None:
    """Freeze the header and the unit columns; set the column widths."""
    first_crit, money = layout.first_crit, layout.money
    ws.freeze_panes = ws.cell(row=sub + 1, column=first_crit)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 8
    for k in range(layout.n_criteria):
        ws.column_dimensions[get_column_letter(first_crit + k)].width = 10 if money else 9
    ws.column_dimensions[get_column_letter(layout.total_col)].width = 14


def table_sheet(ws: Worksheet, columns: Sequence[Column], rows: Iterable[Sequence[object]],
                title: str, demo_label: str | None, extra_headers: Sequence[str] = ()) -> None:
    """Fill ``ws`` with a titled table: Vietnamese headers, one row per item (text kept as text)."""
    headers = [c.header_vi for c in columns] + list(extra_headers)
    lines = [(title, _TITLE)] + ([(demo_label, _DEMO)] if demo_label else [])
    head = _title_rows(ws, len(headers), lines)
    for j, h in enumerate(headers, start=1):
        cell = safe_cell(ws, head, j, h)
        cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEAD_FILL, _CENTER, _BOX
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(34, len(h) + 2))
    kinds = [c.kind for c in columns] + ["number"] * len(extra_headers)
    for i, values in enumerate(rows, start=head + 1):
        for j, (v, kind) in enumerate(zip(values, kinds, strict=True), start=1):
            if kind == "flag":
                v = "x" if bool(v) else None
            elif isinstance(v, float) and np.isnan(v):
                v = None
            elif isinstance(v, (np.integer, np.floating)):
                v = v.item()
            if kind == "code" and isinstance(v, str) and v.isdigit():
                v = int(v)
            cell = safe_cell(ws, i, j, v)
            cell.border = _BOX
            if kind == "number" and v is not None:
                cell.number_format = MONEY_FORMAT
    ws.freeze_panes = ws.cell(row=head + 1, column=1)


GUIDE_LINES = (
    "HƯỚNG DẪN NHẬP SỐ LIỆU – ntm-sim",
    "",
    "1. Trang 'Kết quả tiêu chí': mỗi xã một dòng, mỗi tiêu chí một cột (1…19 theo Bộ tiêu chí "
    "của Quyết định 318/QĐ-TTg). Ghi 'Đạt' hoặc 'Chưa đạt' (cũng nhận x, 1/0).",
    "   Giữ cột 'Mã xã' (mã đơn vị hành chính của Tổng cục Thống kê). Dòng huyện (I, II, …) và "
    "dòng tổng được bỏ qua khi đọc.",
    "2. Trang 'Nhu cầu vốn': vốn cần để đạt từng tiêu chí chưa đạt, đơn vị triệu đồng. Để trống "
    "nếu chưa có: công cụ ước tính theo đơn giá mặc định và ghi rõ là số ước tính.",
    "3. Trang 'Danh sách xã': xã đặc biệt khó khăn (ghi x), dân số, số hộ, số thôn, thôn đạt NTM, "
    "thôn kiểu mẫu, xã đã đạt NTM nâng cao/kiểu mẫu, vốn để lên nâng cao/kiểu mẫu, năm được công nhận "
    "NTM; từ 2026 nhóm xã theo Quyết định 51/2025/QĐ-TTg (ghi 1, 2 hoặc 3: nhóm 3 là xã khu vực II, III "
    "vùng đồng bào dân tộc thiểu số và miền núi).",
    "4. Trang 'Huyện': huyện đã đạt chuẩn/hoàn thành nhiệm vụ (x), vốn cho tiêu chí cấp huyện.",
    "5. Trang 'Nguồn vốn': mỗi nguồn một dòng; cột 'Được chi cho tiêu chí' ghi 'Tất cả', nhóm "
    "(Hạ tầng; Phát triển; Quản trị) hoặc danh sách tiêu chí (TC2; TC3); các cột năm ghi số vốn "
    "(triệu đồng).",
    "",
    "Kiểm tra tệp: ntm-sim validate TEN_TEP.xlsx  – mọi lỗi được báo theo trang, dòng, cột.",
    "Số tiền nhập dạng số (ví dụ 1538 hoặc 1.538); Excel hiển thị theo định dạng số của máy.",
)


def guide_sheet(ws: Worksheet, demo_label: str | None) -> None:
    """Fill ``ws`` with the workbook's instructions (and the demo-data label)."""
    lines = list(GUIDE_LINES)
    if demo_label:
        lines.insert(1, demo_label)
    for i, text in enumerate(lines, start=1):
        cell = safe_cell(ws, i, 1, text)
        if i == 1:
            cell.font = _TITLE
        elif demo_label and text == demo_label:
            cell.font = _DEMO
    ws.column_dimensions["A"].width = 120


def build_workbook(ds: Dataset) -> Workbook:
    """Build the planners' workbook for a dataset (all sheets)."""
    crit = ds.criteria
    demo = ds.meta.demo_label if ds.meta.demo else None
    wb = Workbook()
    guide_sheet(wb.active, demo)
    wb.active.title = schema.SHEET_GUIDE

    status_text = ds.status.replace({True: "Đạt", False: "Chưa đạt"})
    wide_sheet(
        wb.create_sheet(schema.SHEET_STATUS), ds, crit, ds.communes,
        "BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI",
        lambda c, k: status_text.loc[c, k],
        lambda r, a, b: f'=COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"Đạt")',
        money=False, demo_label=demo,
    )
    cost = ds.cost.where(~ds.status)
    wide_sheet(
        wb.create_sheet(schema.SHEET_COST), ds, crit, ds.communes,
        "NHU CẦU VỐN ĐỂ HOÀN THÀNH CÁC TIÊU CHÍ CHƯA ĐẠT (triệu đồng)"
        + (" – có số ước tính theo đơn giá mặc định" if ds.any_cost_estimated else ""),
        lambda c, k: None if np.isnan(cost.loc[c, k]) else float(cost.loc[c, k]),
        lambda r, a, b: f"=SUM({get_column_letter(a)}{r}:{get_column_letter(b)}{r})",
        money=True, demo_label=demo,
    )
    communes = ds.communes.reset_index()
    # optional ones if given; tiers named after the criteria set's own
    commune_cols = tuple(c for c in schema.commune_columns(crit) if c.name in communes.columns)
    table_sheet(wb.create_sheet(schema.SHEET_COMMUNES), commune_cols,
                 communes[[c.name for c in commune_cols]].itertuples(index=False),
                 "DANH SÁCH XÃ VÀ ĐẶC ĐIỂM", demo)
    districts = ds.districts.reset_index()
    table_sheet(wb.create_sheet(schema.SHEET_DISTRICTS), schema.DISTRICT_TABLE,
                 districts[[c.name for c in schema.DISTRICT_TABLE]].itertuples(index=False),
                 "ĐƠN VỊ CẤP HUYỆN", demo)
    sources = ds.sources.reset_index()
    years = [str(y) for y in ds.envelopes.columns]
    rows = [
        [*r, *ds.envelopes.loc[r[0]].tolist()]
        for r in sources[[c.name for c in schema.SOURCE_TABLE]].itertuples(index=False)
    ]
    table_sheet(wb.create_sheet(schema.SHEET_SOURCES), schema.SOURCE_TABLE, rows,
                 "NGUỒN VỐN THEO NĂM (triệu đồng)", demo, extra_headers=years)
    return wb


def write_workbook(ds: Dataset, path: Path) -> None:
    """Write a dataset to ``path`` in the planners' layout, atomically."""
    save_workbook_atomic(build_workbook(ds), path)


def write_template(path: Path, criteria: CriteriaSet | None = None, with_lao_cai: bool = True,
                   units: UnitList | None = None) -> None:
    """Write a blank input template with instructions.

    Parameters
    ----------
    path
        Output .xlsx file (written atomically).
    criteria
        Criteria set of the columns (default: 2021–2025).
    with_lao_cai
        Pre-fill the Lào Cai communes, codes and districts (status cells left blank).
    units
        Pre-fill this province's communes instead (any province of the national lists;
        without districts for the units from 1 July 2025).
    """
    from ntm_sim.data.units import lao_cai_units

    criteria = criteria or load_criteria_set()
    wb = Workbook()
    guide_sheet(wb.active, None)
    wb.active.title = schema.SHEET_GUIDE
    if units is not None:
        communes = units.communes
    elif with_lao_cai:
        communes = lao_cai_units().communes
    else:
        communes = pd.DataFrame(columns=["commune_name", "district_code", "district_name"])
    wide_sheet(wb.create_sheet(schema.SHEET_STATUS), None, criteria, communes,
                "BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI",
                lambda c, k: None,
                lambda r, a, b: f'=COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"Đạt")',
                money=False, demo_label=None)
    wide_sheet(wb.create_sheet(schema.SHEET_COST), None, criteria, communes,
                "NHU CẦU VỐN ĐỂ HOÀN THÀNH CÁC TIÊU CHÍ CHƯA ĐẠT (triệu đồng)",
                lambda c, k: None,
                lambda r, a, b: f"=SUM({get_column_letter(a)}{r}:{get_column_letter(b)}{r})",
                money=True, demo_label=None)
    columns = schema.commune_columns(criteria, blank=True)
    rows = [[code, r["commune_name"], r["district_code"], r["district_name"]]
            + [None] * (len(columns) - 4) for code, r in communes.iterrows()]
    table_sheet(wb.create_sheet(schema.SHEET_COMMUNES), columns, rows,
                 "DANH SÁCH XÃ VÀ ĐẶC ĐIỂM", None)
    d = communes[communes["district_code"] != ""].drop_duplicates("district_code")
    table_sheet(wb.create_sheet(schema.SHEET_DISTRICTS), schema.DISTRICT_TABLE,
                 [[r["district_code"], r["district_name"], None, None, None, None]
                  for _, r in d.iterrows()], "ĐƠN VỊ CẤP HUYỆN", None)
    table_sheet(wb.create_sheet(schema.SHEET_SOURCES), schema.SOURCE_TABLE, [],
                 "NGUỒN VỐN THEO NĂM (triệu đồng)", None,
                 extra_headers=[str(y) for y in range(criteria.period[0], criteria.period[1] + 1)])
    save_workbook_atomic(wb, path)
