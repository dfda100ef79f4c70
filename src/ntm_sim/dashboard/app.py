"""The page ``ntm-sim serve`` serves: ``panel serve`` runs this file for each session, with its arguments.

``panel serve …/app.py --args --results DIR --scenarios DIR [--save-scenarios]``: the
arguments become the app's :class:`~ntm_sim.dashboard.settings.DashboardSettings`; nothing is
read from the environment. Importing this module does nothing (only Panel's server runs it).
"""

from __future__ import annotations

import sys


def serve_page(argv: list[str]) -> None:
    """Build this session's page from ``argv`` and mark it servable."""
    import panel as pn

    from ntm_sim.dashboard.page import create_app, session_lang
    from ntm_sim.dashboard.settings import DashboardSettings
    from ntm_sim.dashboard.widgets import Reachable

    t = session_lang()
    # a session whose websocket closes (e.g. a message above the server's limit) says so instead of freezing
    pn.extension("tabulator", design=Reachable, sizing_mode="stretch_width", notifications=True,
                 disconnect_notification=t("page.disconnect"))
    create_app(DashboardSettings.from_args(argv), t).servable(title=t("page.title"))


if __name__.startswith("bokeh"):
    serve_page(sys.argv[1:])
