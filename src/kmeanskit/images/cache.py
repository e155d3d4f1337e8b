"""An on-disk cache of feature rows, keyed by file content and extractor settings.

Re-clustering the same images with another k or algorithm then decodes nothing, and an
interrupted run resumes: rows are saved a batch at a time, each batch in its own file
written under a temporary name and renamed when complete.

Layout: ``ROOT/<settings key>/batch-<content hash of the batch>.npz``, each holding the
content hashes (``keys``) and the feature ``rows`` of one batch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["FeatureCache", "default_cache_dir", "file_key", "settings_key"]


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

    def __init__(self, root, settings: str):
        self.root = Path(root)
        self.settings = settings
        self.folder = self.root / settings
        self._rows: dict[str, np.ndarray] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("batch-*.npz")):
                try:
                    with np.load(path) as data:
                        for key, row in zip(data["keys"], data["rows"], strict=True):
                            self._rows[str(key)] = row
                except (OSError, ValueError, KeyError) as exc:  # a damaged file: ignore it
                    logger.warning("ignored the damaged cache file %s: %s", path, exc)
        logger.info("feature cache %s: %d rows", self.folder, len(self._rows))

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: str):
        """The cached row of a content key, or None."""
        return self._rows.get(key)

    def put(self, keys, rows: np.ndarray) -> None:
        """Store a batch of rows (one file, written atomically)."""
        keys = [str(k) for k in keys]
        if not keys:
            return
        rows = np.asarray(rows)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = "batch-" + hashlib.sha1("".join(keys).encode()).hexdigest()[:16] + ".npz"
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=np.array(keys), rows=rows)
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for key, row in zip(keys, rows, strict=True):
            self._rows[key] = row
