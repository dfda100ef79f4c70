"""plan.xlsx for the meeting (issue 19, items 2 and 4): a cover with the verdict, the simulated figures beside
those on paper, names not ids, money rounded in tỷ đồng, and every sheet set to print on A4 landscape.

The workbook is read back with openpyxl and, where LibreOffice is installed, rendered to PDF (each page
A4 landscape; the pages kept as screenshots in ``tests/ui/screenshots/``).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ntm_sim.messages import Catalogue
from ntm_sim.present.report import BN_FORMAT, SHEET_COVER
from ntm_sim.present.verdict import verdict_lines
from ntm_sim.run.runs import load_run

VI = Catalogue("vi")
SHOTS = Path(__file__).resolve().parent / "ui" / "screenshots"
A4_PT = (595.28, 841.89)


@pytest.fixture(scope="module")
def plan(compare_root):
    return load_workbook(compare_root / "baseline" / "plan.xlsx")


def test_it_opens_on_a_cover_with_the_verdict(plan, compare_root):
    assert plan.active.title == SHEET_COVER
    assert plan.sheetnames[0] == SHEET_COVER
    cover = [str(c.value) for c in plan[SHEET_COVER]["A"] if c.value is not None]
    # the verdict's sentences as the page and the report give them, read from the results folder
    for line in verdict_lines(load_run(compare_root / "baseline")):
        assert f"• {line}" in cover, line
    assert any("tiền: tỷ đồng" in c for c in cover)
    # each wrapped sentence has the height of its lines: a printed row does not grow by itself
    ws = plan[SHEET_COVER]
    for cell in ws["A"]:
        if cell.value:
            lines = math.ceil(len(str(cell.value)) / ws.column_dimensions["A"].width)
            height = ws.row_dimensions[cell.row].height
            assert height is not None, cell.coordinate
            assert height >= 14 * lines, (cell.coordinate, height, cell.value)


def test_every_sheet_prints_on_a4_landscape_fit_to_width(plan):
    for ws in plan.worksheets:
        setup = ws.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), ws.title  # 9: A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.oddHeader.center.text == ws.title.replace("&", "&&")
        assert ws.oddFooter.left.text.startswith("ntm-sim · ")
        assert ws.oddFooter.right.text == "Trang &P/&N"
        if ws.freeze_panes and ws[ws.freeze_panes].row > 1:  # the table's heading rows on every page
            assert ws.print_title_rows.replace("$", "") == f"1:{ws[ws.freeze_panes].row - 1}", ws.title


def test_names_not_ids_and_money_rounded(plan, lao_cai):
    ids = set(lao_cai.sources.index.astype(str))
    for ws in plan.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                assert not (isinstance(v, str) and v in ids), (ws.title, cell.coordinate, v)
                if isinstance(v, float):  # to the million VND at most (no 92805.00000000001)
                    assert round(v, 3) == v, (ws.title, cell.coordinate, v)
    money = plan["Vốn theo nguồn"]
    assert any(c.number_format == BN_FORMAT for row in money.iter_rows(min_row=5) for c in row[1:])


def test_the_comparison_gives_simulated_figures_beside_paper(plan, compare_root):
    sim = json.loads((compare_root / "baseline" / "simulation" / "summary.json").read_text(encoding="utf-8"))
    summary = json.loads((compare_root / "baseline" / "summary.json").read_text(encoding="utf-8"))
    ws = plan["So sánh"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    head = next(r for r in rows if r[0] == "Phương án")
    target = int(summary["targets"]["communes_ntm"]["target"])
    assert head[1:5] == ["Xã NTM cuối kỳ (trên giấy)", "Xã NTM cuối kỳ (mô phỏng, bình quân)",
                         "Khoảng 5–95% (mô phỏng)", f"Khả năng đạt ≥ {target} xã (mô phỏng)"]
    best = next(r for r in rows if r[0] == "Phương án khuyến nghị")
    o = sim["plans"]["recommended"]["outcomes"]["communes_ntm"]
    assert best[1] == summary["communes_ntm"]
    assert best[2] == pytest.approx(round(o["mean"], 1))
    assert best[3] == f"{VI.number(o['p5'])}–{VI.number(o['p95'])}"
    p = sim["plans"]["recommended"]["target_probabilities"]["communes_ntm"]
    assert best[4] == f"{VI.number(100 * p)}%"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed here")
def test_it_renders_to_pdf_on_a4_landscape(compare_root, tmp_path):
    import pypdfium2 as pdfium

    profile = tmp_path / "lo-profile"  # its own profile: no clash with another LibreOffice running
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(compare_root / "baseline" / "plan.xlsx")],
                   check=True, capture_output=True, timeout=180)
    doc = pdfium.PdfDocument(str(tmp_path / "plan.pdf"))
    SHOTS.mkdir(exist_ok=True)
    texts = []
    for i, page in enumerate(doc):
        width, height = page.get_size()
        assert abs(width - A4_PT[1]) <= 2, f"page {i + 1}: {width} × {height} pt"  # landscape A4
        assert abs(height - A4_PT[0]) <= 2, f"page {i + 1}: {width} × {height} pt"
        texts.append(unicodedata.normalize("NFC", " ".join(page.get_textpage().get_text_range().split())))
        if i < 3:
            page.render(scale=1.4).to_pil().save(SHOTS / f"print_plan_p{i + 1:02d}.png")
    assert texts[0].startswith(SHEET_COVER)  # the header: the cover's name, on the first page
    assert "KẾT LUẬN" in texts[0]
    assert "Phương án khuyến nghị" in texts[0]
    assert "Trang 1/" in texts[0]
    assert 6 <= len(texts) < 200
