"""The layout of the shared example planner sheet, rebuilt here so CI always tests it.

Two sheets: 'Kết quả tiêu chí' with two title rows merged across, a blank row, a
two-row header ('STT', 'Đơn vị', 'Mã xã' merged over two rows, 'Kết quả thực hiện các
tiêu chí' merged over the criterion numbers 1…19, 'Tổng số tiêu chí đạt'), a district
row 'I Huyện Bảo Thắng' with a SUM formula, commune rows 'Xã …'; and 'Nhu cầu vốn'
with a single-row 'TC1'…'TC19' header and money where criteria are not met.
"""

from __future__ import annotations

from openpyxl import Workbook

from ntm_sim.data.io import read_any

ROWS = {  # code: (name, criteria not met)
    2911: ("Xã Bản Phiệt", {7, 10, 12, 17, 19}),
    2914: ("Xã Bản Cầm", {9, 10, 11, 13, 15, 16}),
    2932: ("Xã Xuân Giao", set()),
}


def build(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả tiêu chí"
    ws.append(["UBND HUYỆN BẢO THẮNG"])
    ws.append(["BIỂU TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI (VÍ DỤ — SỐ LIỆU GIẢ ĐỊNH)"])
    ws.append(["(Biểu mẫu ví dụ)"])
    ws.append([])
    ws.append(["STT", "Đơn vị", "Mã xã", "Kết quả thực hiện các tiêu chí"] + [None] * 18 + ["Tổng số tiêu chí đạt"])
    ws.append([None, None, None, *range(1, 20), None])
    first = 8
    ws.append(["I", "Huyện Bảo Thắng"] + [None] * 20 + [f"=SUM(W{first}:W{first + len(ROWS) - 1})"])
    for i, (code, (name, missing)) in enumerate(ROWS.items(), start=1):
        ws.append([i, name, code, *["Chưa đạt" if k in missing else "Đạt" for k in range(1, 20)], 19 - len(missing)])
    for rng in ("A2:W2", "A3:W3", "A5:A6", "B5:B6", "C5:C6", "D5:V5", "W5:W6"):
        ws.merge_cells(rng)
    cost = wb.create_sheet("Nhu cầu vốn")
    cost.append(["NHU CẦU VỐN ĐỂ HOÀN THÀNH CÁC TIÊU CHÍ CHƯA ĐẠT (triệu đồng) — VÍ DỤ, SỐ LIỆU GIẢ ĐỊNH"])
    cost.append([])
    cost.append(["STT", "Đơn vị", "Mã xã", *[f"TC{k}" for k in range(1, 20)], "Tổng"])
    for i, (code, (name, missing)) in enumerate(ROWS.items(), start=1):
        money = [100 * k if k in missing else None for k in range(1, 20)]
        cost.append([i, name, code, *money, sum(m for m in money if m)])
    cost.merge_cells("A1:W1")
    wb.save(path)


def test_reads_the_example_layout(tmp_path):
    path = tmp_path / "example.xlsx"
    build(path)
    ds = read_any(path)
    assert list(ds.communes.index) == ["2911", "2914", "2932"]
    assert ds.communes.loc["2911", "commune_name"] == "Bản Phiệt"
    assert ds.criteria_met.to_dict() == {"2911": 14, "2914": 13, "2932": 19}
    assert ds.cost.loc["2911", "TC7"] == 700
    assert ds.cost.loc["2914", "TC16"] == 1600
    assert not ds.any_cost_estimated
    assert ds.meta.demo  # "SỐ LIỆU GIẢ ĐỊNH" in the title
    assert ds.meta.title == "UBND HUYỆN BẢO THẮNG"
