"""The committee's report printed on A4 in Chromium: every page A4, every section open, the priorities there."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from conftest import SHOTS, Watched
from ntm_sim.present.report_html import write_report
from ntm_sim.run.runs import load_run

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

A4_PT = (595.28, 841.89)  # 210 × 297 mm in PDF points
PRINTABLE_PX = 703  # 210 mm less the report's 12 mm margins, in CSS px


def test_report_prints_whole_on_a4(browser, compare_root, tmp_path):
    import pypdfium2 as pdfium

    runs = [load_run(compare_root / name) for name in ("baseline", "budget_cut_20")]
    report = write_report(runs, tmp_path / "bao_cao.html")
    page = browser.new_page()
    watched = Watched(page)
    page.goto(report.as_uri())
    page.wait_for_selector("canvas", state="attached", timeout=15_000)
    page.emulate_media(media="print")
    # charts drawn at a desktop's width must still fit A4's printable width (186 mm = 703 px)
    widths = page.locator("canvas").evaluate_all("cs => cs.map(c => c.getBoundingClientRect().width)")
    assert widths
    assert max(widths) <= PRINTABLE_PX
    page.set_viewport_size({"width": PRINTABLE_PX, "height": 1000})
    assert page.evaluate("document.documentElement.scrollWidth") <= PRINTABLE_PX  # no table runs off the page
    pdf = tmp_path / "bao_cao.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    page.close()
    assert watched.unexpected() == [], watched.errors

    doc = pdfium.PdfDocument(str(pdf))
    SHOTS.mkdir(exist_ok=True)
    texts = []
    for i, pdf_page in enumerate(doc):
        width, height = pdf_page.get_size()
        # Chromium lays a page out in whole CSS pixels (794 × 1123): within 2 pt of A4; Letter is 612 × 792
        assert abs(width - A4_PT[0]) <= 2, f"page {i + 1}: {width} × {height} pt"
        assert abs(height - A4_PT[1]) <= 2, f"page {i + 1}: {width} × {height} pt"
        texts.append(pdf_page.get_textpage().get_text_range())
        pdf_page.render(scale=1).to_pil().save(SHOTS / f"print_report_p{i + 1:02d}.png")
    # one space for any run of white space: a name may wrap inside its cell
    text = unicodedata.normalize("NFC", " ".join(" ".join(texts).split()))
    assert 2 <= len(texts) < 40
    assert "Ưu tiên theo xã" in text
    assert "Nguồn gốc số liệu" in text  # the last section: nothing cut at the end
    # the commune tables are open on paper: names from each run's communes.csv, past the first screen too
    for run in runs:
        communes = pd.read_csv(run.folder / "communes.csv")
        # the communes the report lists: those not counted before the plan's first year, or recognised but
        # short of criteria (keeping the standard), by rank
        listed = communes[communes["year_ntm"].isna() | (communes["year_ntm"] >= run.summary["years"][0])
                          | (communes["cost_to_complete_mvnd"] > 0)]
        names = listed.sort_values("rank")["commune_name"].astype(str)
        wanted = [names.iloc[0], names.iloc[len(names) // 2], names.iloc[-1]]
        assert all(name in text for name in wanted), wanted
    # the progress chart's last year is on the page, not cut off at the right edge
    assert str(runs[0].horizon) in text
