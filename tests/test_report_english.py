"""The committee's report in English (issue 19, item 3): every word from the catalogue, none left in Vietnamese.

Only the data's proper names (communes, districts, the province) and the document's official
number symbol (``/BC-VPĐP``, as the office registers it) stay as they are written.
"""

from __future__ import annotations

import html
import re

from ntm_sim.analysis.compare import labelled
from ntm_sim.data.registry import load_dataset
from ntm_sim.messages import Catalogue
from ntm_sim.present.report_page import build_report
from ntm_sim.run.runs import find_runs

VIETNAMESE_ONLY = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def test_the_english_report_has_no_vietnamese_word(compare_root):
    runs = labelled(find_runs(compare_root), "en")
    text = build_report(runs, t=Catalogue("en"))
    assert '<html lang="en">' in text
    body = re.sub(r"<script.*?</script>|<style.*?</style>", "", text, flags=re.DOTALL)
    lines = [line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "\n", body)).splitlines() if line.strip()]
    ds = load_dataset("lao_cai")
    names = sorted({*ds.communes["commune_name"].astype(str), *ds.districts["district_name"].astype(str), "Lào Cai",
                    "/BC-VPĐP"}, key=len, reverse=True)
    left = []
    for line in lines:
        rest = line
        for name in names:
            rest = rest.replace(name, "")
        if VIETNAMESE_ONLY.search(rest):
            left.append(line[:160])
    assert left == []
    assert any(line.startswith("Recommended plan: ") for line in lines)  # the verdict, in English too
