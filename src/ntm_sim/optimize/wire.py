"""The message channel between the solver and its process: length-prefixed pickles.

Apart from both ends (:mod:`ntm_sim.optimize.solver` and :mod:`ntm_sim.optimize.worker`), so
neither imports the other for it.
"""

from __future__ import annotations

import pickle
import struct
from typing import BinaryIO

__all__ = ["HEADER", "read_message", "write_message"]

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
