"""Progress of a k search (issue 24): the callback of choose_k after each step, one
plain line per k on stderr from ``kmeanskit cluster --k A:B``, and an explanation of the
choice that reads as a sentence."""

import importlib
import itertools
import json
import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from conftest import write_levels
from kmeanskit._k_progress import _Tracker
from kmeanskit.choose_k import KProgress, _vote, choose_k, format_k_progress

#: a per-k line: the k, the count, and the time left (or that the search is done)
K_LINE = re.compile(
    r"^choosing k: k=(\d+) \((\d+) of (\d+)\) done, .+ so far, "
    r"(about .+ left|under 1 s left|search done)$"
)


def _k_lines(err: str) -> list[tuple[int, int, int]]:
    found = [K_LINE.match(line) for line in err.splitlines()]
    return [(int(m[1]), int(m[2]), int(m[3])) for m in found if m]


def _readable(text: str) -> None:
    assert not re.search(r"k=(\d+): k=\1", text), text
    assert "broken by" not in text and "_" not in text, text
    assert re.match(r"^k=\d+ chosen", text), text


def test_choose_k_reports_each_k_in_order_and_ends_with_nothing_left():
    X, _ = make_blobs(300, centers=3, random_state=0)
    steps: list[KProgress] = []
    choice = choose_k(X, range(2, 8), n_refs=2, random_state=0, progress=steps.append)
    fits = [p for p in steps if p.step == "fit"]  # every k of each of the 3 restarts
    assert [p.k for p in fits] == list(range(2, 8)) * 3
    assert [(p.done, p.total) for p in fits] == [(i, 18) for i in range(1, 19)]
    gaps = [p for p in steps if p.step == "gap"]
    assert [(p.done, p.total) for p in gaps] == [(1, 2), (2, 2)]
    scores = [p.method for p in steps if p.step == "score"]
    assert scores == ["silhouette", "calinski_harabasz", "davies_bouldin", "bic"]
    elapsed = [p.elapsed for p in steps]
    assert elapsed == sorted(elapsed)
    assert all(p.remaining >= 0 for p in steps) and steps[-1].remaining == 0
    assert choice.recommended == 3
    _readable(choice.explanation)


def test_the_estimate_counts_larger_k_as_costlier_and_falls_to_zero(monkeypatch):
    """With a clock that runs as the planned costs (a fit of k: k + the mean k), the
    estimate of the seconds left is exact: it falls at every step and ends at 0."""
    now = [0.0]
    module = importlib.import_module("kmeanskit._k_progress")
    monkeypatch.setattr(module, "_clock", lambda: now[0])
    ks = list(range(2, 12))
    steps: list[KProgress] = []
    tracker = _Tracker(steps.append, ks, ("elbow", "silhouette"), n_init=2)
    for i, k in enumerate(ks * 2, 1):  # two restarts
        now[0] += tracker.fit_cost[k] * 0.01
        tracker.fit(k, i, 2 * len(ks))
    now[0] += tracker.score_cost * 0.01
    tracker.score("silhouette")
    left = [p.remaining for p in steps]
    assert all(a > b for a, b in itertools.pairwise(left)) and left[-1] == 0
    total = 2 * sum(tracker.fit_cost.values()) + tracker.score_cost
    assert left[0] == pytest.approx((total - tracker.fit_cost[2]) * 0.01)
    assert tracker.fit_cost[11] > tracker.fit_cost[2]


def test_lines_and_durations():
    assert (
        format_k_progress(KProgress("fit", 12, 5, 30, 41.0, 190.0))
        == "choosing k: k=12 (5 of 30) done, 41 s so far, about 3 min left"
    )
    assert format_k_progress(KProgress("fit", 3, 2, 2, 0.1, 0.0)).endswith("search done")
    assert "final" not in format_k_progress(KProgress("final", 4, 1, 1, 2.0, 0.0))


def test_the_explanation_reads_as_sentences():
    ks = np.arange(2, 51)
    k, text = _vote(
        {"elbow": 12, "silhouette": 12, "calinski_harabasz": 12, "davies_bouldin": 14, "gap": 9},
        ks,
        None,
    )
    assert k == 12 and text == (
        "k=12 chosen: the elbow, silhouette and Calinski-Harabasz agree (3 of 5 methods); "
        "the gap statistic prefers 9, Davies-Bouldin prefers 14."
    )
    # a tie, broken by the silhouette, said plainly
    silhouette = np.where(ks == 20, 0.6, 0.3)
    k, text = _vote({"elbow": 50, "bic": 20, "silhouette": 20, "gap": 50}, ks, silhouette)
    assert k == 20
    # at the top of the range: the elbow and the gap do not vote
    assert "The elbow and the gap statistic are best at the top of the range (k=50)" in text
    k, text = _vote({"elbow": 20, "silhouette": 30, "bic": 20, "gap": 30}, ks, silhouette)
    assert k == 20
    assert "k=20 and k=30 got the same number of votes; k=20 has the higher silhouette." in text
    _readable(text)


@pytest.fixture
def picture_folder(tmp_path):
    pytest.importorskip("PIL")
    return write_levels(tmp_path / "photos", 30, (30, 128, 220), side=16, noise=8, seed=1)


def test_cluster_images_prints_a_line_per_k_on_stderr(picture_folder, tmp_path, capfd):
    pytest.importorskip("jinja2")
    from kmeanskit.cli import main

    out = tmp_path / "run"
    args = ["cluster", str(picture_folder), "--k", "2:6", "--features", "pixels"]
    assert main([*args, "--size", "8", "--out", str(out)]) == 0
    std, err = capfd.readouterr()
    # one line per k of each of the 3 restarts
    assert _k_lines(err) == [(k, i, 15) for i, k in enumerate(list(range(2, 7)) * 3, 1)]
    assert "gap statistic reference 10 of 10 done" in err
    assert re.search(r"^choosing k: k=3 fitted on all the rows, .+ in all$", err, re.M)
    assert "choosing k" not in std  # the progress goes to stderr only
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 3
    _readable(summary["k_choice"])
    assert summary["k_choice"] in std


def test_cluster_table_prints_a_line_per_k_on_stderr(tmp_path, capfd):
    pytest.importorskip("jinja2")
    pytest.importorskip("PIL")
    from kmeanskit.cli import main

    X, _ = make_blobs(200, centers=4, n_features=2, random_state=2)
    table = tmp_path / "t.csv"
    np.savetxt(table, X, delimiter=",", header="a,b", comments="")
    out = tmp_path / "run"
    assert main(["cluster", str(table), "--k", "2:6", "--out", str(out)]) == 0
    _, err = capfd.readouterr()
    assert _k_lines(err) == [(k, i, 15) for i, k in enumerate(list(range(2, 7)) * 3, 1)]
    assert len(re.findall(r"^choosing k: k=\d+ fitted on all the rows", err, re.M)) == 1
    _readable(json.loads((out / "summary.json").read_text())["k_choice"])
    # 'auto' on a small table: one line per candidate k and restart
    assert main(["cluster", str(table), "--k", "auto", "--out", str(tmp_path / "auto")]) == 0
    _, err = capfd.readouterr()
    lines = _k_lines(err)
    assert [k for k, _, _ in lines] == list(range(2, 51)) * 3
    assert lines[-1][1:] == (147, 147)


def test_a_single_k_prints_no_search(tmp_path, capfd):
    pytest.importorskip("jinja2")
    pytest.importorskip("PIL")
    from kmeanskit.cli import main

    table = tmp_path / "t.csv"
    table.write_text("a,b\n0,0\n0,1\n9,9\n9,8\n")
    assert main(["cluster", str(table), "--k", "2", "--out", str(tmp_path / "run")]) == 0
    assert "choosing k" not in capfd.readouterr().err
