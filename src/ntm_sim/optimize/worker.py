"""The solver process: runs solve jobs sent by :func:`ntm_sim.optimize.solver.execute`.

Started as ``python -m ntm_sim.optimize.worker`` (a plain subprocess, so it works
whatever the caller's main module is: a script, a notebook, the dashboard server). It
reads jobs from its standard input and writes messages to its standard output, each a
pickle prefixed by its length (:mod:`ntm_sim.optimize.wire`); it serves jobs until its input
closes. The solver's own printing goes to /dev/null, never into the message channel.
"""

from __future__ import annotations

import os
import sys

from ntm_sim.optimize.wire import read_message, write_message


def main() -> None:
    """Serve jobs until the input closes."""
    # the message channel is a private copy of stdout; fd 1 itself goes to /dev/null, where
    # HiGHS prints its banner and logs
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    sys.stdout = sys.stderr
    source = sys.stdin.buffer

    from ntm_sim.optimize.solver import run_stages

    while True:
        try:
            job = read_message(source)
        except EOFError:
            return
        try:
            run_stages(job, lambda kind, payload: write_message(channel, (kind, payload)))  # type: ignore[arg-type]
            write_message(channel, ("done", None))
        except Exception as exc:  # reported to the parent, which decides what the user sees
            write_message(channel, ("error", f"{exc.__class__.__name__}: {exc}"))


if __name__ == "__main__":
    main()
