"""The dashboard, inside the package: an app factory over the results folders, served by ``ntm-sim serve``.

:func:`create_app` builds the page from a :class:`DashboardSettings` (the results and scenario
folders, whether edited scenarios may be saved, how jobs are started); ``ntm-sim serve``
(:mod:`ntm_sim.serve.serving`) runs :data:`SERVED_APP` through ``panel serve`` with the settings as
its arguments. The modules: :mod:`~ntm_sim.dashboard.page` (the page and its layout),
:mod:`~ntm_sim.dashboard.views` (the sections over the ticked runs),
:mod:`~ntm_sim.dashboard.communes`, :mod:`~ntm_sim.dashboard.where` (one run's communes,
districts, criteria and map), :mod:`~ntm_sim.dashboard.curve` (the budget curve as a job),
:mod:`~ntm_sim.dashboard.new_run` and :mod:`~ntm_sim.dashboard.editor` (a new run and its
levers), :mod:`~ntm_sim.dashboard.widgets` (small shared pieces).
"""

from __future__ import annotations

from pathlib import Path

from ntm_sim.dashboard.settings import DashboardSettings

#: the script ``panel serve`` runs for each page (it calls :func:`create_app` with its arguments)
SERVED_APP = Path(__file__).resolve().parent / "app.py"
#: run once by ``panel serve --setup`` before the first page
SERVER_SETUP = Path(__file__).resolve().parent / "server_setup.py"


def create_app(settings: DashboardSettings, t: object = None) -> object:
    """The dashboard's page (see :func:`ntm_sim.dashboard.page.create_app`; Panel is imported on first use)."""
    from ntm_sim.dashboard.page import create_app as build

    return build(settings, t)  # type: ignore[arg-type]


__all__ = ["SERVED_APP", "SERVER_SETUP", "DashboardSettings", "create_app"]
