"""Writing files so that none is ever seen half-written, and locks between processes.

Every file kmeanskit writes goes through :func:`atomic_path` (or :func:`atomic_write`
over it): the content goes to a hidden temporary file in the target's own folder, which
is renamed over the target only once it is complete. A run that is interrupted or
killed leaves the old file (or none), never a torn one. A folder of outputs (the cluster
folders, the CSV, the report of ``kmeanskit cluster``) is built in a hidden staging
folder inside it and published at the end by :func:`staged_folder`.

Only the standard library is imported here, and ``filelock`` when a lock is taken.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["STAGE_PREFIX", "atomic_path", "atomic_write", "file_lock", "staged_folder"]

#: the hidden staging folders of :func:`staged_folder`, inside the output folder
STAGE_PREFIX = ".partial-"
#: the lock file that marks a staging folder whose run is alive
LOCK_FILE = ".lock"
#: in a staging folder: the outputs of the previous run, removed after the publication
REPLACED = ".replaced"


def _temp_name(path: Path) -> Path:
    """A hidden sibling of ``path`` with the same suffix (writers that go by the suffix,
    such as Pillow or matplotlib, pick the same format)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")


def _fsync(path, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:  # a folder cannot be opened on Windows: nothing to sync there
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - a file system without fsync
        pass
    finally:
        os.close(fd)


def check_replaceable(path) -> None:
    """Refuse to replace ``path`` when it exists and is not a regular file (nor a symbolic
    link, which a rename replaces without touching its target): a device node, a FIFO, a
    socket or a folder is never renamed over, whatever ``force`` says.

    Examples
    --------
    >>> import tempfile
    >>> check_replaceable(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: '...' exists and is a folder, not a regular file; it is never replaced
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    raise FileExistsError(
        f"{str(path)!r} exists and is {kind}, not a regular file; it is never replaced"
    )


@contextmanager
def atomic_path(path, *, overwrite: bool = True, fsync: bool = True) -> Iterator[Path]:
    """A temporary file name in the folder of ``path``, renamed to ``path`` when the
    block ends without an error and removed when it raises (or is interrupted).

    Parameters
    ----------
    path : path-like
        The file to write; its folder must exist.
    overwrite : bool, default=True
        With False an existing ``path`` is never replaced: FileExistsError, also when
        the file appeared while the block ran (the rename is a hard link, which fails
        when the name is taken).
    fsync : bool, default=True
        Flush the file (and the folder) to the disk before and after the rename, so
        that not even a power cut leaves a torn file.

    Yields
    ------
    tmp : Path
        Write the whole content there, by name (it is created empty, with the usual
        permissions; the name keeps the suffix of ``path``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('complete', ['a.txt'])
    """
    path = Path(path)
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{str(path)!r} exists; not replaced")
    check_replaceable(path)
    tmp = _temp_name(path)
    try:  # O_EXCL: the name is ours; mode 0o666 less the umask, as for any new file
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise type(exc)(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        yield tmp
        if fsync:
            _fsync(tmp)
        if overwrite:
            check_replaceable(path)  # again: it may have appeared while the block ran
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
        if fsync:
            _fsync(path.parent, directory=True)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


def _link_new(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{str(path)!r} exists; not replaced") from None
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(path):
            raise FileExistsError(f"{str(path)!r} exists; not replaced") from None
        os.replace(tmp, path)


def atomic_write(
    path,
    write: Callable,
    *,
    overwrite: bool = True,
    text: bool = False,
    encoding: str = "utf-8",
    errors: str = "strict",
    newline: str | None = None,
    fsync: bool = True,
) -> Path:
    """Write a file atomically: ``write(fh)`` fills an open temporary file in the same
    folder, which then replaces ``path`` (see :func:`atomic_path`); returns ``path``.

    ``text=True`` opens the file in text mode with ``encoding``, ``errors`` and
    ``newline`` (give ``newline=""`` for the csv module); otherwise it is binary.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "s.json"
    >>> atomic_write(target, lambda fh: json.dump({"k": 3}, fh), text=True).read_text()
    '{"k": 3}'
    >>> atomic_write(target, lambda fh: fh.write(b"{}"), overwrite=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileExistsError: '.../s.json' exists; not replaced
    """
    path = Path(path)
    with atomic_path(path, overwrite=overwrite, fsync=fsync) as tmp:
        if text:
            with open(tmp, "w", encoding=encoding, errors=errors, newline=newline) as fh:
                write(fh)
        else:
            with open(tmp, "wb") as fh:
                write(fh)
    return path


@contextmanager
def file_lock(path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made when missing) against other
    processes, waiting at most ``timeout`` seconds for it (0: try once); TimeoutError
    when another process holds it longer. Through ``filelock``: ``flock`` on POSIX,
    ``msvcrt`` on Windows; the kernel drops the lock of a process that dies.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> lock = pathlib.Path(tempfile.mkdtemp()) / ".lock"
    >>> with file_lock(lock, timeout=1):
    ...     with file_lock(lock, timeout=0):  # doctest: +ELLIPSIS
    ...         pass
    Traceback (most recent call last):
    ...
    TimeoutError: another process holds the lock '.../.lock' (waited 0 s)
    """
    try:
        from filelock import FileLock, Timeout
    except ImportError as exc:  # pragma: no cover - a dependency of kmeanskit
        raise ImportError("file locks need filelock: pip install filelock") from exc
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise TimeoutError(
            f"another process holds the lock {str(path)!r} (waited {timeout:g} s)"
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C waits until the block is done (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, caught[0])
    elif caught and previous == signal.SIG_DFL:
        raise KeyboardInterrupt


def stale_stages(out) -> list[Path]:
    """The staging folders in ``out`` left by killed runs (removable); FileExistsError
    when a live run is writing into ``out``."""
    found = []
    out = Path(out)
    if not out.is_dir():
        return found
    for stage in sorted(out.glob(STAGE_PREFIX + "*")):
        if not stage.is_dir() or stage.is_symlink():
            continue
        try:
            with file_lock(stage / LOCK_FILE, timeout=0):
                pass
        except TimeoutError:
            raise FileExistsError(
                f"another kmeanskit run is writing into {str(out)!r} (its staging folder "
                f"{stage.name!r}); wait for it to end or choose another folder"
            ) from None
        except FileNotFoundError:  # removed meanwhile
            continue
        found.append(stage)
    return found


@contextmanager
def staged_folder(
    out,
    *,
    force: bool = False,
    last: Iterable[str] = (),
    replaces: Iterable[str] = (),
    what: str = "the output folder",
    owned: Callable[[], dict] | None = None,
) -> Iterator[Path]:
    """Build a folder of outputs out of sight, then publish it into ``out``.

    The block writes into a new hidden folder ``out/.partial-XXXX`` (locked while the
    run lives); when it ends without an error, each entry is renamed into ``out``, the
    names of ``last`` at the very end (a completion marker: an old one is taken away
    first). When the block raises, or Ctrl-C is pressed, the staging folder is removed
    (and ``out`` too when this call made it and it is empty); a run killed outright
    leaves only the hidden folder, which the next call removes. Ctrl-C during the
    publication waits until it is done.

    Parameters
    ----------
    out : path-like
        Made (with its parents) when missing.
    force : bool, default=False
        Replace entries of ``out`` that have the name of a new one, and remove those
        named in ``replaces`` (a previous run's outputs); without it an existing name
        is an error (FileExistsError, raised before anything is moved).
    last : names
        Published last (the completion marker).
    replaces : names
        Entries of ``out`` removed with ``force`` even when no new entry has their name.
    what : str
        How errors name ``out``: a parameter name (``'out'``: ``out='...'``) or words.
    owned : callable, optional
        Called at publication: name -> None for each entry of ``out`` that may be
        replaced or removed (what a previous run provably wrote), name -> the path that
        differs for the others it knows. When given, ``force`` replaces and removes only
        those entries (and ``replaces``); a new entry whose name is taken by anything else
        is an error (FileExistsError naming it), raised before anything is moved.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_folder(out, last=["done.json"]) as stage:
    ...     _ = (stage / "a.csv").write_text("x")
    ...     _ = (stage / "done.json").write_text("{}")
    ...     sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    []
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv', 'done.json']
    """
    out = Path(out)
    made = not os.path.lexists(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        stale = stale_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
    except FileExistsError:
        raise
    except OSError as exc:
        where = f"{what}={str(out)!r}" if what.isidentifier() else f"{what} {str(out)!r}"
        raise type(exc)(f"cannot write into {where}: {exc.strerror or exc}") from None
    for old in stale:
        logger.info("removing %s, left by a run that was killed", old)
        shutil.rmtree(old, ignore_errors=True)
    published = False
    try:
        with file_lock(stage / LOCK_FILE, timeout=0):
            yield stage
            with _sigint_deferred():
                _publish(stage, out, force, list(last), list(replaces), owned)
        published = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if made and not published:
            with suppress(OSError):
                out.rmdir()


def _simple_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and Path(name).name == name


def _publish(stage: Path, out: Path, force: bool, last: list, replaces: list, owned) -> None:
    skip = {LOCK_FILE, REPLACED}
    names = sorted(p.name for p in stage.iterdir() if p.name not in skip)
    order = [n for n in names if n not in last] + [n for n in last if n in names]
    taken = [n for n in order if os.path.lexists(out / n)]
    if taken and not force:
        raise FileExistsError(f"{str(out / taken[0])!r} exists; pass force=True to replace it")
    if owned is None:
        old = [n for n in dict.fromkeys([*last, *replaces, *order]) if _simple_name(n)]
    else:
        ours = owned() if force else {}
        for name in taken:
            if name in replaces and os.path.isfile(out / name):
                continue
            if name not in ours:
                raise FileExistsError(
                    f"{str(out / name)!r} was not written by kmeanskit; force=True replaces "
                    "only what a kmeanskit run wrote: move it away or choose another folder"
                )
            if ours[name] is not None:
                raise FileExistsError(
                    f"{ours[name]!r} was changed or added since kmeanskit wrote "
                    f"{str(out / name)!r}; move it away or choose another folder"
                )
        old = [n for n in last if ours.get(n, "") is None]
        old += [n for n in ours if ours[n] is None and n not in old and _simple_name(n)]
        old += [n for n in replaces if n in taken and n not in old]
    old = [n for n in old if os.path.lexists(out / n)] if force else []
    if old:
        trash = stage / REPLACED
        trash.mkdir()
        for name in old:  # the old completion marker first: out reads as incomplete
            os.rename(out / name, trash / name)
    for name in order:
        os.rename(stage / name, out / name)
    _fsync(out, directory=True)
