"""The curated clustering of a run: what ``kmeanskit review`` made of it, for everything
after the review (``predict``, ``export``, the report).

:func:`curated` replays the run's ``edits.jsonl`` (:class:`~kmeanskit.runs.edits.EditLog`)
and keeps the clusters that still have members, in id order, with their names; a run
without edits is its own curation (the names default to ``cluster_NN``). The centres of
the curated clusters are the mean rows of their members in the run's ``features.npy``
(the rows k-means ran on, :func:`read_features`); a cluster emptied by the edits has
none and is left out of every model; unassigned rows (``-1``) belong to no cluster.
:func:`curated_kmeans` makes the copy of a fitted k-means whose centres are those.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RunFolderError
from ..tables._common import TableError
from ..tables._npyfile import read_npy_file, shape_text
from . import layout
from .edits import UNASSIGNED, EditLog

logger = logging.getLogger(__name__)

__all__ = ["CuratedClustering", "curated", "curated_kmeans", "read_features"]


def read_features(run, n_rows: int | None = None) -> np.ndarray:
    """The run's ``features.npy`` (float32 or float64, one row per row of
    ``assignments.csv``), read as untrusted input: its header is checked before any of
    its data is read (never unpickled), then every value must be finite.

    Parameters
    ----------
    run : path-like
        The run folder.
    n_rows : int, optional
        The rows it must hold (default: the summary's ``n_rows``).

    Raises
    ------
    RunFolderError
        Naming the file: missing (table runs on a precomputed distance table, and runs
        of kmeanskit before it, have none), of another shape or dtype, or not finite.

    Examples
    --------
    >>> try:
    ...     read_features("no/such/run", n_rows=3)
    ... except RunFolderError as exc:
    ...     print(str(exc)[:40])
    'no/such/run/features.npy' is missing: t
    """
    run = Path(run)
    if n_rows is None:
        n_rows = layout.read_summary(run)["n_rows"]
    path = run / layout.FEATURES_FILE
    if not path.is_file():
        raise RunFolderError(
            f"{str(path)!r} is missing: the curated centres are computed from the rows "
            "k-means ran on, which runs of earlier kmeanskit versions and runs on a "
            "precomputed distance table do not keep (run 'kmeanskit cluster' again)"
        )

    def check(shape: tuple, dtype: np.dtype) -> None:
        if len(shape) != 2 or shape[0] != n_rows or shape[1] < 1 or dtype.kind != "f":
            raise RunFolderError(
                f"{str(path)!r}: expected {n_rows} rows of real numbers (float32); got an "
                f"array of shape {shape_text(shape)} ({dtype})"
            )

    try:
        X = read_npy_file(path, check)
    except TableError as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc}") from None
    except OSError as exc:
        raise RunFolderError(f"{str(path)!r} cannot be read: {exc.strerror or exc}") from None
    if X.dtype.itemsize > 8 or not np.isfinite(X).all():
        raise RunFolderError(f"{str(path)!r}: holds values that are not finite float32 numbers")
    return X


@dataclass(frozen=True)
class CuratedClustering:
    """The curated clustering of a run (see :func:`curated`).

    Attributes
    ----------
    run : Path
        The run folder.
    k : int
        The run's own number of clusters.
    ids : tuple of int
        The curated clusters that have members, in id order.
    names : tuple of str
        The shown name of each (``cluster_NN`` when nobody named it).
    labels : ndarray of int64
        The curated cluster id of every row of ``assignments.csv`` (-1: unassigned).
    n_edits : int
        The edits in force (0: the run as ``kmeanskit cluster`` wrote it).
    """

    run: Path
    k: int
    ids: tuple
    names: tuple
    labels: np.ndarray
    n_edits: int

    @property
    def edited(self) -> bool:
        """Whether edits are in force."""
        return self.n_edits > 0

    @property
    def index(self) -> np.ndarray:
        """The position in :attr:`ids` of every row's cluster (-1: unassigned): the
        cluster index of a curated model."""
        out = np.full(len(self.labels), UNASSIGNED, dtype=np.int64)
        assigned = self.labels != UNASSIGNED
        out[assigned] = np.searchsorted(np.asarray(self.ids, dtype=np.int64), self.labels[assigned])
        return out

    @property
    def sizes(self) -> list[int]:
        """The members of each cluster of :attr:`ids`."""
        index = self.index
        return np.bincount(index[index >= 0], minlength=len(self.ids)).tolist()

    def name(self, cluster: int) -> str:
        """The shown name of the curated cluster ``cluster`` (``'unassigned'`` for -1)."""
        if cluster == UNASSIGNED:
            return "unassigned"
        try:
            return self.names[self.ids.index(cluster)]
        except ValueError:
            raise KeyError(f"cluster={cluster!r} is not a curated cluster with members") from None

    def centres(self, features=None) -> np.ndarray:
        """The mean feature row of each curated cluster's members, in :attr:`ids` order
        (float64).

        Parameters
        ----------
        features : array (n_rows, d), optional
            The rows k-means ran on (default: the run's ``features.npy``, read by
            :func:`read_features`).

        Examples
        --------
        >>> c = CuratedClustering(Path("run"), 2, (0, 3), ("a", "b"),
        ...                       np.array([0, 3, 0, -1]), 1)
        >>> c.centres(np.array([[0.0], [5.0], [2.0], [9.0]])).ravel().tolist()
        [1.0, 5.0]
        """
        X = read_features(self.run, len(self.labels)) if features is None else features
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] != len(self.labels):
            raise ValueError(
                f"features should hold {len(self.labels)} rows (one per row of the run); got "
                f"shape {X.shape}"
            )
        if not self.ids:
            raise RunFolderError(f"{str(self.run)!r}: every row is unassigned: no cluster is left")
        index = self.index
        rows = np.flatnonzero(index >= 0)
        order = rows[np.argsort(index[rows], kind="stable")]
        counts = np.bincount(index[rows], minlength=len(self.ids))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.add.reduceat(np.asarray(X[order], dtype=np.float64), starts, axis=0)
        return sums / counts[:, None]


def curated(run) -> CuratedClustering:
    """The curated clustering of the run folder ``run``: its ``assignments.csv`` with the
    edits of ``edits.jsonl`` in force replayed over it (none: the run itself).

    Raises :class:`~kmeanskit.errors.RunFolderError` for a damaged run folder or edit
    log (naming the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kmeanskit.runs.tables import cluster_table
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a,b\\n0,0\\n0,1\\n9,9\\n9,8\\n")
    >>> _ = cluster_table(d / "t.csv", d / "run", k=2)
    >>> _ = EditLog(d / "run").append({"op": "rename", "cluster": 1, "name": "far"})
    >>> c = curated(d / "run")
    >>> c.ids, c.names, c.centres().tolist()[1]
    ((0, 1), ('cluster_00', 'far'), [9.0, 8.5])
    """
    log = EditLog(run)
    state = log.state
    present = set(np.unique(state.labels).tolist()) - {UNASSIGNED}
    ids = tuple(j for j in sorted(state.names) if j in present)
    return CuratedClustering(
        run=Path(run),
        k=log.k,
        ids=ids,
        names=tuple(state.name(j) for j in ids),
        labels=state.labels.copy(),
        n_edits=len(log.in_force),
    )


def curated_kmeans(kmeans, clustering: CuratedClustering, features=None):
    """A copy of the fitted k-means ``kmeans`` (KMeans, SphericalKMeans or
    MiniBatchKMeans) whose clusters are the curated ones: ``cluster_centers_`` the
    centres of :meth:`CuratedClustering.centres` (scaled to unit length for a
    SphericalKMeans), ``n_clusters`` their number, the other
    fitted attributes made consistent (``inertia_`` over the assigned rows, the training
    labels and starting centres of the old clusters dropped), so that ``predict`` and
    ``transform`` work and a model file holds it. ``kmeans`` is not changed.

    Examples
    --------
    >>> from kmeanskit import KMeans
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> km = KMeans(2, n_init=1, random_state=0).fit(X)
    >>> c = CuratedClustering(Path("run"), 2, (0,), ("all",), np.zeros(4, np.int64), 1)
    >>> curated_kmeans(km, c, X).cluster_centers_.tolist()
    [[5.5]]
    """
    X = read_features(clustering.run, len(clustering.labels)) if features is None else features
    X = np.asarray(X)
    spherical = type(kmeans).__name__ == "SphericalKMeans"
    if spherical:  # it clusters the rows scaled to unit length
        lengths = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.where(lengths > 0, lengths, 1.0)
    centres = clustering.centres(X)
    old = np.asarray(kmeans.cluster_centers_)
    if centres.shape[1] != old.shape[1]:
        raise RunFolderError(
            f"{str(clustering.run / layout.FEATURES_FILE)!r}: rows of {centres.shape[1]} "
            f"features; the run's model has centres of {old.shape[1]}"
        )
    if spherical:  # its centres are unit vectors
        norms = np.linalg.norm(centres, axis=1, keepdims=True)
        centres = centres / np.where(norms > 0, norms, 1.0)
    km = copy.deepcopy(kmeans)
    m = len(clustering.ids)
    km.cluster_centers_ = np.ascontiguousarray(centres, dtype=old.dtype)
    params = {"n_clusters": m}
    if not isinstance(km.init, str) and not callable(km.init):
        params["init"] = "k-means++"  # starting centres of k clusters, not m
    if getattr(km, "frozen", None) is not None:
        params["frozen"] = None  # centres of the old clusters
    km.set_params(**params)
    for name in ("labels_", "init_centers_", "inertia_history_"):
        if hasattr(km, name):
            delattr(km, name)
    index = clustering.index
    rows = np.flatnonzero(index >= 0)
    diff = np.asarray(X[rows], dtype=np.float64) - centres[index[rows]]
    if hasattr(km, "inertia_"):
        km.inertia_ = float(np.einsum("ij,ij->", diff, diff))
    if hasattr(km, "counts_"):
        km.counts_ = np.asarray(clustering.sizes, dtype=np.float64)
    if hasattr(km, "_n_features_out"):
        km._n_features_out = m
    logger.debug("curated k-means of %s: %d clusters from %d", clustering.run, m, kmeans.n_clusters)
    return km
