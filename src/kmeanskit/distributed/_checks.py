"""Input checks of the Dask estimators, with the messages of the in-memory ones.

Finiteness and magnitude come at no extra pass in the common case: the first pass of
:class:`~kmeanskit.distributed.KMeans` (the column moments about the first row) is not
finite when a value is NaN or infinite, and bounds the largest value. Only when it is
not finite, or too large or too small to vouch for the values, does one more pass
over X (:func:`_scan`) say which row is at fault or how large the values are.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..estimators._validation import magnitude_error

__all__ = [
    "check_block",
    "check_dtype",
    "check_moments",
    "check_weights",
    "dask_weights",
    "located",
    "weight_stats",
]


def check_dtype(X) -> None:
    """Refuse, as scikit-learn's ``check_array`` does, complex X and X without features
    (anything else numeric becomes float64; strings fail at the first pass)."""
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {X.dtype}")
    if X.shape[1] == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
        )


def _where(offsets, row: int) -> str:
    b = int(np.searchsorted(offsets, row, side="right")) - 1
    return f"row {row}, in block {b} (rows {int(offsets[b])} to {int(offsets[b + 1]) - 1})"


def _scan(X, offsets):
    """One pass over X: raise for NaN or infinity (naming the first row and its block);
    else the largest absolute value."""
    import dask
    import dask.array as da

    nan_rows = da.isnan(X).any(axis=1)
    inf_rows = da.isinf(X).any(axis=1)
    n_nan, first_nan, n_inf, first_inf, top = dask.compute(
        nan_rows.sum(),
        da.argmax(nan_rows),
        inf_rows.sum(),
        da.argmax(inf_rows),
        da.where(da.isfinite(X), abs(X), 0).max(),
    )
    for count, first, what in ((n_nan, first_nan, "NaN"), (n_inf, first_inf, "infinity")):
        if count:
            raise ValueError(
                f"Input X contains {what}: {int(count)} row(s), the first at "
                f"{_where(offsets, int(first))}"
            )
    return float(top)


def check_moments(X, x0, part_sq, offsets, fit: bool = True) -> None:
    """Refuse X holding NaN or infinity, or values whose squared distances overflow (or,
    with ``fit``, underflow) its dtype, as the in-memory estimators do, from the column
    moments about the first row ``x0`` (``part_sq``: the sums of ``(x - x0)**2``); a
    pass over X only when they cannot vouch for it.

    Parameters
    ----------
    X : dask array of shape (n, d)
    x0 : ndarray of shape (d,), float64, the first row
    part_sq : ndarray of shape (d,), float64 (inf or NaN when X is not finite)
    offsets : ndarray of shape (n_blocks + 1,), the first row of every block
    fit : bool, default=True
        Refuse values too small to cluster too.
    """
    n, d = X.shape
    info = np.finfo(X.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        # every |x_ij| <= |x0_j| + sqrt(sum_i (x_ij - x0_j)^2)
        bound = float(np.max(np.abs(x0) + np.sqrt(part_sq))) if d else 0.0
        small = np.max(np.abs(x0)) < np.sqrt(info.tiny) and np.max(part_sq) < 4 * n * info.tiny
    if not np.isfinite(bound):
        top = _scan(X, offsets)  # raises for NaN or infinity
    elif 4.0 * d * bound * bound > float(info.max) / 16 or (fit and small):
        top = _scan(X, offsets)
    else:
        return
    magnitude_error(top, d, X.dtype, fit)


def dask_weights(sample_weight, X):
    """``sample_weight`` as a dask array of X's dtype in X's row chunks (None for
    None), its dtype and shape checked; its values by :func:`check_weights`."""
    if sample_weight is None:
        return None
    import dask.array as da

    w = da.asarray(sample_weight)
    if w.dtype.kind == "c":
        raise ValueError(f"sample_weight must be real; got complex dtype {w.dtype}")
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric; got dtype {w.dtype}")
    if w.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight must have shape ({X.shape[0]},), one weight per row; got shape "
            f"{w.shape}"
        )
    return w.astype(X.dtype).rechunk((X.chunks[0],))


def weight_stats(w) -> tuple:
    """The lazy statistics of a dask array of weights that :func:`check_weights` reads
    (one pass over the weights, computed with whatever else is computed then)."""
    import dask.array as da

    finite = da.isfinite(w)
    return (finite.all(), da.argmin(finite), w.min(), da.argmin(w), (w > 0).any())


def check_weights(stats, w) -> None:
    """Raise the in-memory estimators' ValueError for weights that are not finite (in
    X's dtype), negative or all zero, from the computed :func:`weight_stats`."""
    all_finite, first_bad, low, at_low, any_positive = stats
    if not all_finite:
        i = int(first_bad)
        raise ValueError(
            f"sample_weight must be finite; got NaN or infinity "
            f"({float(w[i].compute())!r} at index {i})"
        )
    if low < 0:
        raise ValueError(
            f"sample_weight must be non-negative; got min {float(low)!r} (index {int(at_low)})"
        )
    if not any_positive:
        raise ValueError("sample_weight must have at least one positive weight; all are zero")


def check_block(block, block_info=None) -> None:
    """Refuse a block of rows to predict, transform or score (on a worker) that holds
    NaN or infinity, or values whose squared distances overflow its dtype: two passes
    (max and min), as the in-memory ``check_magnitude``; ``block_info`` (from
    ``map_blocks``) places the row in X."""
    if block.size == 0:
        return
    top = max(abs(float(block.max())), abs(float(block.min())))
    if np.isfinite(top):
        magnitude_error(top, block.shape[1], block.dtype, fit=False)
        return
    row = int(np.argmax(~np.isfinite(block).all(axis=1)))
    what = "NaN" if np.isnan(block[row]).any() else "infinity"
    start = block_info[0]["array-location"][0][0] if block_info else 0
    raise ValueError(f"Input X contains {what}: row {start + row} (of a block of {len(block)})")


@contextmanager
def located(offsets, block=None, rows=None, values=None):
    """Within it, a ValueError of the in-memory checks on some rows of X (NaN, infinity,
    values out of range) is said again with where those rows are: block number
    ``block``, or the rows ``rows`` of X (None: all of them) whose ``values`` were
    checked (the first row with NaN or infinity named). Other errors go through."""
    try:
        yield
    except ValueError as exc:
        message = str(exc).splitlines()[0] if str(exc) else ""  # scikit-learn's first line
        if not message.startswith(("Input X contains", "X has values")):
            raise
        if block is not None:
            lo, hi = int(offsets[block]), int(offsets[block + 1]) - 1
            where = f"in block {block} (rows {lo} to {hi})"
        else:
            bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
            if bad.size:
                where = f"at {_where(offsets, int(bad[0] if rows is None else rows[bad[0]]))}"
            else:
                where = f"in the sample of {len(values)} rows the fit starts from"
        raise ValueError(f"{message.rstrip('.')} ({where})") from exc
