"""The ``ntm-sim`` command.

The app and its options (:mod:`~ntm_sim.cli.common`), the commands on data
(:mod:`~ntm_sim.cli.data_commands`) and those that plan and report (:mod:`~ntm_sim.cli.run_commands`).
"""

from ntm_sim.cli import data_commands, run_commands  # noqa: F401  (importing them registers the commands)
from ntm_sim.cli.common import EXIT_INPUT, EXIT_INTERNAL, app, main

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "app", "main"]
