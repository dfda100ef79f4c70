"""Column schemas of the tables the tool reads and writes (Excel sheets and CSV)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ntm_sim.data.checks import FIRST_RECOGNITION_YEAR, commune_class_expected, commune_class_id
from ntm_sim.data.criteria import CriteriaSet
from ntm_sim.data.io.tables import Column, Grid
from ntm_sim.errors import ProblemLog
from ntm_sim.messages import Text

# Sheet names of the planners' workbook (and the template).
SHEET_STATUS = "Kết quả tiêu chí"
SHEET_COST = "Nhu cầu vốn"
SHEET_COMMUNES = "Danh sách xã"
SHEET_DISTRICTS = "Huyện"
SHEET_SOURCES = "Nguồn vốn"
SHEET_GUIDE = "Hướng dẫn"
SHEET_PLAN = "Kế hoạch"

STATUS_SHEET_HINTS = ("kết quả", "tiêu chí", "hiện trạng", "thực trạng", "status", "đánh giá")
COST_SHEET_HINTS = ("nhu cầu vốn", "vốn", "chi phí", "kinh phí", "cost")

CODE = Column("commune_code", "Mã xã", "code",
              ("mã", "mã đơn vị", "mã đvhc", "mã xã/phường", "code", "ma xa"))
NAME = Column("commune_name", "Đơn vị", "text",
              ("tên xã", "xã", "tên đơn vị", "đơn vị hành chính", "commune", "tên",
               "ten xa", "don vi"))
DISTRICT_CODE = Column("district_code", "Mã huyện", "code", ("mã đơn vị cấp huyện", "ma huyen"))
DISTRICT_NAME = Column("district_name", "Huyện", "text",
                       ("tên huyện", "đơn vị cấp huyện", "huyện/thị xã/thành phố", "district",
                        "huyen"))
STT = Column("stt", "STT", "text", ("tt", "số tt", "số thứ tự", "no", "no."))
TOTAL = Column("total", "Tổng số tiêu chí đạt", "number",
               ("tổng số tiêu chí đạt", "số tiêu chí đạt", "tổng", "tổng cộng", "cộng",
                "tổng số tc đạt", "total"))

# Identification columns of the wide criteria sheets (status and cost).
WIDE_ID_COLUMNS = (CODE, NAME, DISTRICT_CODE, DISTRICT_NAME, STT, TOTAL)

COMMUNE_CLASS = Column("commune_class", "Nhóm xã (QĐ 51/2025)", "text",
                       ("commune_class", "nhóm xã", "nhóm xã qđ 51", "phân nhóm xã", "nhóm xã theo qđ 51/2025"))

COMMUNE_TABLE = (
    Column("commune_code", "Mã xã", "code", CODE.aliases, required=True),
    Column("commune_name", "Tên xã", "text", ("đơn vị", *NAME.aliases)),
    Column("district_code", "Mã huyện", "code", DISTRICT_CODE.aliases),
    Column("district_name", "Tên huyện", "text", DISTRICT_NAME.aliases),
    Column("province_code", "Mã tỉnh", "code", ("province_code", "ma tinh")),
    Column("province_name", "Tên tỉnh", "text", ("province_name", "tỉnh", "ten tinh")),
    Column("especially_difficult", "Xã ĐBKK", "flag",
           ("đbkk", "xã đặc biệt khó khăn", "khu vực iii", "xã khu vực iii", "especially difficult")),
    Column("population", "Dân số (người)", "number", ("dân số", "population", "số dân")),
    Column("households", "Số hộ", "number", ("hộ", "households", "số hộ dân")),
    Column("villages", "Số thôn", "int", ("thôn", "villages", "số thôn, bản")),
    Column("villages_ntm", "Thôn đạt NTM", "int", ("số thôn đạt ntm", "villages_ntm")),
    Column("villages_model", "Thôn kiểu mẫu", "int", ("số thôn kiểu mẫu", "villages_model")),
    Column("advanced", "Đạt NTM nâng cao", "flag", ("nâng cao", "advanced", "xã ntm nâng cao")),
    # the criteria set's top tier: kiểu mẫu (2021–2025) or the modern-commune pilot (2026–2030)
    Column("model", "Đạt NTM kiểu mẫu", "flag", ("kiểu mẫu", "model", "xã ntm kiểu mẫu", "hiện đại", "modern",
                                                 "xã ntm hiện đại", "đạt ntm hiện đại",
                                                 "đạt ntm hiện đại (thí điểm)")),
    Column("advanced_cost_mvnd", "Vốn lên NTM nâng cao (tr.đ)", "number",
           ("advanced_cost_mvnd", "chi phí nâng cao")),
    Column("model_cost_mvnd", "Vốn lên NTM kiểu mẫu (tr.đ)", "number",
           ("model_cost_mvnd", "chi phí kiểu mẫu", "chi phí hiện đại", "vốn lên ntm hiện đại (tr.đ)",
            "vốn lên ntm hiện đại (thí điểm) (tr.đ)")),
    Column("village_ntm_cost_mvnd", "Vốn mỗi thôn NTM (tr.đ)", "number",
           ("village_ntm_cost_mvnd",)),
    Column("village_model_cost_mvnd", "Vốn mỗi thôn kiểu mẫu (tr.đ)", "number",
           ("village_model_cost_mvnd",)),
    # optional: without it a commune is recognised exactly when it meets every criterion
    Column("recognised_year", "Năm được công nhận NTM", "int",
           ("recognised_year", "năm công nhận", "năm công nhận ntm", "năm đạt chuẩn ntm"),
           min_value=FIRST_RECOGNITION_YEAR),
    # optional: the commune's class under Decision 51/2025 (checked against the criteria set's classes)
    COMMUNE_CLASS,
)

#: Commune columns of a tier place: the advanced tier, or the set's top tier.
TIER_COLUMNS = {"advanced": "advanced", "advanced_cost_mvnd": "advanced", "model": "model",
                "model_cost_mvnd": "model"}


def commune_columns(criteria: CriteriaSet, *, blank: bool = False) -> tuple[Column, ...]:
    """:data:`COMMUNE_TABLE` as a criteria set's workbook has it: tier columns named after its own tiers.

    Decision 318: "Đạt NTM nâng cao", "Đạt NTM kiểu mẫu" (the table as it is); Decision 51:
    "Đạt NTM hiện đại (thí điểm)". A blank template (``blank``) has no column for a tier
    the set does not issue; a dataset written back keeps them (a commune's advanced mark
    under the earlier set is data).
    """
    tiers = criteria.tier_slots()
    out = []
    for col in COMMUNE_TABLE:
        slot = TIER_COLUMNS.get(col.name)
        if col.name == "commune_class" and not criteria.commune_classes:
            continue  # the class column only for sets with classes (Decision 51)
        if slot is None:
            out.append(col)
        elif slot in tiers:
            label = tiers[slot].label_vi
            out.append(replace(col, header_vi=f"Đạt NTM {label}" if col.kind == "flag" else
                               f"Vốn lên NTM {label} (tr.đ)"))
        elif not blank:
            out.append(col)
    return tuple(out)


DISTRICT_TABLE = (
    Column("district_code", "Mã huyện", "code", DISTRICT_CODE.aliases, required=True),
    Column("district_name", "Tên huyện", "text", DISTRICT_NAME.aliases),
    Column("ntm", "Đạt chuẩn NTM", "flag", ("đạt chuẩn", "hoàn thành nhiệm vụ", "ntm")),
    Column("advanced", "Đạt NTM nâng cao", "flag", ("nâng cao", "advanced")),
    Column("district_cost_mvnd", "Vốn tiêu chí huyện (tr.đ)", "number", ("district_cost_mvnd",)),
    Column("district_advanced_cost_mvnd", "Vốn huyện nâng cao (tr.đ)", "number",
           ("district_advanced_cost_mvnd",)),
)

SOURCE_TABLE = (
    Column("source_id", "Mã nguồn", "code", ("source_id", "mã", "ma nguon"), required=True),
    Column("name_vi", "Tên nguồn vốn", "text", ("nguồn vốn", "tên nguồn", "name_vi")),
    Column("name_en", "Tên tiếng Anh", "text", ("name_en", "english")),
    Column("eligible", "Được chi cho tiêu chí", "text",
           ("tiêu chí được chi", "eligible", "được chi cho", "phạm vi chi"), required=True),
    Column("scope", "Địa bàn (mã tỉnh/huyện)", "text", ("scope", "địa bàn", "phạm vi", "địa bàn áp dụng")),
)

EXPECTED_RULE = Text("sources.rule.expected")

LONG_STATUS_TABLE = (
    Column("commune_code", "commune_code", "code", CODE.aliases),
    Column("commune_name", "commune_name", "text", NAME.aliases),
    Column("district_code", "district_code", "code", DISTRICT_CODE.aliases),
    Column("district_name", "district_name", "text", DISTRICT_NAME.aliases),
    Column("criterion", "criterion", "text", ("tiêu chí", "tieu chi", "tc"), required=True),
    Column("met", "met", "text", ("đạt", "kết quả", "status", "trạng thái"), required=True),
    Column("cost_mvnd", "cost_mvnd", "number", ("nhu cầu vốn", "chi phí", "cost")),
    Column("cost_estimated", "cost_estimated", "flag", ("ước tính",)),
)

ENVELOPE_TABLE = (
    Column("source_id", "source_id", "code", SOURCE_TABLE[0].aliases, required=True),
    Column("year", "year", "int", ("năm",), required=True),
    Column("amount_mvnd", "amount_mvnd", "number", ("số vốn", "amount"), required=True),
)


def check_commune_classes(table: pd.DataFrame, criteria: CriteriaSet, grid: Grid, colmap: dict[str, int],
                          log: ProblemLog) -> None:
    """Report each ``commune_class`` cell that names no class of ``criteria``, with its row and column.

    ``table`` is a commune table read by :func:`ntm_sim.data.io.tables.read_table` (with its
    ``_row`` column); blank cells are fine (class not given).
    """
    if "commune_class" not in table.columns or "commune_class" not in colmap:
        return
    for _, r in table.iterrows():
        value = r["commune_class"]
        if value and commune_class_id(criteria, value) is None:
            log.error(Text("data.not_a_class_cell", column=COMMUNE_CLASS.header_vi, set=criteria.id),
                      row=int(r["_row"]), column=grid.col_label(colmap["commune_class"]),
                      expected=commune_class_expected(criteria), found=str(value))
