"""Fixtures for browser tests: two scenarios solved and simulated, a Panel server, Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import pytest

from ntm_sim.model.scenario import load_scenario
from ntm_sim.run.workflow import SolvedScenario, plans_of, solved_from, write_run
from suite_settings import for_dashboard, shared, solved_cut

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


def _build_light(factory: pytest.TempPathFactory, root: Path) -> None:
    """Results folders as ``ntm-sim solve`` writes them: a budget cut (the suite's one solve of it, simulated
    here), and a damaged run."""
    from ntm_sim.simulate import simulate

    cut = solved_cut(factory)
    sim = simulate(cut.instance, plans_of(cut), cut.instance.scenario.uncertainty, n_draws=400, seed=7)
    write_run(SolvedScenario(cut.instance.scenario, cut, sim), root / "budget_cut_20")
    # a damaged run: reported by the dashboard, never hiding the good ones
    (root / "damaged").mkdir()
    (root / "damaged" / "summary.json").write_text("{", encoding="utf-8")


def _build_results(factory: pytest.TempPathFactory, root: Path) -> None:
    """The recommended baseline plan and the light results (:func:`_build_light`).

    The plan first: the other worker may be building the light results at the same time, and this one
    would only wait for them.
    """
    from ntm_sim.analysis.recommend import recommend
    from ntm_sim.data.registry import load_dataset

    rec = recommend(load_dataset("lao_cai"), for_dashboard(load_scenario(ROOT / "scenarios" / "baseline.yaml")),
                    seed=0)
    write_run(solved_from(rec), root / "baseline")
    shutil.copytree(shared(factory, "ui-results-light", partial(_build_light, factory)), root, dirs_exist_ok=True)


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


@dataclass
class Site:
    """One dashboard served by ``ntm-sim serve`` over its own copy of the results folders."""

    root: Path
    url: str
    proc: subprocess.Popen
    log: IO[str]

    @classmethod
    def start(cls, root: Path, scenarios_root: Path, log_path: Path) -> Site:
        port = _free_port()
        log = log_path.open("w", encoding="utf-8")  # a pipe would fill
        # as planners start it: `ntm-sim serve` (this machine only), which runs `panel serve` in a child process;
        # the folders are its arguments (nothing is read from the environment)
        proc = subprocess.Popen(
            [sys.executable, "-m", "ntm_sim", "serve", "--results", str(root), "--scenarios",
             str(scenarios_root), "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        url = f"http://127.0.0.1:{port}/app"
        deadline = time.time() + 120  # a busy machine (another suite beside this one) takes its time
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url, timeout=60).read()  # a page is built while the request waits
                return cls(root, url, proc, log)
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"panel serve exited: {log_path.read_text(encoding='utf-8')}") from None
                time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError("panel serve did not answer within 120 s")

    def stop(self) -> None:
        import psutil

        proc = self.proc
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
        self.log.close()


@pytest.fixture(scope="session")
def _sites(tmp_path_factory: pytest.TempPathFactory, scenarios_root: Path) -> Iterator[dict[str, Site]]:
    """The dashboards of this worker, one per xdist group: the groups run on either worker, in any order,
    and the runs one group's tests add never show in another's page."""
    sites: dict[str, Site] = {}
    yield sites
    for site in sites.values():
        site.stop()


def site_of(group: str, sites: dict[str, Site], scenarios_root: Path, factory: pytest.TempPathFactory) -> Site:
    """The dashboard of an xdist group, started on first use over a copy of the results built once."""
    if group not in sites:
        # the workbench's tests (table, editor, language, runs) need no recommended plan: built apart, at once
        build = _build_results if group == "ui" else _build_light
        pristine = shared(factory, "ui-results" if group == "ui" else "ui-results-light", partial(build, factory))
        root = factory.mktemp(f"results-{group}")
        shutil.copytree(pristine, root, dirs_exist_ok=True)
        sites[group] = Site.start(root, scenarios_root, factory.mktemp("server") / "server.log")
    return sites[group]


@pytest.fixture
def site(request: pytest.FixtureRequest, _sites: dict[str, Site], scenarios_root: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The dashboard of this test's group (see :func:`site_of`)."""
    marker = request.node.get_closest_marker("xdist_group")
    return site_of(marker.args[0] if marker else "ui", _sites, scenarios_root, tmp_path_factory)


@pytest.fixture
def results_root(site: Site) -> Path:
    """The results folders the test's dashboard shows."""
    return site.root


@pytest.fixture
def dashboard_server(site: Site) -> tuple[str, int]:
    """The test's dashboard: its address and the server's pid."""
    return site.url, site.proc.pid


@pytest.fixture
def dashboard_url(site: Site) -> str:
    """The dashboard's address."""
    return site.url


class Watched:
    """What a page reported: console errors, uncaught exceptions and the addresses it requested."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.allowed: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def allow(self, text: str) -> None:
        """Expect console errors containing ``text`` (a test that breaks the connection on purpose)."""
        self.allowed.append(text)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


def open_page(browser, url: str, viewport: dict[str, int] | None = None):
    """The dashboard in a fresh browser context, watched (:class:`Watched`, as ``page.watched``)."""
    context = browser.new_context(viewport=viewport or {"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.watched = Watched(page)  # type: ignore[attr-defined]
    page.goto(url)
    page.wait_for_selector("#indicators", timeout=30_000)
    return page


@pytest.fixture
def clean_page(browser, dashboard_url):
    """The dashboard at 1366×768 (an office laptop) in a fresh context; the test fails on any console error."""
    page = open_page(browser, dashboard_url)
    yield page
    page.context.close()
    assert page.watched.unexpected() == [], page.watched.errors


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
