"""Input files are regular files within a size limit, checked before they are read.

A path given as data may name anything: a symbolic link to ``/dev/zero`` (endless, and
reported as 0 bytes long), a FIFO (reading blocks until someone writes), a folder, a
device. Every reader takes its input through :func:`read_bytes` (or checks it with
:func:`check_regular` before a library opens it), so such a path is refused with its
name and what it is, before a byte is read, and a file that grows while it is read stops
at the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from ntm_sim.data.io import limits
from ntm_sim.errors import InputError, Problem, Text

#: Largest scenario, dataset description or other YAML file (a scenario is a few kB).
MAX_YAML_BYTES = 4 * limits.MIB
#: Largest unit list CSV (the national list of 10,000 communes is under 1 MB).
MAX_UNITS_BYTES = 32 * limits.MIB
#: Largest JSON or CSV file of a results folder read back (a national run's tables are tens of MB).
MAX_RESULT_BYTES = 512 * limits.MIB

_KINDS = ((stat.S_ISDIR, "files.kind_folder"), (stat.S_ISFIFO, "files.kind_fifo"), (stat.S_ISCHR, "files.kind_device"),
          (stat.S_ISBLK, "files.kind_device"), (stat.S_ISSOCK, "files.kind_socket"))


def check_regular(path: Path, display: str, limit: int | None) -> int:
    """Refuse ``path`` unless it is (or links to) a regular file of at most ``limit`` bytes; return its size.

    ``limit`` None: any size (the caller names its own limit).

    Raises
    ------
    InputError
        Naming the file and what it is (a device, a FIFO, a folder) or its size.
    """
    try:
        st = os.stat(path)  # follows links: what would be read
    except FileNotFoundError:
        raise InputError([Problem(display, Text("io.file_not_found"))]) from None
    except OSError as exc:
        raise InputError([Problem(display, Text("files.unreadable", error=exc.strerror or str(exc)))]) from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((key for test, key in _KINDS if test(st.st_mode)), "files.kind_other")
        raise InputError([Problem(display, Text("files.not_regular", kind=Text(kind)),
                                  expected=Text("files.not_regular.expected"),
                                  found=os.path.realpath(path) if Path(path).is_symlink() else Text(kind))])
    if limit is not None and st.st_size > limit:
        raise InputError([Problem(display, Text("io.too_large", size=limits.size_text(st.st_size)),
                                  expected=Text("files.too_large.expected", limit=limits.size_text(limit),
                                                where=Text("limits.where")),
                                  found=limits.size_text(st.st_size))])
    return st.st_size


def read_bytes(path: Path, display: str, limit: int) -> bytes:
    """The content of a regular file of at most ``limit`` bytes (see :func:`check_regular`).

    Raises
    ------
    InputError
        If it is not a regular file, or is (or grows) larger than ``limit``.
    """
    check_regular(path, display, limit)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise InputError([Problem(display, Text("files.unreadable", error=exc.strerror or str(exc)))]) from None
    if len(data) > limit:  # it grew since it was checked
        raise InputError([Problem(display, Text("io.too_large", size=f"> {limits.size_text(limit)}"),
                                  expected=Text("files.too_large.expected", limit=limits.size_text(limit),
                                                where=Text("limits.where")))])
    return data


def read_text(path: Path, display: str, limit: int) -> str:
    """A UTF-8 text file of at most ``limit`` bytes (a byte order mark is dropped).

    Raises
    ------
    InputError
        As :func:`read_bytes`, or if the file is not UTF-8 text.
    """
    data = read_bytes(path, display, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Problem(display, Text("io.not_utf8"), expected=Text("files.utf8.expected"))]) from None


# ----- YAML: a key written twice is an error, not "the last one wins" ------------------------------

class DuplicateKeyError(yaml.YAMLError):
    """A mapping of a YAML file names one key twice."""

    def __init__(self, key: object, line: int, column: int, first: int) -> None:
        super().__init__(f"key {key!r} appears twice (lines {first} and {line})")
        self.key, self.line, self.column, self.first = key, line, column, first


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names one key twice (it keeps the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # a merge (<<) may be overridden by a key of the mapping itself
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = first.get(key)
            except TypeError:
                continue  # not hashable: the base class says so
            line = key_node.start_mark.line + 1
            if seen is not None:
                raise DuplicateKeyError(key, line, key_node.start_mark.column + 1, seen)
            first[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, display: str) -> object:
    """Parse YAML ``text`` (from ``display``) safely; a key written twice in one mapping is refused.

    Raises
    ------
    InputError
        Naming the line (and column) where parsing failed, or the key written twice with
        both its lines.
    """
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except DuplicateKeyError as exc:
        raise InputError([Problem(display, Text("yaml.duplicate", key=str(exc.key), first=exc.first), row=exc.line,
                                  column=str(exc.column), expected=Text("yaml.duplicate.expected"))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError([Problem(display, Text("yaml.invalid", error=str(getattr(exc, "problem", exc))),
                                  row=(mark.line + 1) if mark else None,
                                  column=str(mark.column + 1) if mark else None)]) from None
