"""The dashboard server's runs are read once and read again when their files change (``RunCache``)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import ntm_sim.run.runs as runs_module
from ntm_sim.errors import InputError
from ntm_sim.run.runs import RunCache, scan_runs


@pytest.fixture
def root(compare_root, tmp_path) -> Path:
    """A copy of the two results folders (the tests change them)."""
    shutil.copytree(compare_root, tmp_path / "results")
    return tmp_path / "results"


@pytest.fixture
def reads(monkeypatch) -> list[Path]:
    """The folders read from disk (every call of ``load_run``)."""
    seen: list[Path] = []
    real = runs_module.load_run

    def counting(folder):
        seen.append(Path(folder))
        return real(folder)

    monkeypatch.setattr(runs_module, "load_run", counting)
    return seen


def _same(a, b) -> None:
    assert (a.name, a.folder, a.summary, a.manifest, a.simulation, a.record) == \
        (b.name, b.folder, b.summary, b.manifest, b.simulation, b.record)
    pd.testing.assert_frame_equal(a.communes, b.communes)
    assert (a.sim_communes is None) == (b.sim_communes is None)
    if a.sim_communes is not None:
        pd.testing.assert_frame_equal(a.sim_communes, b.sim_communes)


def test_an_unchanged_run_is_read_once_and_shows_as_read(root, reads):
    cache = RunCache()
    first, _ = scan_runs(root, cache=cache)
    assert len(reads) == 2
    again, problems = scan_runs(root, cache=cache)
    assert len(reads) == 2
    assert problems == []
    fresh, _ = scan_runs(root)  # no cache: read from disk
    for a, b, c in zip(first, again, fresh, strict=True):
        _same(a, c)
        _same(b, c)


def test_a_page_changing_its_run_changes_no_other_page(root):
    cache = RunCache()
    a = cache.load(root / "baseline")
    a.communes.loc[:, "commune_name"] = "?"
    a.summary["headline"] = None
    a.record.communes_ntm = -1
    b = cache.load(root / "baseline")
    assert (b.communes["commune_name"] != "?").all()
    assert b.summary["headline"] is not None
    assert b.record.communes_ntm >= 0


def test_a_run_written_again_is_read_again(root, reads):
    cache = RunCache()
    old = cache.load(root / "budget_cut_20")
    # written as the tool writes: a new folder renamed into place
    new = root / ".new"
    shutil.copytree(root / "budget_cut_20", new)
    summary = json.loads((new / "summary.json").read_text(encoding="utf-8"))
    summary["title_en"] = "Budget cut, second run"
    (new / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(root / "budget_cut_20")
    os.rename(new, root / "budget_cut_20")
    run = cache.load(root / "budget_cut_20")
    assert len(reads) == 2
    assert run.display_title("en") == "Budget cut, second run" != old.display_title("en")


def test_a_file_edited_in_place_is_read_again(root, reads):
    cache = RunCache()
    cache.load(root / "baseline")
    path = root / "baseline" / "communes.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # one byte more
    cache.load(root / "baseline")
    assert len(reads) == 2


def test_a_damaged_run_is_named_every_time_and_read_once_mended(root, reads):
    cache = RunCache()
    path = root / "baseline" / "summary.json"
    good = path.read_bytes()
    path.write_text("{", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError) as err:
            cache.load(root / "baseline")
        assert "summary.json" in err.value.problems[0].file
    path.write_bytes(good)
    cache.load(root / "baseline")
    cache.load(root / "baseline")
    assert len(reads) == 3  # two refusals, then one read


def test_a_run_deleted_or_damaged_is_let_go(root):
    cache = RunCache()
    scan_runs(root, cache=cache)
    assert len(cache) == 2
    shutil.rmtree(root / "budget_cut_20")
    (root / "baseline" / "summary.json").write_text("{", encoding="utf-8")
    runs, problems = scan_runs(root, cache=cache)
    assert runs == []
    assert len(problems) == 1
    assert len(cache) == 0  # a long-running server keeps no run that is gone
