"""What a run provably wrote: the manifest of a run folder.

Every run writes ``.kmeanskit-manifest.json`` into its folder, the fingerprint of each entry
it published: a file's size and SHA-256, a symbolic link's target, a folder's entries, each
fingerprinted the same way. ``force`` replaces or removes an entry of ``out`` only when it
still matches its fingerprint (:func:`owned`): a file the user added to a cluster folder,
a folder the user made under a name kmeanskit uses, or a name that only ``summary.json``
mentions is never removed. Commands that rewrite part of a run (``kmeanskit report``,
``plot``) refresh the fingerprints of what they wrote (:func:`refresh`).

The manifest is read as untrusted input: a damaged one, or one that names what is not
there, proves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .._atomic import LOCK_FILE, STAGE_PREFIX, atomic_write

__all__ = ["MANIFEST_FILE", "claimable", "first_difference", "owned", "refresh", "write_manifest"]

MANIFEST_FILE = ".kmeanskit-manifest.json"
FORMAT = "kmeanskit-manifest"
#: the largest manifest read back (32,000 images take about 5 MB)
MAX_BYTES = 256 * 2**20
_SKIP = {LOCK_FILE, MANIFEST_FILE}


def sha256_file(path) -> str:
    """The SHA-256 of the file ``path``, read a MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(path) -> dict:
    """The fingerprint of one entry, without following symbolic links.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("x")
    >>> fingerprint(p)["size"]
    1
    """
    path = Path(path)
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return {"link": os.readlink(path)}
    if stat.S_ISDIR(mode):
        return {"entries": {p.name: fingerprint(p) for p in sorted(path.iterdir())}}
    if stat.S_ISREG(mode):
        return {"size": os.lstat(path).st_size, "sha256": sha256_file(path)}
    return {"special": stat.S_IFMT(mode)}  # never matches a recorded file


def write_manifest(folder, names: Iterable[str] | None = None) -> Path:
    """Write the manifest of ``folder``: the fingerprints of ``names`` (default: every
    entry but the lock, the manifest and staging folders)."""
    folder = Path(folder)
    if names is None:
        names = [
            p.name
            for p in folder.iterdir()
            if p.name not in _SKIP and not p.name.startswith(STAGE_PREFIX)
        ]
    entries = {name: fingerprint(folder / name) for name in sorted(names)}
    data = {"format": FORMAT, "version": 1, "entries": entries}
    return atomic_write(folder / MANIFEST_FILE, lambda fh: json.dump(data, fh), text=True)


def _recorded(folder: Path) -> dict:
    """The entries of ``folder``'s manifest, or {} when there is none or it is damaged."""
    path = folder / MANIFEST_FILE
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {
        name: value
        for name, value in entries.items()
        if isinstance(name, str) and name and Path(name).name == name and name not in ("..", ".")
    }


def first_difference(path, recorded) -> str | None:
    """The first path under ``path`` that differs from the fingerprint ``recorded`` (added,
    changed or missing), or None when it matches."""
    path = Path(path)
    if not isinstance(recorded, dict):
        return str(path)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return str(path)
    if stat.S_ISDIR(mode) and not stat.S_ISLNK(mode):
        entries = recorded.get("entries")
        if not isinstance(entries, dict):
            return str(path)
        try:
            present = sorted(p.name for p in path.iterdir())
        except OSError:
            return str(path)
        for name in present:
            if name not in entries:
                return str(path / name)
            found = first_difference(path / name, entries[name])
            if found is not None:
                return found
        missing = sorted(set(entries) - set(present))
        return str(path / missing[0]) if missing else None
    try:
        return None if fingerprint(path) == recorded else str(path)
    except OSError:
        return str(path)


def owned(folder) -> dict:
    """The entries of ``folder`` that a kmeanskit run provably wrote and nobody changed
    since: name -> None; the others that the manifest names, name -> the first path that
    differs."""
    folder = Path(folder)
    return {
        name: first_difference(folder / name, recorded)
        for name, recorded in _recorded(folder).items()
        if os.path.lexists(folder / name)
    }


def claimable(folder, names: Iterable[str]) -> list[str]:
    """Of ``names`` that a command is about to write in the run ``folder``: those it may
    record as its own afterwards, the ones that are not there yet or that a kmeanskit
    run provably wrote. A folder that someone else made (``thumbs/`` holding their
    photos) stays theirs even when a command adds files to it.

    Examples
    --------
    >>> claimable("no/such/run", ["report.html"])
    ['report.html']
    """
    folder = Path(folder)
    mine = owned(folder)
    return [n for n in names if not os.path.lexists(folder / n) or (n in mine and mine[n] is None)]


def refresh(folder, names: Iterable[str]) -> None:
    """After a command rewrote ``names`` in the run ``folder`` (the report, the figures):
    record their new fingerprints, keeping the others; nothing when the folder has no
    manifest (a folder kmeanskit did not make)."""
    folder = Path(folder)
    entries = _recorded(folder)
    if not entries and not (folder / MANIFEST_FILE).is_file():
        return
    keep = [n for n in entries if os.path.lexists(folder / n)]
    still = {n for n in keep if first_difference(folder / n, entries[n]) is None}
    names = [n for n in names if os.path.lexists(folder / n)]
    data_names = sorted(still | set(names))
    fresh = {n: fingerprint(folder / n) if n in names else entries[n] for n in data_names}
    data = {"format": FORMAT, "version": 1, "entries": fresh}
    atomic_write(folder / MANIFEST_FILE, lambda fh: json.dump(data, fh), text=True)
