"""Reports for the committee: the plan written back in the planners' own workbook layout.

``plan.xlsx`` holds, in Vietnamese: the criteria table with each unmet criterion marked
with the year the plan meets it ("KH 2023") or left "Chưa đạt"; the projects by year
and source; the commune priorities with their reasons; and the comparison with the
rules used today. Demo data is labelled on every sheet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.io import schema
from ntm_sim.data.io.excel_write import guide_sheet, save_workbook_atomic, table_sheet, wide_sheet
from ntm_sim.data.io.tables import Column
from ntm_sim.optimize import SolveResult
from ntm_sim.optimize.baselines import NAMES_VI
from ntm_sim.present.explain import commune_table

PROJECT_COLUMNS = (
    Column("commune_code", "Mã xã", "code"), Column("commune_name", "Tên xã", "text"),
    Column("district_name", "Huyện", "text"), Column("criterion", "Hạng mục", "text"),
    Column("criterion_name", "Tên tiêu chí / hạng mục", "text"), Column("start_year", "Năm bắt đầu", "int"),
    Column("end_year", "Năm hoàn thành", "int"), Column("quantity", "Số lượng", "int"),
    Column("cost_mvnd", "Vốn (triệu đồng)", "number"),
)
KIND_VI = {"advanced": "Lên xã NTM nâng cao", "model": "Lên xã NTM kiểu mẫu", "village_ntm": "Thôn đạt NTM",
           "village_model": "Thôn kiểu mẫu", "district": "Tiêu chí cấp huyện",
           "district_advanced": "Huyện NTM nâng cao"}


def kinds_vi(crit: CriteriaSet) -> dict[str, str]:
    """:data:`KIND_VI` with the tier upgrades named after the criteria set's own tiers ("Lên xã NTM hiện đại …")."""
    return {**KIND_VI, **{slot: f"Lên xã NTM {t.label_vi}" for slot, t in crit.tier_slots().items()}}


def build_plan_workbook(result: SolveResult) -> Workbook:
    """Build the plan workbook of a solve."""
    inst = result.instance
    ds = inst.dataset
    crit = ds.criteria
    demo = ds.meta.demo_label if ds.meta.demo else None
    wb = Workbook()
    guide_sheet(wb.active, demo)
    wb.active.title = schema.SHEET_GUIDE
    # criteria table with the plan's years
    plan = result.plan
    done_year = np.where(plan.decisions.proj_start >= 0, plan.decisions.proj_start + inst.proj_lead - 1, 0)
    cell = ds.status.replace({True: "Đạt", False: "Chưa đạt"}).astype(object)
    for p in np.flatnonzero(done_year > 0):
        cell.iloc[int(inst.proj_commune[p]), int(inst.proj_criterion[p])] = f"KH {int(done_year[p])}"
    wide_sheet(wb.create_sheet("Kế hoạch theo tiêu chí"), ds, crit, ds.communes,
                f"KẾ HOẠCH THỰC HIỆN TIÊU CHÍ XÃ NÔNG THÔN MỚI {inst.years[0]}–{inst.horizon_end} "
                "(KH năm: năm dự kiến đạt)", lambda c, k: cell.loc[c, k],
                lambda r, a, b: f'=COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"Đạt")'
                                f'+COUNTIF({get_column_letter(a)}{r}:{get_column_letter(b)}{r},"KH*")',
                money=False, demo_label=demo, choices=False)
    # projects
    projects = plan.projects.copy()
    projects["commune_name"] = projects["commune_code"].map(ds.communes["commune_name"]).fillna("")
    projects["district_name"] = projects["district_code"].map(ds.districts["district_name"]).astype(object).fillna("")
    names = {c.id: c.name_vi for c in crit.criteria}
    projects["criterion_name"] = projects["criterion"].map(names).fillna(projects["kind"].map(kinds_vi(crit)))
    table_sheet(wb.create_sheet(schema.SHEET_PLAN), PROJECT_COLUMNS,
                 projects[[c.name for c in PROJECT_COLUMNS]].itertuples(index=False),
                 "DANH MỤC DỰ ÁN THEO NĂM", demo)
    # money by source and year
    money = plan.funding.pivot_table(index="source", columns="year", values="amount_mvnd", aggfunc="sum",
                                     fill_value=0.0).reindex(inst.sources).fillna(0.0)
    src_names = {**dict(ds.sources["name_vi"]), "von_con_thieu": "Vốn còn thiếu (chưa có nguồn)"}
    rows = [[s, src_names.get(s, s), *money.loc[s].tolist()] for s in money.index]
    table_sheet(wb.create_sheet("Vốn theo nguồn"), (Column("source_id", "Mã nguồn", "text"),
                 Column("name_vi", "Nguồn vốn", "text")), rows, "VỐN THEO NGUỒN VÀ NĂM (triệu đồng)", demo,
                 extra_headers=[str(y) for y in money.columns])
    # priorities with reasons
    table = commune_table(inst, plan, result.baselines)
    cols = (Column("rank", "Thứ tự ưu tiên", "int"), Column("commune_code", "Mã xã", "code"),
            Column("commune_name", "Tên xã", "text"), Column("district", "Huyện", "text"),
            Column("criteria_met_baseline", "Số TC đạt đầu kỳ", "int"),
            Column("cost_to_complete_mvnd", "Vốn để đạt chuẩn (triệu đồng)", "number"),
            Column("year_ntm", "Năm đạt chuẩn", "int"), Column("reason_vi", "Lý do", "text"))
    rows = [[None if pd.isna(v) else v for v in r] for r in table[[c.name for c in cols]].itertuples(index=False)]
    table_sheet(wb.create_sheet("Ưu tiên"), cols, rows, "THỨ TỰ ƯU TIÊN CÁC XÃ VÀ LÝ DO", demo)
    # comparison with today's rules
    # the criteria set's own tiers; district units only where the set recognises them
    tiers = crit.tier_slots()
    cmp_cols = (Column("name", "Phương án", "text"), Column("communes_ntm", "Xã NTM cuối kỳ", "int"),
                *(Column(slot, f"Xã {t.label_vi}", "int") for slot, t in tiers.items()),
                *((Column("districts", "Đơn vị cấp huyện", "int"),) if inst.has_district_units else ()),
                Column("cost", "Tổng vốn (triệu đồng)", "number"))
    rows = []
    for name, p in {"optimum": plan, **result.baselines}.items():
        o = p.outcomes
        counts = {"advanced": int(o.advanced.sum()), "model": int(o.model.sum())}
        rows.append([NAMES_VI.get(name, name), o.communes_ntm, *(counts[slot] for slot in tiers),
                     *((int(o.district_unit.sum()),) if inst.has_district_units else ()), o.total_cost])
    table_sheet(wb.create_sheet("So sánh"), cmp_cols, rows, "SO SÁNH VỚI CÁCH PHÂN BỔ HIỆN HÀNH", demo)
    return wb


def write_plan_workbook(result: SolveResult, path: Path) -> None:
    """Write ``plan.xlsx`` atomically."""
    save_workbook_atomic(build_plan_workbook(result), path)
