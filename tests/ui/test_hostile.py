"""Hostile requests against the dashboard as planners start it (this machine, no login).

The component route once imported any module a request named: ``/components/ntm_sim.__main__/...``
ran the command line inside the server and stopped the dashboard for everyone.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.xdist_group("ui_workbench")]

HOSTILE = ("/components/ntm_sim.__main__/a/b/c", "/components/this/a/b/c", "/components/antigravity/a/b/c",
           "/components/..%2f..%2fx/a/b/c", "/components/ntm_sim.run.jobs/a/b/c", "/components/os/a/b/c")


def _status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=30).status
    except urllib.error.HTTPError as err:
        return err.code


def test_without_a_login_a_named_module_is_not_imported(dashboard_server):
    url, pid = dashboard_server
    base = url.rsplit("/", 1)[0]
    for path in HOSTILE:
        assert _status(base + path) == 404, path
    # the server is still the same process and still serves the page
    import psutil

    assert psutil.pid_exists(pid)
    page = urllib.request.urlopen(url, timeout=60)
    assert page.status == 200
    assert "ntm-sim" in page.read().decode("utf-8")
