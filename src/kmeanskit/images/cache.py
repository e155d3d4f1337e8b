"""An on-disk cache of feature rows, keyed by file content and extractor settings.

Re-clustering the same images with another k or algorithm then decodes nothing, and an
interrupted run resumes: rows are saved a batch at a time, each batch in its own file
written under a temporary name and renamed when complete.

Layout: ``ROOT/<settings key>/batch-<content hash of the batch>.npz``, each holding the
content hashes (``keys``) and the feature ``rows`` of one batch, and ``.lock``.

Several processes may share a cache. Readers take no lock: they only ever see complete
files. Writers hold ``.lock`` (a file lock, see :func:`kmeanskit._atomic.file_lock`)
while they write and rename one batch, milliseconds; one that waits longer than
``lock_timeout`` keeps its rows in memory only and goes on. Whoever finds the lock free
when opening the cache removes what killed writers left (temporary files) and the
files that cannot be read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import atomic_write, file_lock
from ..tables._npyfile import npy_entries, open_npz, read_entry

logger = logging.getLogger(__name__)

__all__ = ["FeatureCache", "default_cache_dir", "file_key", "read_batch", "settings_key"]

#: the writers' lock file in each settings folder
LOCK_FILE = ".lock"


def default_cache_dir() -> Path:
    """``$KMEANSKIT_CACHE``, else ``$XDG_CACHE_HOME/kmeanskit``, else ``~/.cache/kmeanskit``."""
    if os.environ.get("KMEANSKIT_CACHE"):
        return Path(os.environ["KMEANSKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kmeanskit"


def file_key(path) -> str:
    """SHA-1 of the file's bytes (read in blocks), hex.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a"
    >>> _ = p.write_bytes(b"abc")
    >>> file_key(p)
    'a9993e364706816aba3e25717850c26c9cd0d89d'
    """
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def settings_key(*parts) -> str:
    """A short hex digest of the extractor settings (``repr`` of each part; arrays by
    their bytes)."""
    h = hashlib.sha1()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:20]


#: the most rows one batch file may hold, and values one row
MAX_BATCH_ROWS = 1 << 16
MAX_ROW_VALUES = 1 << 20


def read_batch(path) -> tuple[list[str], np.ndarray]:
    """The content keys and feature rows of one batch file, checked: a cache is read
    back, so it is untrusted. The arrays are read as the table reader reads an ``.npz``
    (:func:`kmeanskit.tables._npyfile.read_entry`: each header checked, and agreeing with
    the bytes its entry holds, before any data is read); they must be stored (as
    ``np.savez`` writes them), the keys texts, the rows finite float32 or float64, one per
    key. Raises ValueError (zipfile.BadZipFile, OSError) on a damaged file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "batch-1.npz"
    >>> np.savez(p, keys=np.array(["k1"]), rows=np.ones((1, 2), np.float32))
    >>> read_batch(p)
    (['k1'], array([[1., 1.]], dtype=float32))
    """

    def keys_ok(shape, dtype) -> None:
        if len(shape) != 1 or dtype.kind != "U" or not 0 < shape[0] <= MAX_BATCH_ROWS:
            raise ValueError(f"keys: expected up to {MAX_BATCH_ROWS} texts; got {dtype}")

    def rows_ok(shape, dtype) -> None:
        if len(shape) != 2 or dtype not in (np.float32, np.float64):
            raise ValueError(f"rows: expected rows of float32; got {shape} {dtype}")
        if not 0 < shape[1] <= MAX_ROW_VALUES:
            raise ValueError(f"rows: {shape[1]} values a row")

    path = Path(path)
    with open_npz(path) as zf:
        entries = npy_entries(zf)
        if sorted(entries) != ["keys", "rows"] or len(zf.infolist()) != 2:
            raise ValueError("expected the arrays keys and rows")
        for info in entries.values():
            if info.compress_type != zipfile.ZIP_STORED:  # what np.savez writes
                raise ValueError(f"{info.filename} is compressed")
        keys = read_entry(path, zf, entries["keys"], keys_ok)
        rows = read_entry(path, zf, entries["rows"], rows_ok)
    if len(rows) != len(keys):
        raise ValueError(f"rows: expected {len(keys)} rows; got {len(rows)}")
    if not np.isfinite(rows).all():
        raise ValueError("rows: not finite numbers")
    return [str(k) for k in keys], rows


class FeatureCache:
    """Feature rows by file content, for one setting of the extractor.

    Parameters
    ----------
    root : path
        The cache folder (made when first written).
    settings : str
        :func:`settings_key` of everything that changes the rows.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> cache = FeatureCache(tempfile.mkdtemp(), "s1")
    >>> cache.put(["k1", "k2"], np.ones((2, 3), np.float32))
    >>> FeatureCache(cache.root, "s1").get("k2").tolist(), cache.get("nope")
    ([1.0, 1.0, 1.0], None)
    """

    def __init__(self, root, settings: str, lock_timeout: float = 30.0):
        self.root = Path(root)
        self.settings = settings
        self.folder = self.root / settings
        self.lock_timeout = lock_timeout
        self._rows: dict[str, np.ndarray] = {}
        damaged = []
        width = None  # every row of one setting has the same length
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("batch-*.npz")):
                try:
                    keys, rows = read_batch(path)
                    if width is not None and rows.shape[1] != width:
                        raise ValueError(f"rows of {rows.shape[1]} values, not {width}")
                except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                    logger.warning("ignored the damaged cache file %s: %s", path, exc)
                    damaged.append(path)
                    continue
                width = rows.shape[1]
                self._rows.update(zip(keys, rows, strict=True))
            self._tidy(damaged)
        self._damaged = {p.name for p in damaged}
        logger.info("feature cache %s: %d rows", self.folder, len(self._rows))

    def _tidy(self, damaged) -> None:
        """Remove killed writers' temporary files and ``damaged`` batches, when no
        writer is at work (never waits)."""
        leftovers = [p for p in self.folder.iterdir() if ".tmp" in p.name] + list(damaged)
        if not leftovers:
            return
        try:
            with file_lock(self.folder / LOCK_FILE, timeout=0):
                for path in leftovers:
                    path.unlink(missing_ok=True)
        except TimeoutError:  # a writer is at work: next time
            return
        except OSError as exc:  # a read-only cache: leave them
            logger.info("could not tidy the feature cache %s: %s", self.folder, exc)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: str):
        """The cached row of a content key, or None."""
        return self._rows.get(key)

    def put(self, keys, rows: np.ndarray) -> None:
        """Store a batch of rows (one file, written atomically). Never fails the run:
        when the lock is busy past ``lock_timeout`` or the folder cannot be written,
        the rows are kept in memory only (logged)."""
        keys = [str(k) for k in keys]
        if not keys:
            return
        rows = np.asarray(rows)
        name = "batch-" + hashlib.sha1("".join(keys).encode()).hexdigest()[:16] + ".npz"
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with file_lock(self.folder / LOCK_FILE, timeout=self.lock_timeout):
                # the same keys make the same rows: another run may have saved them
                if name in self._damaged or not target.is_file():
                    atomic_write(target, lambda fh: np.savez(fh, keys=np.array(keys), rows=rows))
                    self._damaged.discard(name)
        except TimeoutError as exc:
            logger.warning("feature cache busy, %d rows not saved: %s", len(keys), exc)
        except OSError as exc:  # a read-only or full cache: the run goes on without it
            logger.warning("feature cache %s not written: %s", self.folder, exc)
        for key, row in zip(keys, rows, strict=True):
            self._rows[key] = row
