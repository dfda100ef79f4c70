"""The backtest: 2021–2024 from the 2021 start with the data's money, against every known point."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from ntm_sim.analysis.backtest import CALIBRATED, KNOWN, PAPER, backtest_scenario, province_practice, run_backtest
from ntm_sim.cli import app
from ntm_sim.model.instance import build_instance

# one worker: the module's costly fixture is built once, not once per worker
pytestmark = pytest.mark.xdist_group("backtest")


@pytest.fixture(scope="module")
def result(lao_cai):
    return run_backtest(lao_cai, ("default", "pessimistic"), n_draws=400, seed=0)


def test_the_default_band_covers_every_known_point_and_the_median_comes_within_three(result):
    default = result.table[result.table["settings"] == "default"]
    assert len(default) == len(KNOWN)
    missed = default[~default["covered"]]
    assert missed.empty, missed[["when", "measure", "known", "p5", "median", "p95"]].to_string()
    counts = default[default["count"]]
    assert (counts["error"].abs() <= 3).all(), counts[["when", "measure", "known", "median"]].to_string()


def test_points_up_to_2023_calibrate_and_later_ones_are_a_forecast_check():
    for point in KNOWN:
        assert point.role == ("calibration" if point.year <= 2023 else "forecast"), point
    # every calibrated setting names the point it was set from
    assert all(point.startswith(("end 2021", "end 2023", "10/2024", "no revocation")) for _, point, _ in CALIBRATED)


def test_on_paper_the_rule_as_written_revokes_what_the_province_kept(result):
    # the rule applied at the 2024 review would have taken away most of the 18 held communes; the record
    # shows none revoked, and the default simulation (revocation rarely carried out) keeps them
    paper = result.at(PAPER, "10/2024", "start_kept")["median"]
    assert paper <= 61 - 10
    assert result.at("default", "10/2024", "start_kept")["median"] >= 59
    # a plan on paper overstates the new communes of 2022–2023
    assert result.at(PAPER, "end 2023", "recognised")["median"] > result.at("default", "end 2023", "recognised")["p95"]
    # the pessimistic preset carries the rule out far more often: it loses communes the record kept
    assert result.at("pessimistic", "10/2024", "start_kept")["median"] < 59


def test_the_practice_funds_new_communes_first_and_five_advanced_in_2024(lao_cai):
    inst = build_instance(lao_cai, backtest_scenario())
    dec = province_practice(inst)
    upgraded = np.flatnonzero(dec.adv_start >= 0)
    assert len(upgraded) == 5
    assert set(dec.adv_start[upgraded]) == {2024}
    assert inst.recognised[upgraded].all()
    # money reached communes not yet recognised before any recognised commune's own gap in 2021
    first = [int(p) for p in np.argsort(dec.priority, kind="stable")[:5] if dec.proj_start[p] >= 0]
    assert not inst.recognised[inst.proj_commune[first]].any()


def test_backtest_is_reproducible(lao_cai, result):
    again = run_backtest(lao_cai, ("default", "pessimistic"), n_draws=400, seed=0)
    assert again.table.equals(result.table)


def test_backtest_command_prints_the_comparison():
    out = CliRunner().invoke(app, ["backtest", "--draws", "200"])
    assert out.exit_code == 0, out.output
    assert "| 6/2025 * | communes recognised NTM | 66 |" in out.output
    assert "disaster_2024" in out.output
    assert "threshold_zone3_factor" in out.output
    bad = CliRunner().invoke(app, ["backtest", "--draws", "0"])
    assert bad.exit_code == 2
    assert "--draws" in bad.output


def test_another_province_has_no_known_points(tmp_path):
    from test_bad_files import LONG_HEADER, long_rows, save_csv

    path = save_csv(tmp_path / "lai_chau.csv", [LONG_HEADER, *long_rows(code=3469, name="Ma Quai")])
    out = CliRunner().invoke(app, ["backtest", "--data", str(path), "--units", "none", "--draws", "10"])
    assert out.exit_code == 2, out.output
    assert "bộ dữ liệu này không phải của Lào Cai" in out.output  # in Vietnamese, as every problem
    english = CliRunner().invoke(app, ["--lang", "en", "backtest", "--data", str(path), "--units", "none",
                                       "--draws", "10"])
    assert "the known points are Lào Cai's" in english.output
