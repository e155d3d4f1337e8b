"""Scores for choosing k, a recommended k per method, and an overall one.

Every method scores the fits of a :func:`~kmeanskit.sweep`:

- ``elbow``: the knee of the inertia curve by Kneedle (Satopää et al. 2011): in
  normalised coordinates, the k furthest below the chord from the first to the last k;
- ``silhouette``: scikit-learn's mean silhouette, exact up to ``silhouette_max_samples``
  rows and on a fixed random sample of that size beyond (the same rows for every k),
  with the sample's standard error stated; the best k is the largest score;
- ``calinski_harabasz`` (largest) and ``davies_bouldin`` (smallest): scikit-learn's;
- ``gap``: the gap statistic (Tibshirani, Walther and Hastie 2001), see :mod:`._gap`;
- ``bic``: the Bayesian information criterion under the identical spherical Gaussian
  model of X-means (Pelleg and Moore 2000); the best k is the largest BIC.

The overall recommendation is the k that most methods chose; ties go to the k the
silhouette ranks higher. :attr:`KChoice.explanation` says so in a sentence or two.

A search over many k takes minutes on a few thousand rows: ``progress`` (of
:func:`choose_k`, :func:`score_sweep` and :func:`resolve_k`) is called with a
:class:`KProgress` after each fit of the sweep (a k of a restart), each score, each
reference fit of the gap statistic, with the seconds so far and an estimate of the
seconds left (:func:`format_k_progress` makes it a line).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.utils import check_random_state

from ._gap import gap_statistic
from ._k_progress import (
    METHOD_NAMES,
    KProgress,
    _Tracker,
    final_fit_done,
    format_duration,
    format_k_progress,
)
from .estimators._bic import bic_score
from .sweep import SweepResult, sweep

__all__ = [
    "AUTO_K",
    "GAP_MAX_ROWS",
    "INTERNAL_SCORES",
    "METHODS",
    "KChoice",
    "KProgress",
    "auto_ks",
    "bic_score",
    "choose_k",
    "default_methods",
    "distinct_rows",
    "final_fit_done",
    "format_duration",
    "format_k_progress",
    "internal_scores",
    "kneedle",
    "parse_k",
    "resolve_k",
    "score_sweep",
]

logger = logging.getLogger(__name__)

METHODS = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "bic")
#: which direction is better, for methods whose best k is an extreme of the score
_BEST = {"silhouette": "max", "calinski_harabasz": "max", "davies_bouldin": "min", "bic": "max"}
#: the k range that ``k='auto'`` searches at least: every k from 2 to 50; beyond, up to
#: one cluster per :data:`AUTO_ROWS_PER_K` rows, k grows by :data:`AUTO_STEP` at a time
AUTO_K = (2, 50)
AUTO_ROWS_PER_K = 40
AUTO_STEP = 0.06
#: the largest k that ``k='auto'`` searches (ask for more with a range: ``k='200:400'``)
AUTO_MAX = 200


def auto_ks(n_rows: int) -> list[int]:
    """The candidate k of ``k='auto'`` for ``n_rows`` rows: every k in :data:`AUTO_K`
    (up to ``n_rows - 1``), then up to ``n_rows // AUTO_ROWS_PER_K`` (at most
    :data:`AUTO_MAX`) by steps of 6 %, so that the range can hold the answer of a large
    collection (k = 100 objects of 72 views each) at a few dozen fits more.

    Examples
    --------
    >>> auto_ks(10)
    [2, 3, 4, 5, 6, 7, 8, 9]
    >>> ks = auto_ks(7200); ks[48:53], ks[-3:], len(ks)
    ([50, 53, 57, 61, 65], [167, 178, 180], 70)
    """
    lo, hi = AUTO_K
    ks = list(range(lo, max(lo, min(hi, n_rows - 1)) + 1))
    top = min(n_rows - 1, n_rows // AUTO_ROWS_PER_K, AUTO_MAX)
    while ks[-1] < top:
        ks.append(min(top, max(ks[-1] + 1, math.ceil(ks[-1] * (1 + AUTO_STEP)))))
    return ks


#: above this many rows a k range is scored without the gap statistic (its reference
#: sweeps take minutes on 5000 rows); the Dask path scores a sample of this many rows
GAP_MAX_ROWS = 3000
#: rows the silhouette is computed on (a fixed random sample beyond)
SILHOUETTE_MAX_SAMPLES = 3000


def _silhouette_score(X, labels, random_state=None, max_samples=SILHOUETTE_MAX_SAMPLES):
    sample = max_samples if X.shape[0] > max_samples else None
    return silhouette_score(X, labels, sample_size=sample, random_state=random_state)


#: the internal indices of a clustering: name -> (score(X, labels, random_state,
#: max_samples), greater is better); used by :func:`internal_scores`, :func:`score_sweep`
#: and :class:`~kmeanskit.search.ClusterSearch`
INTERNAL_SCORES = {
    "silhouette": (_silhouette_score, True),
    "calinski_harabasz": (
        lambda X, labels, rs=None, m=None: calinski_harabasz_score(X, labels),
        True,
    ),
    "davies_bouldin": (lambda X, labels, rs=None, m=None: davies_bouldin_score(X, labels), False),
}


def internal_scores(
    X, labels, random_state=None, max_samples: int = SILHOUETTE_MAX_SAMPLES
) -> dict:
    """The internal indices of one clustering (:data:`INTERNAL_SCORES`): silhouette (on
    a random sample of ``max_samples`` rows beyond that many), Calinski-Harabasz and
    Davies-Bouldin; empty when the labels hold one cluster or every row alone.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> sorted(internal_scores(X, np.array([0, 0, 1, 1])))
    ['calinski_harabasz', 'davies_bouldin', 'silhouette']
    >>> internal_scores(X, np.zeros(4, int))
    {}
    """
    labels = np.asarray(labels)
    if not 2 <= np.unique(labels).size < len(X):
        return {}
    return {
        name: float(score(X, labels, random_state, max_samples))
        for name, (score, _) in INTERNAL_SCORES.items()
    }


def default_methods(n_rows: int) -> tuple:
    """The methods a k range is chosen by: every one of :data:`METHODS`, but the gap
    statistic only up to ``GAP_MAX_ROWS`` rows.

    Examples
    --------
    >>> "gap" in default_methods(1000), "gap" in default_methods(50_000)
    (True, False)
    """
    return tuple(m for m in METHODS if m != "gap" or n_rows <= GAP_MAX_ROWS)


def parse_k(k, n_rows: int):
    """``int``, ``'auto'``, ``'A:B'`` / ``'A:B:STEP'`` / ``(A, B)`` (inclusive), or a list
    of ints -> an int or a sorted list of candidate k, checked against ``n_rows``.

    Examples
    --------
    >>> parse_k("3:5", 100), parse_k(7, 100), parse_k("auto", 10), parse_k("10:30:10", 99)
    ([3, 4, 5], 7, [2, 3, 4, 5, 6, 7, 8, 9], [10, 20, 30])
    """
    raw = k
    usage = f"k must be an int, 'auto', 'A:B' or 'A:B:STEP'; got k={k!r}"
    if isinstance(k, str):
        if k == "auto":
            return auto_ks(n_rows)
        try:
            parts = [int(v) for v in k.split(":")]
        except ValueError:
            raise ValueError(usage) from None
        if len(parts) == 1:
            k = parts[0]
        elif len(parts) in (2, 3):
            lo, hi, step = [*parts, 1][:3]
            k = list(range(lo, hi + 1, step)) if step > 0 else []
        else:
            raise ValueError(usage)
    if isinstance(k, tuple) and len(k) == 2:
        k = list(range(k[0], k[1] + 1))
    if isinstance(k, int | np.integer):
        if not 1 <= k <= n_rows:
            raise ValueError(f"k must be between 1 and the number of rows ({n_rows}); got k={k}")
        return int(k)
    ks = sorted({int(v) for v in k})
    if not ks or ks[0] < 2 or ks[-1] > n_rows:
        raise ValueError(
            f"the k range must lie between 2 and the number of rows ({n_rows}); got k={raw!r}"
        )
    return ks


def kneedle(ks, values) -> int:
    """The knee of a decreasing convex curve (Kneedle, offline form).

    Examples
    --------
    >>> kneedle([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8])
    3
    """
    x = np.asarray(ks, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if x.size < 3:
        return int(x[np.argmin(y)])
    xn = (x - x[0]) / (x[-1] - x[0])
    span = y.max() - y.min()
    yn = (y - y.min()) / span if span > 0 else np.zeros_like(y)
    return int(x[np.argmax(1.0 - xn - yn)])


@dataclass
class KChoice:
    """The scores of every k, the k each method recommends, and the overall k.

    Attributes
    ----------
    k : ndarray of int
    scores : dict of str to ndarray
        One value per k for each method (``elbow`` holds the inertia, ``gap`` the gap).
    errors : dict of str to ndarray
        Standard errors where a score has one (sampled silhouette, gap).
    best : dict of str to int
        The k each method recommends.
    recommended : int
        The overall recommendation.
    explanation : str
        Why: which methods agreed, and what the others said.
    sweep : SweepResult
        The fits that were scored.
    """

    k: np.ndarray
    scores: dict
    errors: dict
    best: dict
    recommended: int
    explanation: str
    sweep: SweepResult = field(repr=False)

    def to_dict(self) -> dict:
        """The scores, the choices and the explanation as JSON-ready values (what a run
        folder's ``k_scores.json`` holds; NaN scores become None)."""
        return {
            "k": self.k.tolist(),
            "scores": {
                m: [None if not np.isfinite(v) else float(v) for v in vals]
                for m, vals in self.scores.items()
            },
            "best": {m: int(v) for m, v in self.best.items()},
            "recommended": int(self.recommended),
            "explanation": self.explanation,
        }


def _silhouette(X, result, max_samples, rs):
    n = X.shape[0]
    rows = np.arange(n) if n <= max_samples else np.sort(rs.choice(n, max_samples, replace=False))
    values, errors = [], []
    for kk in result.k:
        labels = result.labels(int(kk))[rows]
        if np.unique(labels).size < 2 or np.unique(labels).size >= len(rows):
            values.append(np.nan)
            errors.append(np.nan)
            continue
        s = silhouette_samples(X[rows], labels)
        values.append(float(s.mean()))
        errors.append(0.0 if len(rows) == n else float(s.std(ddof=1) / np.sqrt(len(rows))))
    return np.array(values), np.array(errors)


def _internal(X, result, score):
    out = []
    for kk in result.k:
        labels = result.labels(int(kk))
        out.append(score(X, labels) if 2 <= np.unique(labels).size < X.shape[0] else np.nan)
    return np.array(out)


def score_sweep(
    X,
    result: SweepResult,
    methods=METHODS,
    *,
    silhouette_max_samples: int = 3000,
    n_refs: int = 10,
    random_state=None,
    progress: Callable[[KProgress], object] | None = None,
) -> KChoice:
    """Score the fits of a sweep with every method and recommend a k.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data the sweep was fitted on (dense).
    result : SweepResult
    methods : sequence of str, default=METHODS
    silhouette_max_samples : int, default=3000
        Exact silhouette up to this many rows; a fixed random sample beyond.
    n_refs : int, default=10
        Reference data sets of the gap statistic.
    random_state : int, RandomState instance or None
    progress : callable, optional
        Called with a :class:`KProgress` after each method's scores and each
        reference sweep of the gap statistic.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> choice = score_sweep(X, sweep(X, range(1, 7), random_state=0), random_state=0)
    >>> choice.recommended
    3
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not len(methods):
        raise ValueError(f"methods must be a non-empty subset of {METHODS}; got {methods!r}")
    tracker = _Tracker(progress, result.k, methods, n_refs=n_refs, sweep=False)
    return _score(X, result, methods, silhouette_max_samples, n_refs, random_state, tracker)


def _score(X, result, methods, silhouette_max_samples, n_refs, random_state, tracker) -> KChoice:
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)
    rs = check_random_state(random_state)
    ks = result.k
    scores, errors, best = {}, {}, {}
    for method in methods:
        if method == "elbow":
            scores[method] = result.inertia.copy()
            best[method] = kneedle(ks, result.inertia)
            continue
        if method == "silhouette":
            scores[method], errors[method] = _silhouette(X, result, silhouette_max_samples, rs)
        elif method in INTERNAL_SCORES:
            scores[method] = _internal(X, result, INTERNAL_SCORES[method][0])
        elif method == "bic":
            scores[method] = np.array(
                [bic_score(X, result.labels(int(kk)), result.centers(int(kk))) for kk in ks]
            )
        else:  # gap
            gap, err, best[method] = gap_statistic(
                X, result, n_refs=n_refs, random_state=rs, progress=tracker.gap
            )
            scores[method], errors[method] = gap, err
            continue
        tracker.score(method)
        values = scores[method]
        if np.isnan(values).all():
            continue
        pick = np.nanargmax(values) if _BEST[method] == "max" else np.nanargmin(values)
        best[method] = int(ks[pick])
    _log_scores(ks, scores, best)
    recommended, explanation = _vote(best, ks, scores.get("silhouette"))
    return KChoice(ks, scores, errors, best, recommended, explanation, result)


def _log_scores(ks, scores, best) -> None:
    """Each k's scores, and each method's best k, at INFO (``kmeanskit -v``)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for i, kk in enumerate(ks):
        values = ", ".join(
            f"{'inertia' if m == 'elbow' else m} {v[i]:.4g}" for m, v in scores.items()
        )
        logger.info("k=%d: %s", kk, values)
    logger.info("best k: %s", ", ".join(f"{m} {v}" for m, v in best.items()))


def _and(words) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _names(methods) -> str:
    return _and(METHOD_NAMES.get(m, m) for m in methods)


def _vote(best: dict, ks, silhouette) -> tuple[int, str]:
    """The k most methods recommend (ties broken by the silhouette), and why, in a
    sentence or two. A method whose best k is the top of a range of 4 or more candidates
    found no optimum inside it (Calinski-Harabasz, BIC and the gap grow with k on
    well-separated embeddings): it votes only when every method does the same, and the
    explanation then says that the answer may lie beyond the range.

    Examples
    --------
    >>> _vote({"elbow": 12, "silhouette": 12, "gap": 9}, list(range(2, 31)), None)[1]
    'k=12 chosen: the elbow and silhouette agree (2 of 3 methods); the gap statistic prefers 9.'
    """
    if not best:
        raise ValueError("no method could score these fits (every k gave one cluster)")
    top_k = int(ks[-1])
    inside = {m: v for m, v in best.items() if v != top_k or len(ks) < 4}
    edge = [m for m in best if m not in inside]
    votes = Counter((inside or best).values())
    top = max(votes.values())
    tied = [kk for kk, v in votes.items() if v == top]
    by_silhouette = silhouette is not None and not np.isnan(silhouette).all()
    if len(tied) > 1 and by_silhouette:
        rank = {int(kk): s for kk, s in zip(ks, silhouette, strict=True)}
        tied.sort(key=lambda kk: -np.nan_to_num(rank.get(kk, -np.inf), nan=-np.inf))
    else:
        tied.sort()
    k = int(tied[0])
    n = len(best)
    agree = [m for m, v in best.items() if v == k]
    if n == 1:
        text = f"k={k} chosen by {_names(agree)}, the only method that scored these fits"
    elif len(agree) == n:
        text = f"k={k} chosen: all {n} methods agree"
    elif len(agree) == 1:
        text = f"k={k} chosen: {_names(agree)} prefers it (1 of {n} methods)"
    else:
        text = f"k={k} chosen: {_names(agree)} agree ({len(agree)} of {n} methods)"
    described = set(agree) | (set(edge) if inside else set())
    others = {}
    for m, v in best.items():
        if m not in described:
            others.setdefault(int(v), []).append(m)
    if others:
        text += "; " + ", ".join(
            f"{_names(ms)} {'prefers' if len(ms) == 1 else 'prefer'} {v}"
            for v, ms in sorted(others.items())
        )
    sentences = [text + "."]
    if len(tied) > 1:
        same = f"{_and(f'k={t}' for t in sorted(tied))} got the same number of votes"
        if by_silhouette:
            most = "higher" if len(tied) == 2 else "highest"
            sentences.append(f"{same}; k={k} has the {most} silhouette.")
        else:
            sentences.append(f"{same}; the smallest was taken.")
    if inside and edge:
        they = "it" if len(edge) == 1 else "they"
        names = _names(edge)
        sentences.append(
            f"{names[0].upper()}{names[1:]} {'is' if len(edge) == 1 else 'are'} best at the "
            f"top of the range (k={top_k}): no optimum inside it, so {they} did not vote."
        )
    if k == top_k and len(ks) >= 4:
        sentences.append(
            f"Warning: k={k} is the top of the range searched, the best k may be larger: "
            f"try a range beyond it, e.g. k='{k}:{2 * k}'."
        )
    return k, " ".join(sentences)


def distinct_rows(X, at_most: int) -> int:
    """How many distinct rows ``X`` holds, counted up to ``at_most`` (cheap when every
    row is the same).

    Examples
    --------
    >>> distinct_rows(np.zeros((5, 2)), 10), distinct_rows(np.eye(3), 2)
    (1, 2)
    """
    X = np.asarray(X.toarray() if hasattr(X, "toarray") else X)
    if len(X) == 0:
        return 0
    if not np.ptp(X, axis=0).any():
        return 1
    rows = np.ascontiguousarray(X).view(np.dtype((np.void, X.dtype.itemsize * X.shape[1])))
    return min(int(np.unique(rows.ravel()).size), at_most)


def resolve_k(
    X,
    k,
    *,
    n_init: int = 3,
    random_state=None,
    n_rows: int | None = None,
    progress: Callable[[KProgress], object] | None = None,
):
    """The k of a run: ``(k, choice, explanation)``, where ``choice`` is the
    :class:`KChoice` when a range was searched (:func:`choose_k` with
    :func:`default_methods`), else None. A range is cut to the number of distinct rows
    (identical rows cannot make more clusters); when fewer than two are distinct, k is
    1 and ``explanation`` says why. ``n_rows``: the number of rows of the whole data
    when ``X`` is a sample of it (the Dask path). ``progress``: as for :func:`choose_k`.

    Examples
    --------
    >>> resolve_k(np.ones((6, 3)), "auto")
    (1, None, 'k=1: all 6 rows are identical')
    """
    n_rows = len(X) if n_rows is None else n_rows
    if n_rows == 1 and not isinstance(k, int | np.integer):
        return 1, None, "k=1: there is one row"
    ks = parse_k(k, n_rows)
    if isinstance(ks, int):
        return ks, None, None
    distinct = distinct_rows(X, ks[-1] + 1)
    if distinct < 2:
        return 1, None, f"k=1: all {n_rows} rows are identical"
    usable = [kk for kk in ks if kk <= distinct]
    if not usable:
        return distinct, None, f"k={distinct}: only {distinct} rows are distinct"
    choice = choose_k(
        X,
        usable,
        default_methods(len(X)),
        n_init=n_init,
        random_state=random_state,
        progress=progress,
    )
    explanation = choice.explanation
    if len(usable) < len(ks):
        explanation += f" The range was cut at k={distinct}: only {distinct} rows are distinct."
    return int(choice.recommended), choice, explanation


def choose_k(
    X,
    k=range(2, 11),
    methods=METHODS,
    *,
    n_init: int = 3,
    random_state=None,
    silhouette_max_samples: int = 3000,
    n_refs: int = 10,
    progress: Callable[[KProgress], object] | None = None,
    **sweep_params,
) -> KChoice:
    """Sweep k and recommend one: :func:`~kmeanskit.sweep`, then :func:`score_sweep`.

    ``progress``, if given, is called with a :class:`KProgress` after each fit of the
    sweep (one k of one of the ``n_init`` restarts), after each method's scores and after each
    reference sweep of the gap statistic: what was done, the seconds so far and an
    estimate of the seconds left (0 at the last call), from the seconds per unit of
    work so far, a fit of k counting as ``k`` plus the mean k (the larger k still to
    come cost more, but less than k times more: they start from the previous solution).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(500, centers=4, random_state=1)
    >>> choice = choose_k(X, range(2, 8), n_refs=3, random_state=0)
    >>> choice.recommended, choice.best["bic"]
    (4, 4)
    >>> choice.explanation
    'k=4 chosen: the elbow, Calinski-Harabasz, the gap statistic and BIC agree (4 of 6 methods); \
silhouette and Davies-Bouldin prefer 2.'
    >>> steps = []
    >>> _ = choose_k(X, [2, 3], ("elbow", "silhouette"), n_init=2, progress=steps.append)
    >>> [(p.step, p.k or p.method, p.done, p.total) for p in steps][-3:]
    [('fit', 2, 3, 4), ('fit', 3, 4, 4), ('score', 'silhouette', 1, 1)]
    >>> steps[-1].remaining
    0.0
    """
    rs = check_random_state(random_state)
    try:
        planned = sorted(
            {int(v) for v in np.atleast_1d(np.asarray(list(k) if np.iterable(k) else k))}
        )
    except (TypeError, ValueError):
        planned = []  # the sweep says what is wrong with k
    tracker = _Tracker(progress, planned, methods, n_init=n_init, n_refs=n_refs)
    result = sweep(X, k, n_init=n_init, random_state=rs, progress=tracker.fit, **sweep_params)
    return _score(X, result, methods, silhouette_max_samples, n_refs, rs, tracker)
