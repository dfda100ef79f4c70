"""Data without money: ``validate`` says so, ``solve`` refuses with exit 2 and the place, nothing is written.

Found from outside: a template with empty *Nguồn vốn* rows, a workbook without a money sheet
and the documented long CSV without ``budget.extra_sources`` passed ``validate``, then ``solve``
failed with exit 1 ("zero-size array to reduction operation maximum"), and the dashboard kept
the upload.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ntm_sim.cli import EXIT_INPUT, app
from ntm_sim.data.io.schema import SHEET_SOURCES
from ntm_sim.errors import InputError
from ntm_sim.run.jobs import JobRequest, run_request
from test_bad_files import LONG_HEADER, long_rows, planner, save_csv, source_rows

pytestmark = pytest.mark.usefixtures("english")  # these tests read the problems' English texts

SCENARIO = "name: khong_von\ntitle: Không có vốn\n"
EXTRA = """budget:
  extra_sources:
    - id: ns_tinh
      name_vi: Ngân sách tỉnh
      eligible: Tất cả
      envelopes: {2021: 2000, 2022: 2000, 2023: 2000, 2024: 2000, 2025: 2000}
"""


def _no_money_files(folder: Path) -> dict[str, Path]:
    return {
        "empty source rows": planner(folder / "nguon_trong.xlsx", **{SHEET_SOURCES: source_rows()}),
        "no money sheet": planner(folder / "khong_sheet.xlsx"),
        "long csv": save_csv(folder / "dai.csv", [LONG_HEADER, *long_rows()]),
    }


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return _no_money_files(tmp_path)


def test_validate_warns_that_the_data_hold_no_money(files: dict[str, Path]) -> None:
    for what, path in files.items():
        result = CliRunner().invoke(app, ["validate", str(path)])
        assert result.exit_code == 0, (what, result.output)
        assert "no money in the data" in result.output, what
        if path.suffix == ".xlsx":
            assert f"sheet '{SHEET_SOURCES}'" in result.output, what


def test_solve_refuses_data_without_money_with_exit_2_and_writes_nothing(files: dict[str, Path],
                                                                          tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    for what, path in files.items():
        out = tmp_path / f"out_{path.stem}"
        result = CliRunner().invoke(app, ["solve", str(scenario), "--data", str(path), "--out", str(out),
                                          "--draws", "0"])
        assert result.exit_code == EXIT_INPUT, (what, result.output)
        assert "no money to plan with" in result.output, what
        assert path.name in result.output, what
        assert "budget.extra_sources" in result.output, what
        assert "unexpected error" not in result.output
        assert not out.exists(), what
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], what  # no leftover


def test_the_scenario_money_makes_the_long_csv_solvable(files: dict[str, Path], tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO + EXTRA, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["solve", str(scenario), "--data", str(files["long csv"]), "--out", str(out),
                                      "--draws", "0"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["communes_ntm"] >= 1  # one commune, 7 criteria at 500 each: well within the money


def test_a_least_cost_plan_needs_no_money(files: dict[str, Path], tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO + "mode: min-cost\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["solve", str(scenario), "--data", str(files["no money sheet"]),
                                      "--out", str(tmp_path / "out"), "--draws", "0"])
    assert result.exit_code == 0, result.output


def test_an_upload_without_money_is_refused_and_not_kept(files: dict[str, Path], tmp_path: Path) -> None:
    """The dashboard's run: the problem is listed (not "lỗi không mong đợi") and the upload is not kept."""
    path = files["empty source rows"]
    uploads = tmp_path / "results" / ".uploads" / "khong_von"
    req = JobRequest(scenario_yaml=SCENARIO, scenario_file="khong_von.yaml",
                     out=str(tmp_path / "results" / "khong_von"), draws=0, time_limit=60, seed=0,
                     upload_name=path.name, upload=path.read_bytes(), uploads=str(uploads))
    with pytest.raises(InputError) as err:
        run_request(req)
    assert any("no money to plan with" in p.message for p in err.value.errors)
    assert not uploads.exists()
    assert not (tmp_path / "results" / "khong_von").exists()
