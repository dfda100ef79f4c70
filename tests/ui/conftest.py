"""Fixtures for browser tests: two scenarios solved and simulated, a Panel server, Chromium."""

from __future__ import annotations

import contextlib
import os
import signal
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


SHOTS = ROOT / "tests" / "ui" / "screenshots"  # git-ignored: look at them after a run


def shot(page, name: str) -> Path:
    """A screenshot of what the page shows (1366×768 in the tests that take them) into :data:`SHOTS`."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture(scope="session")
def dashboard_server(results_root: Path, scenarios_root: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The dashboard served by ``ntm-sim serve`` over ``results_root``: its address and the server's pid."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w", encoding="utf-8")  # a pipe would fill
    env = {**os.environ, "NTM_SIM_RESULTS": str(results_root), "NTM_SIM_SCENARIOS": str(scenarios_root)}
    # as planners start it: `ntm-sim serve` (this machine only), which runs `panel serve` in a child process
    proc = subprocess.Popen(
        [sys.executable, "-m", "ntm_sim", "serve", "--results", str(results_root), "--scenarios",
         str(scenarios_root), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/app"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"panel serve exited: {Path(log.name).read_text(encoding='utf-8')}") from None
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError("panel serve did not answer within 60 s")
    yield url, proc.pid
    import psutil

    # runs started from the page have sessions of their own: ended too, even when a test failed mid-run
    runs = [p for p in psutil.Process(proc.pid).children(recursive=True) if os.getpgid(p.pid) != proc.pid]
    os.killpg(proc.pid, signal.SIGTERM)  # the server and its `panel serve`
    for run in runs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="session")
def dashboard_url(dashboard_server: tuple[str, int]) -> str:
    """The dashboard's address."""
    return dashboard_server[0]


@pytest.fixture
def clean_page(browser, dashboard_url):
    """The dashboard at 1366×768 (an office laptop) in a fresh context; the test fails on any console error."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page: {e}"))
    page.goto(dashboard_url)
    page.wait_for_selector("#indicators", timeout=30_000)
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (it cannot download its own browsers here).

    One per module: Playwright's sync API keeps an event loop running while it is open, and a test
    of another module that runs in the same worker afterwards may need ``asyncio.run``.
    """
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "browser tests need Debian's Chromium: apt-get install chromium (make test does it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()
