"""``plan.xlsx``: the plan written back in the planners' own workbook layout, ready to print for the committee.

Sheets, in Vietnamese: a **cover** (*Tóm tắt*: the scenario, its verdict, the headline
figures simulated beside those on paper), the criteria table with each unmet criterion
marked with the year the plan meets it ("KH 2023") or left "Chưa đạt", the projects by year,
money by source and year, the commune priorities with their reasons (the communes there is
something to plan for, numbered 1, 2, … as on the page and in the report), and the comparison
with the rules used today (simulated beside paper). Money is in tỷ đồng (billion VND),
rounded to the million; sources and criteria by name. Every sheet prints on A4 landscape,
fitted to the page's width, its title and header rows repeated on each page, with a header
(the sheet's title) and a footer (the scenario, the page number). Demo data is labelled on
every sheet.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.io import schema
from ntm_sim.data.io.cells import safe_cell
from ntm_sim.data.io.excel_write import save_workbook_atomic, table_sheet, wide_sheet
from ntm_sim.data.io.tables import Column
from ntm_sim.messages import VIETNAM_TIME, Catalogue
from ntm_sim.model.contracts import SolveSummary
from ntm_sim.model.plan import RECOMMENDED
from ntm_sim.optimize import SolveResult
from ntm_sim.present.explain import commune_table

VI = Catalogue("vi")  # the workbook is in Vietnamese; its words are report.* in the catalogue
BN_FORMAT = "#,##0.00"  # tỷ đồng to the ten million, shown in the reader's own number format by Excel
KIND_VI = {kind: VI(f"report.kind.{kind}") for kind in ("advanced", "model", "village_ntm", "village_model",
                                                         "district", "district_advanced")}
SHEET_COVER = VI("report.sheet.cover")
#: the status words of the planners' workbook (its data, as the reader parses them): not labels
MET, UNMET = "Đạt", "Chưa đạt"


def _column(name: str, kind: str, **fields: object) -> Column:
    """A column of the workbook headed with its catalogue name (``report.col.<name>``)."""
    return Column(name, VI(f"report.col.{name}", **fields), kind)


PROJECT_COLUMNS = tuple(_column(name, kind) for name, kind in (
    ("commune_code", "code"), ("commune_name", "text"), ("district_name", "text"), ("criterion", "text"),
    ("criterion_name", "text"), ("start_year", "int"), ("end_year", "int"), ("quantity", "int"),
    ("cost_bn", "number")))


def kinds_vi(crit: CriteriaSet) -> dict[str, str]:
    """:data:`KIND_VI` with the tier upgrades named after the criteria set's own tiers ("Lên xã NTM hiện đại …")."""
    return {**KIND_VI, **{slot: VI("report.kind.tier", tier=t.label_vi) for slot, t in crit.tier_slots().items()}}


def bn(mvnd: float) -> float:
    """Million VND as tỷ đồng, rounded to the million (no ``92805.00000000001``)."""
    return round(float(mvnd) / 1000, 3)


def print_setup(ws: Worksheet, title: str, footer: str) -> None:
    """A4 landscape, fitted to the page's width, the rows above the frozen pane repeated, a header and footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.6, right=0.4, top=0.75, bottom=0.75, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    frozen = ws.freeze_panes
    if frozen:  # the title and header rows (and the names' columns) stay on every page, as on screen
        anchor = ws[frozen]
        if anchor.row > 1:
            ws.print_title_rows = f"1:{anchor.row - 1}"
        if anchor.column > 1:
            ws.print_title_cols = f"A:{get_column_letter(anchor.column - 1)}"
    ws.oddHeader.center.text = title.replace("&", "&&")
    ws.oddHeader.center.size = 10
    ws.oddFooter.left.text = footer.replace("&", "&&")
    ws.oddFooter.left.size = 9
    ws.oddFooter.right.text = VI("report.page_footer")
    ws.oddFooter.right.size = 9


def _money_columns(ws: Worksheet, columns: list[int], number_format: str = BN_FORMAT) -> None:
    for col in columns:
        for (cell,) in ws.iter_rows(min_col=col, max_col=col):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = number_format


def _cover(ws: Worksheet, result: SolveResult, summary: dict | None, simulation: object, demo: str | None) -> None:
    """The cover: scenario, verdict and headline figures, in the order a committee member reads them."""
    from ntm_sim.present.verdict import verdict_lines

    inst = result.instance
    sc = inst.scenario
    rows: list[tuple[str, Font | None]] = [(VI("report.cover.title"), Font(bold=True, size=14)),
                                           (sc.title or sc.name, Font(bold=True, size=12))]
    if demo:
        rows.append((demo, Font(bold=True, color="C00000")))
    made = datetime.now(UTC).astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    rows.append((VI("report.cover.period", first=inst.years[0], last=inst.horizon_end, made=made), None))
    rows.append(("", None))
    rows.append((VI("report.cover.verdict"), Font(bold=True, size=12)))
    record = None if summary is None else SolveSummary.model_validate(summary)
    if summary is not None and record is not None:
        run = _run_of(summary, record, sc.title or sc.name)
        rows += [(f"• {line}", None) for line in verdict_lines(run, VI)]
    for i, (text, font) in enumerate(rows, start=1):
        cell = safe_cell(ws, i, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            cell.font = font
        _fit_row(ws, i, text, font.size if font is not None and font.size else 11)
    ws.column_dimensions["A"].width = COVER_WIDTH  # one column of sentences, wrapped: it fits a landscape page
    _cover_figures(ws, len(rows) + 2, result, record)
    ws.freeze_panes = None


def _cover_figures(ws: Worksheet, top: int, result: SolveResult, record: SolveSummary | None) -> None:
    """The headline figures: simulated (median, 5–95%) beside the figure on paper."""
    safe_cell(ws, top, 1, VI("report.cover.figures")).font = Font(bold=True, size=12)
    _fit_row(ws, top, VI("report.cover.figures"), 12)
    head = None if record is None else record.headline
    outcomes = {} if head is None else head.outcomes
    lines = [VI("report.cover.communes", end=result.instance.horizon_end, communes=result.plan.outcomes.communes_ntm)]
    o = outcomes.get("communes_ntm")
    if o is not None:
        lines[0] += VI("report.cover.communes_simulated", median=VI.number(o.median), p5=VI.number(o.p5),
                       p95=VI.number(o.p95))
    spent = outcomes.get("spent")
    lines.append(VI("report.cover.money", money=VI.number(bn(result.plan.outcomes.total_cost), 1))
                 + (VI("report.cover.money_simulated", money=VI.number(bn(spent.median), 1)) if spent else ""))
    if result.funding_gap is not None:
        lines.append(VI("report.cover.gap", money=VI.number(bn(result.funding_gap.sum()), 1)))
    for i, text in enumerate(lines, start=top + 1):
        safe_cell(ws, i, 1, f"• {text}").alignment = Alignment(wrap_text=True, vertical="top")
        _fit_row(ws, i, f"• {text}", 11)


COVER_WIDTH = 110  # the cover's one column, in characters


def _fit_row(ws: Worksheet, row: int, text: str, size: float) -> None:
    """Give a wrapped sentence the height of its lines: a printed row does not grow by itself (lines overlapped)."""
    per_line = COVER_WIDTH * 0.95 * 11 / size  # a little under the column's width: proportional letters vary
    lines = max(1, math.ceil(len(text) / per_line))
    ws.row_dimensions[row].height = lines * size * 1.45


def _run_of(summary: dict, record: SolveSummary, title: str) -> object:
    """A results folder's run as the verdict reads it, from the summary being written (no folder yet)."""
    from ntm_sim.analysis.compare import ScenarioRun

    return ScenarioRun(name=title, folder=Path("."), summary=summary, communes=pd.DataFrame(), manifest={},
                       record=record)


def _criteria_sheet(wb: Workbook, result: SolveResult, demo: str | None) -> None:
    inst, plan = result.instance, result.plan
    ds = inst.dataset
    done_year = np.where(plan.decisions.proj_start >= 0, plan.decisions.proj_start + inst.proj_lead - 1, 0)
    cell = ds.status.replace({True: MET, False: UNMET}).astype(object)
    for p in np.flatnonzero(done_year > 0):
        cell.iloc[int(inst.proj_commune[p]), int(inst.proj_criterion[p])] = f"KH {int(done_year[p])}"
    wide_sheet(wb.create_sheet(VI("report.sheet.criteria")), ds, ds.criteria, ds.communes,
               VI("report.criteria.title", first=inst.years[0], last=inst.horizon_end), lambda c, k: cell.loc[c, k],
               lambda r, a, b: f'=COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"{MET}")'
                               f'+COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"KH*")',
               money=False, demo_label=demo, choices=False)


def _projects_sheet(wb: Workbook, result: SolveResult, demo: str | None) -> None:
    inst, plan = result.instance, result.plan
    ds, crit = inst.dataset, inst.dataset.criteria
    projects = plan.projects.copy()
    projects["commune_name"] = projects["commune_code"].map(ds.communes["commune_name"]).fillna("")
    projects["district_name"] = projects["district_code"].map(ds.districts["district_name"]).astype(object).fillna("")
    names = {c.id: c.name_vi for c in crit.criteria}
    projects["criterion_name"] = projects["criterion"].map(names).fillna(projects["kind"].map(kinds_vi(crit)))
    projects["cost_bn"] = projects["cost_mvnd"].map(bn)
    ws = wb.create_sheet(schema.SHEET_PLAN)
    table_sheet(ws, PROJECT_COLUMNS, projects[[c.name for c in PROJECT_COLUMNS]].itertuples(index=False),
                VI("report.projects.title"), demo)
    _money_columns(ws, [len(PROJECT_COLUMNS)])


def _money_sheet(wb: Workbook, result: SolveResult, demo: str | None) -> None:
    inst, plan = result.instance, result.plan
    money = plan.funding.pivot_table(index="source", columns="year", values="amount_mvnd", aggfunc="sum",
                                     fill_value=0.0).reindex(inst.sources).fillna(0.0)
    names = {**dict(inst.dataset.sources["name_vi"]), "von_con_thieu": VI("report.money.gap")}
    rows = [[names.get(s, s), *(bn(v) for v in money.loc[s].tolist()), bn(money.loc[s].sum())] for s in money.index]
    rows.append([VI("report.money.total"), *(bn(v) for v in money.sum(axis=0).tolist()), bn(money.to_numpy().sum())])
    ws = wb.create_sheet(VI("report.sheet.money"))
    table_sheet(ws, (Column("name_vi", VI("report.col.source"), "text"),), rows, VI("report.money.title"), demo,
                extra_headers=[*(str(y) for y in money.columns), VI("report.col.whole_period")])
    ws.column_dimensions["A"].width = 48
    _money_columns(ws, list(range(2, len(money.columns) + 3)))


def _priorities_sheet(wb: Workbook, result: SolveResult, simulation: object, demo: str | None) -> None:
    from ntm_sim.analysis.compare import plannable_rows

    inst, plan = result.instance, result.plan
    first = int(inst.years[0])
    table = plannable_rows(commune_table(inst, plan, result.baselines), first)
    chance = None
    probability = getattr(simulation, "commune_probability", {}) or {}
    if RECOMMENDED in probability:
        last = probability[RECOMMENDED].iloc[:, -1]
        chance = table["commune_code"].astype(str).map(last)
    not_met, recognised = VI("report.priorities.not_met"), VI("report.priorities.recognised")
    year = [not_met if pd.isna(y) else recognised if y < first else int(y) for y in table["year_ntm"]]
    cols = [_column("priority", "int"), _column("commune_code", "code"), _column("commune_name", "text"),
            Column("district", VI("report.col.district_name"), "text"), _column("criteria_met_baseline", "int"),
            _column("money", "number"), _column("year", "text")]
    frame = table.assign(money=table["cost_to_complete_mvnd"].map(bn), year=year)
    if chance is not None:
        cols.append(_column("chance", "int", end=inst.horizon_end))
        frame = frame.assign(chance=(100 * chance).round(0))
    cols.append(Column("reason_vi", VI("report.col.reason"), "text"))
    rows = [[None if not isinstance(v, str) and pd.isna(v) else v for v in r]
            for r in frame[[c.name for c in cols]].itertuples(index=False)]
    ws = wb.create_sheet(VI("report.sheet.priorities"))
    table_sheet(ws, cols, rows, VI("report.priorities.title"), demo)
    _money_columns(ws, [6])
    ws.column_dimensions[get_column_letter(len(cols))].width = 80


def _comparison_sheet(wb: Workbook, result: SolveResult, simulation: object, demo: str | None) -> None:
    """Each plan on paper and in the simulation (same draws): communes, band, chance of the target, tiers, money."""
    from ntm_sim.present.report_html import plan_name

    inst = result.instance
    tiers = inst.dataset.criteria.tier_slots()
    target = inst.scenario.targets.communes_ntm
    outcomes = getattr(simulation, "outcomes", {}) or {}
    cols = [Column("name", VI("report.col.plan"), "text"), _column("paper", "int"), _column("mean", "number"),
            _column("band", "text"),
            *([Column("p", VI("report.col.target", target=target), "text")] if target is not None else []),
            # on paper, as the title says
            *(Column(slot, VI("report.col.tier", tier=t.label_vi), "int") for slot, t in tiers.items()),
            *((_column("districts", "int"),) if inst.has_district_units else ()),
            _column("cost", "number")]
    rows = []
    for name, p in {RECOMMENDED: result.plan, **result.baselines}.items():
        o = p.outcomes
        x = np.asarray(outcomes[name]["communes_ntm"], dtype=float) if name in outcomes else None
        sim = [None, None] if x is None else [round(float(x.mean()), 1),
                                                f"{VI.number(np.percentile(x, 5))}–{VI.number(np.percentile(x, 95))}"]
        chance = [] if target is None else [None if x is None else f"{VI.number(100 * (x >= target).mean())}%"]
        counts = {"advanced": int(o.advanced.sum()), "model": int(o.model.sum())}
        rows.append([plan_name(name, VI), o.communes_ntm, *sim, *chance, *(counts[slot] for slot in tiers),
                     *((int(o.district_unit.sum()),) if inst.has_district_units else ()), bn(o.total_cost)])
    ws = wb.create_sheet(VI("report.sheet.comparison"))
    table_sheet(ws, cols, rows, VI("report.comparison.title"), demo)
    _money_columns(ws, [len(cols)])
    _money_columns(ws, [3], "#,##0.0")
    ws.column_dimensions["A"].width = 60


def build_plan_workbook(result: SolveResult, summary: dict | None = None, simulation: object = None) -> Workbook:
    """Build the plan workbook of a solve.

    ``summary``: its ``summary.json`` (the cover's verdict); ``simulation``: the plans simulated on
    common draws (the simulated figures beside those on paper).
    """
    inst = result.instance
    ds = inst.dataset
    demo = ds.meta.demo_label if ds.meta.demo else None
    wb = Workbook()
    wb.active.title = SHEET_COVER
    _cover(wb.active, result, summary, simulation, demo)
    _criteria_sheet(wb, result, demo)
    _projects_sheet(wb, result, demo)
    _money_sheet(wb, result, demo)
    _priorities_sheet(wb, result, simulation, demo)
    _comparison_sheet(wb, result, simulation, demo)
    footer = f"ntm-sim · {inst.scenario.title or inst.scenario.name}"
    for ws in wb.worksheets:
        print_setup(ws, ws.title, footer)
    wb.active = 0  # opens on the cover
    return wb


def write_plan_workbook(result: SolveResult, path: Path, summary: dict | None = None,
                        simulation: object = None) -> None:
    """Write ``plan.xlsx`` atomically."""
    save_workbook_atomic(build_plan_workbook(result, summary, simulation), path)
