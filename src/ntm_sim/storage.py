"""Writes that cannot destroy: one atomic folder, one atomic file, a marker and a lock.

Every output of the tool (results, sweeps, frontiers, dataset exports, reports,
workbooks) is written under a temporary name next to its destination and renamed
into place only when complete, with explicit modes (files 0644, folders 0755) so
that a dashboard served under another account can read them.

An output replaces what is at its path only when

* it is a folder this tool wrote (it holds the :data:`MARKER` file, or, for folders
  written before markers existed, a ``manifest.json`` naming ntm-sim), or an empty
  folder; a file only if it is of the kind being written;
* and the user said so (``force``, ``--force`` on the command line).

Anything else — a folder of documents, the results root, the working folder, a plan
being read — is refused *before any work*, with the path named. One lock per output
(a lock file beside it, and one for every enclosing folder the tool wrote) makes a
second writer of the same output fail at once with a message instead of mixing two
runs; the holder of a lock may write inside it (nested outputs, e.g. a sweep's runs).
Temporary folders left by a killed run are removed by the next write beside them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ntm_sim.errors import InputError, Problem, Text

MARKER = ".ntm-sim"
FILE_MODE = 0o644
DIR_MODE = 0o755
_TMP = re.compile(r"^\.(?P<name>.+)\.(?:tmp-[A-Za-z0-9_]+|old-\d+(?:-[A-Za-z0-9_]+)?)$")
_LOCK_SUFFIX = ".lock"

# locks held by this process: path -> (thread id, depth), so the holder may nest writes
_held: dict[str, tuple[int, int]] = {}
_held_guard = threading.Lock()


@dataclass(frozen=True)
class Refusal:
    """Why an output path is refused (what, and what to do instead)."""

    message: Text
    expected: Text


def _refuse(path: Path, refusal: Refusal, option: str) -> InputError:
    return InputError([Problem(option, refusal.message, expected=refusal.expected, found=str(path))])


def is_tool_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by ntm-sim (marker, or a manifest naming ntm-sim)."""
    folder = Path(folder)
    if (folder / MARKER).is_file():
        return True
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    versions = data.get("versions") if isinstance(data, dict) else None
    return isinstance(versions, dict) and "ntm-sim" in versions


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def _refusal(out: Path, *, kind: str, force: bool, inputs: Iterable[Path]) -> Refusal | None:
    """The reason ``out`` may not be written, or None (see the module's rules)."""
    target = out.resolve()
    protected = {Path(target.anchor), Path.home().resolve(), Path.cwd().resolve()}
    if target in protected or _contains(target, Path.cwd().resolve()):
        return Refusal(Text("out.your_work"), Text("out.new_folder.expected"))
    for p in inputs:
        p = Path(p).resolve()
        if _contains(target, p):
            return Refusal(Text("out.input", path=str(p)), Text("out.input.expected"))
    anc = target.parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir():
        return Refusal(Text("out.file_above", path=str(anc)), Text("out.file_above.expected"))
    if not os.access(anc, os.W_OK | os.X_OK):
        return Refusal(Text("out.no_permission", path=str(anc)), Text("out.no_permission.expected"))
    if not target.exists() and not target.is_symlink():
        return None
    if kind == "folder":
        if not target.is_dir():
            return Refusal(Text("out.file_there"), Text("out.file_there.expected"))
        if not any(target.iterdir()):
            return None
        if not is_tool_folder(target):
            return Refusal(Text("out.not_ours"), Text("out.not_ours.expected"))
    elif target.is_dir():
        return Refusal(Text("out.folder_there"), Text("out.folder_there.expected"))
    if not force:
        return Refusal(Text("out.exists"), Text("out.exists.expected"))
    return None


def check_output(out: Path | str, *, kind: str = "folder", force: bool = False, inputs: Iterable[Path] = (),
                 option: str = "--out") -> Path:
    """Refuse an output path that may not be written, before any work.

    Parameters
    ----------
    out
        Destination folder or file.
    kind
        ``"folder"`` or ``"file"``.
    force
        Replace an existing output of this tool.
    inputs
        Paths this run reads; an output that is one of them or holds one is refused.
    option
        How the user named the path (for the message).

    Returns
    -------
    Path
        ``out`` as a path.

    Raises
    ------
    InputError
        With the path and the reason, if it is refused.
    """
    out = Path(out)
    refusal = _refusal(out, kind=kind, force=force, inputs=inputs)
    if refusal is not None:
        raise _refuse(out, refusal, option)
    return out


class _Lock:
    """An exclusive, non-blocking lock file, removed when released (POSIX ``flock``).

    The file is unlinked before it is unlocked, and a new holder checks that the file it
    locked is still the one at the path, so removing lock files never lets two holders in.
    On Windows the byte-range lock of ``msvcrt`` is used and the file is kept.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            if not _lock_fd(fd):
                os.close(fd)
                return False
            try:
                same = os.name == "nt" or os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return True
            os.close(fd)  # its holder removed it after we opened it: take the new one

    def release(self) -> None:
        if self.fd is None:
            return
        if os.name != "nt":
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(self.fd)  # closing releases the lock
        self.fd = None


def _lock_fd(fd: int) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}{_LOCK_SUFFIX}"


def _locks_for(out: Path) -> list[Path]:
    """Lock files of ``out`` and of every enclosing folder the tool wrote (outermost first)."""
    target = out.resolve()
    paths = [p for p in reversed(target.parents) if p != Path(p.anchor) and is_tool_folder(p)]
    return [_lock_path(p) for p in [*paths, target]]


@contextmanager
def _hold(lock_file: Path, out: Path) -> Iterator[None]:
    key = str(lock_file)
    me = threading.get_ident()
    with _held_guard:
        owner = _held.get(key)
        if owner is not None and owner[0] == me:
            _held[key] = (me, owner[1] + 1)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] = (me, _held[key][1] - 1)
        return
    lock = _Lock(lock_file)
    if not lock.acquire():
        raise InputError([Problem(str(out), Text("out.busy"), expected=Text("out.busy.expected"),
                                  found=Text("out.busy.found"))])
    with _held_guard:
        _held[key] = (me, 1)
    try:
        yield
    finally:
        with _held_guard:
            del _held[key]
        lock.release()


@contextmanager
def reserve(out: Path | str, *, kind: str = "folder", force: bool = False, inputs: Iterable[Path] = (),
            option: str = "--out") -> Iterator[Path]:
    """Check ``out`` and hold its lock for the whole run (work, then the atomic write).

    A second run of the same output, in this process or another, is refused at once.
    """
    out = check_output(out, kind=kind, force=force, inputs=inputs, option=option)
    out.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for lock_file in _locks_for(out):
            stack.enter_context(_hold(lock_file, out))
        yield out


def _clean_leftovers(parent: Path) -> None:
    """Remove temporary folders and files of killed runs beside ``parent``'s outputs."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _TMP.match(entry.name)
        if not m:
            continue
        lock_file = _lock_path(parent / m.group("name"))
        with _held_guard:
            owner = _held.get(str(lock_file))
        if owner is not None:
            if owner[0] == threading.get_ident():
                _remove(entry)  # ours, and our own write has not started yet: left by a killed run
            continue  # another thread of this process is writing it
        lock = _Lock(lock_file)
        if not lock.acquire():
            continue  # a live run owns it
        try:
            _remove(entry)
        finally:
            lock.release()


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _set_modes(root: Path) -> None:
    os.chmod(root, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(Path(dirpath) / d, DIR_MODE)
        for f in filenames:
            os.chmod(Path(dirpath) / f, FILE_MODE)


def _write_marker(folder: Path, kind: str) -> None:
    from ntm_sim import __version__

    # no time stamp: the same run gives the same files (the manifest has the time)
    (folder / MARKER).write_text(json.dumps({"written_by": "ntm-sim", "version": __version__, "kind": kind}) + "\n",
                                 encoding="utf-8")


def _private_name(out: Path, tag: str) -> Path:
    return out.parent / f".{out.name}.{tag}-{os.getpid()}-{os.urandom(4).hex()}"


@contextmanager
def atomic_folder(out: Path | str, *, kind: str = "results", force: bool = False,
                  inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out`` only if the block succeeds.

    The output is checked and locked (:func:`reserve`); the finished folder gets the
    marker and explicit modes, then is renamed into place. On failure nothing changes.
    """
    with reserve(out, force=force, inputs=inputs) as out:
        _clean_leftovers(out.parent)
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}{os.urandom(4).hex()}"
        tmp.mkdir()
        old = None
        try:
            yield tmp
            for stray in tmp.rglob(f".*{_LOCK_SUFFIX}"):  # locks of nested writes, released
                stray.unlink(missing_ok=True)
            _write_marker(tmp, kind)
            _set_modes(tmp)
            if out.exists():
                old = _private_name(out, "old")
                out.rename(old)
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None and not out.exists():
                old.rename(out)  # put the previous output back
                old = None
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_file(path: Path | str, *, force: bool = False, inputs: Iterable[Path] = (),
                option: str = "--out") -> Iterator[Path]:
    """Yield a temporary file path that replaces ``path`` (mode 0644) only if the block succeeds."""
    with reserve(path, kind="file", force=force, inputs=inputs, option=option) as path:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
