"""Fixtures for browser tests: two scenarios solved and simulated, a Panel server, Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntm_sim.scenario import load_scenario
from ntm_sim.workflow import solve_and_simulate, solved_from, write_run
from suite_settings import for_dashboard

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCENARIOS = ("baseline", "budget_cut_20")


@pytest.fixture(scope="session")
def scenarios_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled scenario files with the suite's smaller search (the dashboard offers them)."""
    folder = tmp_path_factory.mktemp("scenarios")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = for_dashboard(load_scenario(path))
        (folder / path.name).write_text(sc.with_(data="lao_cai").to_yaml(), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def results_root(tmp_path_factory: pytest.TempPathFactory, lao_cai) -> Path:
    """Results folders as ``ntm-sim solve`` writes them: the recommended baseline plan, and a budget cut."""
    from ntm_sim.analysis.recommend import recommend

    root = tmp_path_factory.mktemp("results")
    rec = recommend(lao_cai, for_dashboard(load_scenario(ROOT / "scenarios" / "baseline.yaml")), seed=0)
    write_run(solved_from(rec), root / "baseline")
    cut = for_dashboard(load_scenario(ROOT / "scenarios" / "budget_cut_20.yaml"))
    write_run(solve_and_simulate(lao_cai, cut, draws=400, seed=7, deterministic=True), root / "budget_cut_20")
    # a damaged run: reported by the dashboard, never hiding the good ones
    (root / "damaged").mkdir()
    (root / "damaged" / "summary.json").write_text("{", encoding="utf-8")
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def dashboard_url(results_root: Path, scenarios_root: Path) -> Iterator[str]:
    """The dashboard served by ``panel serve`` over ``results_root``."""
    port = _free_port()
    env = {**os.environ, "NTM_SIM_RESULTS": str(results_root), "NTM_SIM_SCENARIOS": str(scenarios_root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", str(ROOT / "dashboards" / "app.py"), "--port", str(port),
         "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/app"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"panel serve exited: {proc.stdout.read() if proc.stdout else ''}") from None
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("panel serve did not answer within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (it cannot download its own browsers here)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "browser tests need Debian's Chromium: apt-get install chromium (make test does it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()
