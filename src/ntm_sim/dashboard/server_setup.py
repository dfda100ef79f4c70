"""Run once by ``panel serve --setup`` before the server takes its first page (see ``ntm_sim.serve.serving``).

Imports what every page needs, then moves the objects alive so far (the libraries, mostly)
out of the garbage collector's sight: Panel collects garbage after every page that closes,
and a full collection over the imported libraries cost about 0.2 s of the server's time each
time. Pages' own objects are collected as before.
"""

from __future__ import annotations

import gc

import bokeh.models  # noqa: F401
import pandas  # noqa: F401
import panel  # noqa: F401

import ntm_sim.dashboard.page  # noqa: F401  (the page and everything it imports)
import ntm_sim.run.workflow  # noqa: F401

gc.freeze()
