"""The dashboard works from an installed wheel (issue 20, item 4), outside the checkout.

The wheel is built from this checkout and installed into a fresh virtual environment in a
temporary folder. Its dependencies are the ones already installed for the suite (a path file
puts their folder on the new environment's path: no registry is reached), never the checkout's
own ``ntm_sim``. From a folder outside the checkout, ``ntm-sim solve`` solves a bundled scenario
on its bundled data and ``ntm-sim serve`` serves the page from the package alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from suite_settings import ROOT

UV = Path(sys.executable).parent / "uv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-2000:])
    return result


@pytest.mark.skipif(not UV.exists(), reason="uv builds and installs the wheel (make install puts it in .venv)")
def test_the_wheel_solves_a_bundled_scenario_and_serves_the_page(tmp_path):
    _run([str(UV), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(ROOT)], cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("ntm_sim-*.whl"))
    venv = tmp_path / "venv"
    _run([str(UV), "venv", "-q", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
    Path(site.stdout.strip(), "suite_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(UV), "pip", "install", "-q", "--offline", "--no-deps", "--python", str(python), str(wheel)],
         cwd=tmp_path)
    where = _run([str(python), "-c", "import ntm_sim; print(ntm_sim.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(venv)  # the wheel's package, not the checkout's

    work = tmp_path / "office"  # a planner's folder: nothing of the checkout in it
    (work / "scenarios").mkdir(parents=True)
    scenario = yaml.safe_load((ROOT / "scenarios" / "budget_cut_20.yaml").read_text(encoding="utf-8"))
    scenario["objective"] = {"order": ["communes_ntm"]}  # one stage: seconds
    (work / "scenarios" / "budget_cut_20.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True),
                                                          encoding="utf-8")
    ntm_sim = venv / "bin" / "ntm-sim"
    _run([str(ntm_sim), "solve", "scenarios/budget_cut_20.yaml", "--out", "results/budget_cut_20", "--draws", "50",
          "--deterministic"], cwd=work)
    assert (work / "results" / "budget_cut_20" / "plan.xlsx").is_file()

    port = _free_port()
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    proc = subprocess.Popen([str(ntm_sim), "serve", "--results", "results", "--scenarios", "scenarios", "--port",
                             str(port)], cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/app"
        deadline = time.monotonic() + 120
        while True:
            try:
                page = urllib.request.urlopen(url, timeout=60)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "the page did not answer"
                time.sleep(0.5)
        assert page.status == 200
        assert "ntm-sim" in page.read().decode("utf-8")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    shutil.rmtree(venv)
