"""The backtest: 2021–2024 from the 2021 start with the money planned, against the known counts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ntm_sim.backtest import KNOWN, PAPER, run_backtest
from ntm_sim.cli import app
from ntm_sim.io import load_dataset


@pytest.fixture(scope="module")
def result(lao_cai):
    return run_backtest(lao_cai, ("default", "pessimistic"), n_draws=400, seed=0)


def test_known_end_2023_count_against_the_simulation(result):
    known = KNOWN[2023][0]
    paper = result.at(PAPER, 2023)["median"]
    default = result.at("default", 2023)
    pessimistic = result.at("pessimistic", 2023)
    # a plan on paper assumes nothing goes wrong: it overstates what happened by far
    assert paper > known + 20
    # the default simulation of recognised communes comes within 10 of it, from above
    assert known <= default["median"] <= known + 10
    # the pessimistic preset lies below the default and its band holds the known count
    assert pessimistic["median"] < default["median"]
    assert pessimistic["p5"] <= known <= pessimistic["p95"]
    # meeting every criterion: the default band holds it too
    crit = result.at("default", 2023, "criteria")
    assert crit["p5"] <= known <= crit["p95"]
    # recognition is sticky: never below the communes meeting every criterion
    for year in (2021, 2022, 2023, 2024):
        assert result.at("default", year)["median"] >= result.at("default", year, "criteria")["median"]
    # every series starts from the public 61
    assert (result.table.loc[result.table["year"] == 2020, "median"] == 61).all()


def test_backtest_is_reproducible(lao_cai, result):
    again = run_backtest(lao_cai, ("default", "pessimistic"), n_draws=400, seed=0)
    assert again.table.equals(result.table)


def test_backtest_command_prints_the_comparison():
    out = CliRunner().invoke(app, ["backtest", "--draws", "200"])
    assert out.exit_code == 0, out.output
    assert "| **known** | 61 | – | – | 62 | 72 (aim) |" in out.output
    assert "disaster_2024" in out.output
    bad = CliRunner().invoke(app, ["backtest", "--draws", "0"])
    assert bad.exit_code == 2
    assert "--draws" in bad.output


def test_another_dataset_is_not_compared_with_lao_cai_s_counts(tmp_path):
    """Issue 22, #19: the known counts are the 127 communes of Lào Cai's; three of them have none."""
    from test_bad_files import SHEET_SOURCES, planner

    sources = [["Mã nguồn", "Tên nguồn vốn", "Được chi cho tiêu chí", 2021, 2022, 2023, 2024],
               ["ns_tinh", "Ngân sách tỉnh", "Tất cả", 1000, 1200, 1200, 1200]]
    path = planner(tmp_path / "ba_xa.xlsx", **{SHEET_SOURCES: sources})
    out = CliRunner().invoke(app, ["backtest", "--data", str(path), "--draws", "20"])
    assert out.exit_code == 0, out.output
    assert "no known points for this dataset" in out.output
    assert "| **known** | – | – | – | – |" in out.output
    assert "61" not in out.output
    result = run_backtest(load_dataset(path), ("default",), n_draws=20, seed=0)
    assert not result.has_known
    assert result.table["known"].isna().all()
    assert 2020 not in set(result.table["year"])  # no start borrowed from Lào Cai's 61


def test_the_bundled_data_keep_their_known_points(result):
    assert result.has_known
