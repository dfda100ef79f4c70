"""Writes that cannot destroy: one atomic folder, one atomic file, a marker and a lock.

Every output of the tool (results, sweeps, frontiers, dataset exports, reports,
workbooks) is written under a temporary name next to its destination and renamed
into place only when complete, with explicit modes (files 0644, folders 0755, and the
same for the folders made above it) so that a dashboard served under another account can
read them.

One ownership rule for every output. An output replaces what is at its path only when

* ntm-sim wrote it: a folder holding the :data:`MARKER` file (``.ntm-sim``, JSON naming
  ntm-sim), or an empty folder; a file with its sidecar marker ``.NAME.ntm-sim`` beside it,
  which records the file's SHA-256 as written, so a file changed since (a template the
  planner filled in) is the planner's, not ours. Nothing else counts: a ``manifest.json``
  naming ntm-sim is only text, and may have been copied into a folder of documents;
* and the user said so (``force``, ``--force`` on the command line).

Anything else — a folder of documents, the results root, the working folder, a plan
being read, a report or workbook of the user's — is refused *before any work*, with the
path named. A symbolic link at the output's path is followed: its target is what is
checked, locked and replaced (the link stays); a link to nothing is refused.

One lock per output (a lock file beside it, and one for every enclosing folder the tool
wrote) makes a second writer of the same output fail at once with a message instead of
mixing two runs; the holder of a lock may write inside it (nested outputs, e.g. a
sweep's runs).

A replacement survives a crash at any point. The previous folder is renamed aside
(``.NAME.old-*``), the new one renamed into place, and only then the previous one
renamed to ``.NAME.del-*`` and deleted. The next write beside it (:func:`recover`, under
the output's lock) puts a leftover ``.old-*`` back when the output is missing, deletes it
once the new output is in place, and deletes ``.tmp-*`` and ``.del-*`` leftovers: the
output is always the previous one or the new one, never lost.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ntm_sim.errors import InputError, Problem, Text

MARKER = ".ntm-sim"
FILE_MODE = 0o644
DIR_MODE = 0o755
_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old|del)-[A-Za-z0-9_-]+$")
_LOCK_SUFFIX = ".lock"
STALE_LOCK_S = 60.0
#: The longest name an output may have, in bytes: the file systems' 255 less what the
#: tool adds for its temporary names (``.NAME.old-PID-XXXXXXXX``, ``.NAME.ntm-sim``)
NAME_MAX_BYTES = 255 - 30

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


def _marker_data(path: Path) -> dict | None:
    """The JSON of a marker file naming ntm-sim, or None (absent, not a regular file, not ours)."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode) or path.stat().st_size > 64 * 1024:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "ntm-sim" else None


def is_tool_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by ntm-sim: it holds the :data:`MARKER` (nothing else counts)."""
    return _marker_data(Path(folder) / MARKER) is not None


def sidecar(path: Path) -> Path:
    """The marker of a file ntm-sim wrote: ``.NAME.ntm-sim`` beside it."""
    return path.parent / f".{path.name}{MARKER}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_tool_file(path: Path) -> bool:
    """Whether ``path`` is a file ntm-sim wrote and nobody changed since (its sidecar holds its hash)."""
    path = Path(path)
    data = _marker_data(sidecar(path))
    if data is None or not path.is_file():
        return False
    try:
        return _sha256(path) in data.get("sha256", [])
    except OSError:
        return False


def _write_sidecar(path: Path, hashes: list[str]) -> None:
    from ntm_sim import __version__

    mark = sidecar(path)
    tmp = mark.parent / f"{mark.name}.tmp-{os.getpid()}{os.urandom(4).hex()}"
    tmp.write_text(json.dumps({"written_by": "ntm-sim", "version": __version__, "sha256": hashes}) + "\n",
                   encoding="utf-8")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, mark)


def _contains(outer: Path, inner: Path) -> bool:
    return inner == outer or outer in inner.parents


def _name_refusal(out: Path) -> Refusal | None:
    """A name the file system cannot hold (with the tool's temporary names) or a path it cannot reach."""
    name = out.name.encode("utf-8", "surrogateescape")
    if len(name) > NAME_MAX_BYTES:
        return Refusal(Text("out.name_long", n=len(name), most=NAME_MAX_BYTES), Text("out.name_long.expected"))
    if len(os.fsencode(str(out.absolute()))) > 4000:
        return Refusal(Text("out.path_long"), Text("out.name_long.expected"))
    return None


def _refusal(out: Path, *, kind: str, force: bool, inputs: Iterable[Path]) -> Refusal | None:
    """The reason ``out`` may not be written, or None (see the module's rules)."""
    if (refusal := _name_refusal(out)) is not None:
        return refusal
    if out.is_symlink() and not out.exists():
        return Refusal(Text("out.dangling_link", target=os.readlink(out)), Text("out.new_name.expected"))
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
    if not target.exists():
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
    elif not is_tool_file(target):
        return Refusal(Text("out.file_not_ours"), Text("out.file_not_ours.expected"))
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


def _target(out: Path) -> Path:
    """Where ``out`` writes: the target of a symbolic link at its path, else ``out`` (parents as given)."""
    return out.resolve() if out.is_symlink() else out


def make_parents(folder: Path) -> None:
    """Create ``folder`` and the folders above it that are missing, each with :data:`DIR_MODE` (not the umask's)."""
    missing = []
    while not folder.exists() and not folder.is_symlink():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another run made it first
            made.mkdir()
            os.chmod(made, DIR_MODE)


@contextmanager
def reserve(out: Path | str, *, kind: str = "folder", force: bool = False, inputs: Iterable[Path] = (),
            option: str = "--out") -> Iterator[Path]:
    """Check ``out`` and hold its lock for the whole run (work, then the atomic write).

    A leftover of a killed replacement is recovered first (:func:`recover`), so the check
    sees the output as it was. A second run of the same output, in this process or
    another, is refused at once. Yields the path written: ``out``, or the target of a
    symbolic link at ``out``.
    """
    out = Path(out)
    if (refusal := _name_refusal(out)) is not None:
        raise _refuse(out, refusal, option)
    try:
        if _target(out).parent.is_dir():
            recover(_target(out).parent)
        check_output(out, kind=kind, force=force, inputs=inputs, option=option)
        target = _target(out)
        make_parents(target.parent)
    except OSError as exc:  # a path the system refuses (/proc, a full or read-only disk): the user's to change
        raise _refuse(out, Refusal(Text("out.os_error", error=exc.strerror or str(exc)),
                                   Text("out.no_permission.expected")), option) from None
    with ExitStack() as stack:
        for lock_file in _locks_for(target):
            try:
                stack.enter_context(_hold(lock_file, out))
            except OSError as exc:
                raise _refuse(out, Refusal(Text("out.os_error", error=exc.strerror or str(exc)),
                                           Text("out.no_permission.expected")), option) from None
        yield target


def recover(parent: Path, name: str | None = None) -> None:
    """Finish what killed writes left beside ``parent``'s outputs (of ``name`` only, if given).

    Under each output's lock (an output being written by a live run is left alone):
    ``.NAME.old-*`` is put back as ``NAME`` when ``NAME`` is missing (the run was killed
    between its two renames), and deleted once ``NAME`` is a complete output of the tool;
    ``.NAME.tmp-*`` (an unfinished output) and ``.NAME.del-*`` (a replaced one being
    deleted) are deleted.
    """
    try:
        entries = sorted(parent.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for entry in entries:
        m = _TMP.match(entry.name)
        if m is None and name is None and entry.name.startswith(".") and entry.name.endswith(_LOCK_SUFFIX):
            _drop_stale_lock(entry)
        if not m or (name is not None and m.group("name") != name):
            continue
        out = parent / m.group("name")
        lock_file = _lock_path(out)
        with _held_guard:
            owner = _held.get(str(lock_file))
        if owner is not None:
            if owner[0] == threading.get_ident():
                _recover_one(entry, m.group("kind"), out)  # ours, and our own write has not started yet
            continue  # another thread of this process is writing it
        lock = _Lock(lock_file)
        if not lock.acquire():
            continue  # a live run owns it
        try:
            _recover_one(entry, m.group("kind"), out)
        finally:
            lock.release()


def _drop_stale_lock(lock_file: Path) -> None:
    """Remove a lock file a killed run left (taking it unlinks it on release; a live holder keeps it).

    Only a lock file older than :data:`STALE_LOCK_S`: one just made belongs to a run about to
    take it, which a moment's hold here would turn away.
    """
    with _held_guard:
        if str(lock_file) in _held:
            return
    try:
        if time.time() - lock_file.stat().st_mtime < STALE_LOCK_S:
            return
    except OSError:
        return
    lock = _Lock(lock_file)
    if lock.acquire():
        lock.release()


def _recover_one(entry: Path, kind: str, out: Path) -> None:
    if not entry.exists() and not entry.is_symlink():
        return  # handled with an earlier entry
    if kind != "old":
        _remove(entry)
    elif not out.exists() and not out.is_symlink():
        entry.rename(out)  # killed between the two renames: the previous output back in place
    elif is_tool_folder(out) or is_tool_file(out):
        _discard(entry, out)  # the replacement was complete: the previous output goes, as asked
    # else: something else took the name since; the previous output is kept aside, never deleted


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _discard(old: Path, out: Path) -> None:
    """Delete a replaced output, renamed to ``.NAME.del-*`` first (a kill mid-way leaves a leftover to delete)."""
    trash = _private_name(out, "del")
    old.rename(trash)
    _remove(trash)


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


def mark_folder(folder: Path, kind: str) -> None:
    """Mark a folder written inside an output (a solve's ``simulation/``) as the tool's, so it may be replaced alone."""
    _write_marker(Path(folder), kind)


def _private_name(out: Path, tag: str) -> Path:
    return out.parent / f".{out.name}.{tag}-{os.getpid()}-{os.urandom(4).hex()}"


@contextmanager
def atomic_folder(out: Path | str, *, kind: str = "results", force: bool = False,
                  inputs: Iterable[Path] = ()) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out`` only if the block succeeds.

    The output is checked and locked (:func:`reserve`); the finished folder gets the
    marker and explicit modes, then is renamed into place (see the module's notes on a
    crash). On failure nothing changes.
    """
    with reserve(out, force=force, inputs=inputs) as out:
        recover(out.parent)
        tmp = _private_name(out, "tmp")
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
            _discard(old, out)


@contextmanager
def atomic_file(path: Path | str, *, force: bool = False, inputs: Iterable[Path] = (),
                option: str = "--out", mark: bool = True) -> Iterator[Path]:
    """Yield a temporary file path that replaces ``path`` (mode 0644) only if the block succeeds.

    With ``mark`` (the default) the file gets its sidecar marker (:func:`sidecar`), which
    lets a later ``--force`` replace it while nobody has changed it. The sidecar first
    accepts both the previous and the new content, so a crash between the two steps
    leaves a file that is still known as the tool's.
    """
    with reserve(path, kind="file", force=force, inputs=inputs, option=option) as path:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.chmod(tmp, FILE_MODE)
            if mark:
                new = _sha256(tmp)
                previous = [_sha256(path)] if path.is_file() and is_tool_file(path) else []
                _write_sidecar(path, [*previous, new])
            os.replace(tmp, path)
            if mark:
                _write_sidecar(path, [new])
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def is_user_error(exc: OSError) -> bool:
    """Whether an OS error while writing is the user's to fix (a full or read-only disk, no permission), not a bug."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG)
