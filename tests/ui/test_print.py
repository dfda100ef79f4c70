"""The committee's report printed in Chromium: an administrative document on A4 (Decree 30/2020), tables on
landscape pages, headline figures readable, no word broken, nothing asked for outside the file."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

from conftest import SHOTS, Watched
from ntm_sim.messages import vietnam_time
from ntm_sim.present.report_page import write_report
from ntm_sim.run.runs import load_run

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

A4_PT = (595.28, 841.89)  # 210 × 297 mm in PDF points
PORTRAIT_PX = 623  # 210 mm less Decree 30's margins (30 mm left, 15 mm right), in CSS px


def _a4(width: float, height: float) -> str | None:
    """``portrait`` or ``landscape`` for an A4 page (Chromium lays pages out in whole CSS px), else None."""
    if abs(width - A4_PT[0]) <= 2 and abs(height - A4_PT[1]) <= 2:
        return "portrait"
    if abs(width - A4_PT[1]) <= 2 and abs(height - A4_PT[0]) <= 2:
        return "landscape"
    return None


def test_report_prints_as_a_document_on_a4(browser, compare_root, tmp_path):
    import pypdfium2 as pdfium

    runs = [load_run(compare_root / name) for name in ("baseline", "budget_cut_20")]
    report = write_report(runs, tmp_path / "bao_cao.html")
    page = browser.new_page()
    watched = Watched(page)
    page.goto(report.as_uri())
    page.wait_for_selector("canvas", state="attached", timeout=15_000)
    page.emulate_media(media="print")
    # charts fit the portrait page's printable width
    widths = page.locator("canvas").evaluate_all("cs => cs.map(c => c.getBoundingClientRect().width)")
    assert widths
    assert max(widths) <= PORTRAIT_PX
    # the headline figures print at a size one can read (they were 9 px), and no word is broken inside
    cell = page.locator('#indicators tr[data-indicator="communes_ntm"] td').nth(1)
    assert float(cell.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 12
    for selector in ("#indicators td", "#indicators th", "table.ntm td"):
        style = page.locator(selector).first.evaluate(
            "e => [getComputedStyle(e).overflowWrap, getComputedStyle(e).wordBreak]")
        assert style == ["normal", "normal"], (selector, style)
    pdf = tmp_path / "bao_cao.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    page.close()
    assert watched.unexpected() == [], watched.errors
    assert watched.requests == [report.as_uri()]  # nothing beside the file (a missing one fails silently)

    doc = pdfium.PdfDocument(str(pdf))
    SHOTS.mkdir(exist_ok=True)
    texts, shapes = [], []
    for i, pdf_page in enumerate(doc):
        width, height = pdf_page.get_size()
        shapes.append(_a4(width, height))
        assert shapes[-1] is not None, f"page {i + 1}: {width} × {height} pt"
        texts.append(pdf_page.get_textpage().get_text_range())
        pdf_page.render(scale=1.4).to_pil().save(SHOTS / f"print_report_p{i + 1:02d}.png")
    assert shapes[0] == "portrait"  # the heading and the verdict
    assert "landscape" in shapes  # the wide tables, each on landscape pages
    assert 3 <= len(texts) < 40
    first = unicodedata.normalize("NFC", " ".join(texts[0].split()))
    # the official heading: national title and motto, the issuing body, the place and today's date
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO", "DỰ THẢO",
                  "VĂN PHÒNG ĐIỀU PHỐI NÔNG THÔN MỚI", "Kết luận cho từng kịch bản"):
        assert words in first, words
    today = vietnam_time()
    month = f"{today.month:02d}" if today.month <= 2 else str(today.month)
    assert f"Lào Cai, ngày {today.day:02d} tháng {month} năm {today.year}" in first
    # one space for any run of white space: a name may wrap inside its cell, never inside a word
    text = unicodedata.normalize("NFC", " ".join(" ".join(texts).split()))
    for heading in ("Chỉ tiêu chính", "Tiến độ", "Ưu tiên theo xã", "Nguồn gốc số liệu", "Thứ tự"):
        assert heading in text, heading
    assert not re.search(r"\bTh ứ\b|\btự\s*/", text)
    # the commune tables are open on paper: names from each run's communes.csv, past the first screen too
    for run in runs:
        communes = pd.read_csv(run.folder / "communes.csv")
        listed = communes[communes["year_ntm"].isna() | (communes["year_ntm"] >= run.summary["years"][0])
                          | (communes["cost_to_complete_mvnd"] > 0)]
        names = listed.sort_values("rank")["commune_name"].astype(str)
        wanted = [names.iloc[0], names.iloc[len(names) // 2], names.iloc[-1]]
        assert all(name in text for name in wanted), wanted
    # the progress chart's last year is on the page, not cut off at the right edge
    assert str(runs[0].horizon) in text
