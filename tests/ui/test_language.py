"""The page in Vietnamese, with an English switch: one catalogue, the page's `lang` set."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conftest import shot

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui")]


def test_vietnamese_by_default_and_english_on_request(clean_page):
    page = clean_page
    expect(page.locator("html")).to_have_attribute("lang", "vi", timeout=10_000)
    expect(page.get_by_role("heading", name="Chỉ tiêu chính")).to_be_visible()
    expect(page.get_by_role("button", name="Giải và mô phỏng")).to_be_attached()
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"\?lang=en$"), timeout=30_000)
    page.wait_for_selector("#indicators", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=10_000)
    for heading in ("Headline indicators", "Commune priorities", "Try a new budget scenario"):
        expect(page.get_by_role("heading", name=heading)).to_be_attached()
    expect(page.get_by_role("button", name="Solve and simulate")).to_be_attached()
    expect(page.get_by_label("Result name")).to_be_attached()
    # a refusal in English too
    page.get_by_label("Result name").fill("%%%")
    page.get_by_role("button", name="Solve and simulate").click()
    status = page.locator("#run-status")
    expect(status).to_contain_text("Not run: the entries are not valid.", timeout=15_000)
    assert "The result name needs at least one letter or digit." in status.inner_text()
    shot(page, "10_english")
    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_url(re.compile(r"\?lang=vi$"), timeout=30_000)
    page.wait_for_selector("#indicators", timeout=30_000)
    expect(page.locator("html")).to_have_attribute("lang", "vi", timeout=10_000)
    expect(page.get_by_role("heading", name="Chỉ tiêu chính")).to_be_visible()
