"""The solver process: runs solve jobs sent by :func:`ntm_sim.optimize.solver.execute`.

Started as ``python -m ntm_sim.optimize.worker`` (a plain subprocess, so it works
whatever the caller's main module is: a script, a notebook, the dashboard server). It
reads jobs from its standard input and writes messages to its standard output, each a
pickle prefixed by its length; it serves jobs until its input closes. The solver's own
printing goes to /dev/null, never into the message channel.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct("!Q")


def write_message(stream: BinaryIO, message: object) -> None:
    """Write one length-prefixed pickle and flush."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_message(stream: BinaryIO) -> object:
    """Read one length-prefixed pickle (EOFError at the end of the stream)."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - only our own parent process writes here


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
