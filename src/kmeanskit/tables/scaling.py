"""Scaling the columns of a table before clustering, and the centres back afterwards.

The fitted statistics are plain arrays (``mean_``, ``scale_``) that :meth:`Scaler.to_dict`
turns into lists of floats, so a model file can hold them without pickle.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

__all__ = ["Scaler"]

logger = logging.getLogger(__name__)

_KINDS = ("standard", "whiten", "none")


class Scaler:
    """Scale the columns of X: ``(X - mean_) / scale_``.

    Parameters
    ----------
    kind : {"standard", "whiten", "none"}, default="standard"
        ``"standard"``: subtract each column's mean and divide by its standard deviation
        (the population one, ``ddof=0``). ``"whiten"``: divide by the standard deviation
        only, as :func:`scipy.cluster.vq.whiten` (``mean_`` is 0). ``"none"``: leave X as
        it is (``mean_`` 0, ``scale_`` 1). A column whose deviation is 0 is divided by 1,
        with a log warning naming it. Sparse (CSR) X takes ``"whiten"`` and ``"none"``
        only: centring would make it dense.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
    scale_ : ndarray of shape (n_features,)
    feature_names_ : list of str or None
        As given to :meth:`fit`, for messages and model files.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> scaler = Scaler("standard").fit(X)
    >>> scaler.transform(X).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    >>> scaler.inverse_transform([[0.0, 0.0]]).tolist()
    [[2.0, 20.0]]
    >>> Scaler.from_dict(scaler.to_dict()).scale_.tolist()
    [1.0, 10.0]
    """

    def __init__(self, kind: str = "standard"):
        self.kind = kind

    def _check_kind(self):
        if self.kind not in _KINDS:
            allowed = ", ".join(repr(k) for k in _KINDS)
            raise ValueError(f"kind={self.kind!r} should be one of {allowed}")

    def fit(self, X, feature_names=None) -> Scaler:
        """Compute the column means and deviations of X (rows are samples).

        Parameters
        ----------
        X : array-like or CSR matrix of shape (n_samples, n_features)
        feature_names : list of str, optional
            Names of the columns, used in the warning about constant columns.
        """
        self._check_kind()
        X = _check_array(X)
        n, d = X.shape
        if n == 0:
            raise ValueError("X has no rows; a scaler needs at least one")
        if feature_names is not None and len(feature_names) != d:
            raise ValueError(f"feature_names has {len(feature_names)} names; X has {d} columns")
        if sp.issparse(X) and self.kind == "standard":
            raise ValueError(
                "kind='standard' cannot scale a sparse matrix: subtracting the mean would "
                "make it dense; use kind='whiten' (divide by the deviation only) or 'none'"
            )
        self.feature_names_ = None if feature_names is None else [str(f) for f in feature_names]
        if self.kind == "none":
            self.mean_, self.scale_ = np.zeros(d), np.ones(d)
            return self
        mean, std, constant = _mean_std(X)
        if constant.any():
            names = self.feature_names_ or [f"x{j}" for j in range(d)]
            where = np.flatnonzero(constant)
            listed = ", ".join(f"'{names[j]}' ({j})" for j in where[:10])
            if where.size > 10:
                listed += f" and {where.size - 10} more"
            verb = "have" if where.size > 1 else "has"
            logger.warning(
                "column%s %s %s zero standard deviation; left unscaled",
                "s" * (where.size > 1),
                listed,
                verb,
            )
        self.scale_ = np.where(constant, 1.0, std)
        self.mean_ = mean if self.kind == "standard" else np.zeros(d)
        return self

    def _check_fitted(self, X=None):
        if not hasattr(self, "scale_"):
            raise ValueError("this Scaler is not fitted yet; call fit(X) first")
        if X is None:
            return None
        X = _check_array(X, finite=False)
        if X.shape[1] != self.scale_.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} columns; the scaler was fitted on {self.scale_.shape[0]}"
            )
        return X

    def transform(self, X):
        """``(X - mean_) / scale_``; a CSR matrix stays CSR ("whiten" and "none")."""
        X = self._check_fitted(X)
        if sp.issparse(X):
            if np.any(self.mean_):
                raise ValueError("a 'standard' scaler cannot transform a sparse matrix")
            return sp.csr_matrix(X @ sp.diags(1.0 / self.scale_))
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X, feature_names=None):
        """:meth:`fit`, then :meth:`transform`."""
        return self.fit(X, feature_names).transform(X)

    def inverse_transform(self, C):
        """Back to the original units: ``C * scale_ + mean_`` (for cluster centres)."""
        C = self._check_fitted(C)
        if sp.issparse(C):
            if np.any(self.mean_):
                C = C.toarray()
            else:
                return sp.csr_matrix(C @ sp.diags(self.scale_))
        return C * self.scale_ + self.mean_

    def to_dict(self) -> dict:
        """The fitted scaler as plain lists and strings (JSON-ready)."""
        self._check_fitted()
        return {
            "kind": self.kind,
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
            "feature_names": self.feature_names_,
        }

    @classmethod
    def from_dict(cls, state: dict) -> Scaler:
        """The scaler :meth:`to_dict` described."""
        scaler = cls(state["kind"])
        scaler._check_kind()
        mean = np.asarray(state["mean"], dtype=np.float64)
        scale = np.asarray(state["scale"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ValueError(
                f"mean has shape {mean.shape} and scale {scale.shape}; "
                "they should be one number per feature each"
            )
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError("a scaler's mean and scale should be finite, and its scale > 0")
        names = state.get("feature_names")
        scaler.mean_, scaler.scale_ = mean, scale
        scaler.feature_names_ = None if names is None else [str(n) for n in names]
        return scaler


def _check_array(X, finite: bool = True):
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        data = X.data
    else:
        X = np.asarray(X)
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X should hold numbers, not {X.dtype}")
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        data = X
    if X.ndim != 2:
        raise ValueError(f"X should be 2-D, got shape {X.shape}")
    if finite and not np.isfinite(data).all():
        raise ValueError("X holds NaN or infinite values; fill or drop them first")
    return X


def _mean_std(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means, population deviations (float64, two passes, also on CSR) and
    which columns hold one value only (their deviation may be rounding noise)."""
    n = X.shape[0]
    if not sp.issparse(X):
        X = X.astype(np.float64, copy=False)
        return X.mean(axis=0), X.std(axis=0), np.ptp(X, axis=0) == 0
    coo = X.tocoo()
    data = coo.data.astype(np.float64)
    mean = np.bincount(coo.col, weights=data, minlength=X.shape[1]) / n
    stored = np.bincount(coo.col, minlength=X.shape[1])
    squares = np.bincount(coo.col, weights=(data - mean[coo.col]) ** 2, minlength=X.shape[1])
    std = np.sqrt((squares + (n - stored) * mean**2) / n)
    spread = X.max(axis=0).toarray().ravel() - X.min(axis=0).toarray().ravel()
    return mean, std, spread == 0
