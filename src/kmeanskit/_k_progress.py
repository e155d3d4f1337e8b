"""Progress of a k search (:func:`kmeanskit.choose_k.choose_k`): the steps done, the
seconds so far and an estimate of the seconds left, and a line for each.

The estimate plans the search's steps with a cost each (a fit of k: ``k`` plus the mean
k of the search, per restart; scoring: a share of the sweep; a reference sweep of the
gap statistic: one restart's fits) and scales the costs still ahead by the seconds per
unit measured since the first step.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import numpy as np

__all__ = ["METHOD_NAMES", "KProgress", "final_fit_done", "format_duration", "format_k_progress"]

logger = logging.getLogger(__name__)

#: readable names of the methods, for the explanation
METHOD_NAMES = {
    "elbow": "the elbow",
    "silhouette": "silhouette",
    "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin",
    "gap": "the gap statistic",
    "bic": "BIC",
}


class KProgress(NamedTuple):
    """One step of a k search done, as :func:`~kmeanskit.choose_k.choose_k` reports it.

    Attributes
    ----------
    step : {'fit', 'score', 'gap', 'final'}
        ``'fit'``: one k of one restart fitted (``done`` and ``total`` count fits:
        ``n_init`` times the k); ``'score'``: one method scored every
        k; ``'gap'``: one reference data set of the gap statistic fitted for every k;
        ``'final'``: the chosen k fitted on all the rows (reported by the callers of
        :func:`~kmeanskit.choose_k.resolve_k` that fit it: the image and table runs).
    k : int or None
        The k just fitted (``'fit'``, ``'final'``).
    done, total : int
        How many steps of this kind are done, and how many there are.
    elapsed : float
        Seconds since the search began.
    remaining : float
        Estimated seconds left in the search (0 at its last step).
    method : str
        The method scored (``'score'``), else ``''``.
    """

    step: str
    k: int | None
    done: int
    total: int
    elapsed: float
    remaining: float
    method: str = ""


#: a fit of k is taken to cost ``k + m`` units, m the mean k of the search: k-means
#: costs ~ n k d per iteration, but in a sweep the larger k start from the previous
#: solution and converge in fewer iterations (measured: the time per k grows far
#: less than k), so the larger k count for more, not k times more
#: before it starts, scoring every k is taken to cost this share of the sweep
SCORE_SHARE = 0.25

_clock = time.perf_counter


class _Tracker:
    """The planned steps of a k search and their estimated costs; :meth:`step` reports
    one done, with the seconds left estimated from the seconds per cost unit so far."""

    def __init__(self, progress, ks, methods, *, n_init=1, n_refs=0, sweep=True):
        self.progress = progress
        self.start = _clock()
        base = float(np.mean(ks)) if len(ks) else 2.0
        units = [int(kk) + base for kk in ks]
        self.base = base
        self.fit_cost = {int(kk): u for kk, u in zip(ks, units, strict=True)}  # one restart
        sweep_cost = n_init * sum(units)
        self.scored = [m for m in methods if m not in ("elbow", "gap")]  # score every k
        self.score_cost = SCORE_SHARE * sweep_cost / max(1, len(self.scored))
        self.ref_cost = float(sum(units))  # one reference sweep: one restart
        self.total = (
            (sweep_cost if sweep else 0.0)
            + self.score_cost * len(self.scored)
            + (self.ref_cost * n_refs if "gap" in methods else 0.0)
        )
        self.done = 0.0
        self.first = None  # (seconds, cost done) at the first step

    def step(self, step, cost, done, total, k=None, method="") -> None:
        self.done = min(self.total, self.done + cost)
        elapsed = _clock() - self.start
        left = self.total - self.done
        # the seconds per unit since the first step: what came before it (the seeding,
        # compiling the kernels) is paid once; from the first step alone until then
        if self.first is None:
            self.first = (elapsed, self.done)
            rate = elapsed / self.done if self.done > 0 else 0.0
        else:
            t0, d0 = self.first
            rate = (elapsed - t0) / (self.done - d0) if self.done > d0 else 0.0
        remaining = rate * left if left > 1e-9 * self.total else 0.0
        event = KProgress(step, k, done, total, elapsed, remaining, method)
        logger.debug("%s", format_k_progress(event))
        if self.progress is not None:
            self.progress(event)

    def fit(self, k, done, total) -> None:
        cost = self.fit_cost.get(int(k), int(k) + self.base)
        self.step("fit", cost, done, total, k=int(k))

    def score(self, method) -> None:
        if method in self.scored:
            done = self.scored.index(method) + 1
            self.step("score", self.score_cost, done, len(self.scored), method=method)

    def gap(self, done, total) -> None:
        self.step("gap", self.ref_cost, done, total)


def format_duration(seconds: float) -> str:
    """A duration in words: seconds up to 90, then minutes, then hours and minutes.

    Examples
    --------
    >>> format_duration(0.2), format_duration(41.4), format_duration(200), format_duration(4000)
    ('under 1 s', '41 s', '3 min', '1 h 7 min')
    """
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def format_k_progress(p: KProgress) -> str:
    """One line for a step of a k search (what the command line prints on stderr).

    Examples
    --------
    >>> format_k_progress(KProgress("fit", 12, 5, 30, 41.0, 190.0))
    'choosing k: k=12 (5 of 30) done, 41 s so far, about 3 min left'
    >>> format_k_progress(KProgress("score", None, 1, 4, 50.0, 20.0, "silhouette"))
    'choosing k: silhouette scored (1 of 4 scores), 50 s so far, about 20 s left'
    >>> format_k_progress(KProgress("gap", None, 10, 10, 130.0, 0.0))
    'choosing k: gap statistic reference 10 of 10 done, 2 min so far, search done'
    >>> format_k_progress(KProgress("final", 12, 1, 1, 131.0, 0.0))
    'choosing k: k=12 fitted on all the rows, 2 min in all'
    """
    so_far = f"{format_duration(p.elapsed)} so far"
    if p.remaining <= 0:
        left = "search done"
    elif p.remaining < 1:
        left = "under 1 s left"
    else:
        left = f"about {format_duration(p.remaining)} left"
    if p.step == "fit":
        what = f"k={p.k} ({p.done} of {p.total}) done"
    elif p.step == "score":
        name = METHOD_NAMES.get(p.method, p.method)
        what = f"{name} scored ({p.done} of {p.total} scores)"
    elif p.step == "gap":
        what = f"gap statistic reference {p.done} of {p.total} done"
    else:
        return f"choosing k: k={p.k} fitted on all the rows, {format_duration(p.elapsed)} in all"
    return f"choosing k: {what}, {so_far}, {left}"


def final_fit_done(progress, k: int, start: float) -> None:
    """Report the fit of the chosen ``k`` on all the rows (``start``: when the search
    began, by :func:`time.perf_counter`) to ``progress``, if any."""
    if progress is not None:
        progress(KProgress("final", int(k), 1, 1, time.perf_counter() - start, 0.0))
