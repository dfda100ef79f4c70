"""The notebooks run end to end on existing results folders, with no cell in error."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def test_committee_questions_runs_and_answers(compare_root, monkeypatch):
    monkeypatch.setenv("NTM_SIM_RESULTS", str(compare_root))  # read by the kernel: no solve here
    nb = nbformat.read(ROOT / "notebooks" / "committee_questions.ipynb", as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") if "text" in o else json.dumps(o.get("data", {}), ensure_ascii=False)
                     for o in outputs)
    base = json.loads((compare_root / "baseline" / "summary.json").read_text(encoding="utf-8"))
    cut = json.loads((compare_root / "budget_cut_20" / "summary.json").read_text(encoding="utf-8"))
    assert f"trên giấy: {base['communes_ntm']} xã" in text
    assert f"({base['communes_ntm']} → {cut['communes_ntm']})" in text
    rule = base["baselines"]["planners_rule"]["communes_ntm"]
    assert f"Quy tắc hiện hành (ít tiêu chí thiếu nhất trước): {rule} xã" in text
    assert "MINH HỌA" in text  # demo data said so
