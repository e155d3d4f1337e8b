"""No data lost: inputs never change, outputs are never replaced without --force, and a
run that fails or is interrupted leaves the outputs it found (or none), never half."""

import hashlib
import json
import os

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from conftest import write_levels
from kmeanskit._atomic import LOCK_FILE, STAGE_PREFIX, file_lock
from kmeanskit.cli import main

CLUSTER = ["--k", "2", "--features", "pixels", "--size", "8"]


def snapshot(root) -> dict:
    """Every entry under ``root``: content hash, mtime and mode (links: their target)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                what = "link:" + os.readlink(path)
            elif os.path.isdir(path):
                what = "dir"
            else:
                with open(path, "rb") as fh:
                    what = hashlib.sha256(fh.read()).hexdigest()
            found[os.path.relpath(path, root)] = (what, st.st_mtime_ns, st.st_mode)
    return found


@pytest.fixture()
def photos(tmp_path):
    root = write_levels(tmp_path / "photos", 10, (40, 200), side=16, noise=6, seed=0)
    Image.new("RGB", (24, 16), (200, 30, 30)).save(root / "red.jpg")
    os.symlink("0.png", root / "link.png")
    return root


@pytest.fixture()
def run(photos, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["cluster", str(photos), *CLUSTER, "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def _commands(photos, run, tmp_path):
    """Every command that writes, with the output it writes."""
    photo = str(photos / "red.jpg")
    return {
        "cluster": (["cluster", str(photos), *CLUSTER, "--out", str(run)], run / "summary.json"),
        "features": (
            [
                "features",
                str(photos),
                "--k",
                "2",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(tmp_path / "f.npz"),
            ],
            tmp_path / "f.npz",
        ),
        "quantize": (
            ["quantize", photo, "--colors", "2", "--out", str(tmp_path / "q.png")],
            tmp_path / "q.png",
        ),
        "segment": (
            ["segment", photo, "--k", "2", "--out", str(tmp_path / "s.png")],
            tmp_path / "s.png",
        ),
        "plot": (
            ["plot", str(run), "--out", str(tmp_path / "figs")],
            tmp_path / "figs" / "sizes.png",
        ),
    }


@pytest.mark.parametrize("command", ["cluster", "features", "quantize", "segment", "plot"])
def test_no_overwrite_without_force_and_inputs_untouched(photos, run, tmp_path, capsys, command):
    if command == "plot":
        pytest.importorskip("matplotlib")
    argv, written = _commands(photos, run, tmp_path)[command]
    if command != "cluster":
        assert main(argv) == 0
    inputs, before = snapshot(photos), snapshot(tmp_path)
    capsys.readouterr()
    assert main(argv) == 1  # refused, before any work
    err = capsys.readouterr().err
    assert "--force" in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before  # nothing written, nothing changed
    assert main([*argv, "--force"]) == 0
    assert written.is_file()
    assert snapshot(photos) == inputs  # content, mtime and mode of every input
    leftovers = [p for p in tmp_path.rglob("*") if ".tmp" in p.name or STAGE_PREFIX in p.name]
    assert not leftovers


def test_output_the_same_file_as_the_input_is_refused(photos, capsys):
    photo = str(photos / "red.jpg")
    before = snapshot(photos)
    assert main(["quantize", photo, "--colors", "2", "--out", photo, "--force"]) == 1
    assert f"--out {photo!r} is the input" in capsys.readouterr().err
    assert snapshot(photos) == before


def test_report_rebuilds_its_own_page(run, capsys):
    """``kmeanskit report RUN`` exists to rebuild report.html: it replaces that page (and
    reuses the thumbnails), written whole or not at all, and touches nothing else."""
    others = {
        k: v
        for k, v in snapshot(run).items()
        if k not in ("report.html", ".kmeanskit-manifest.json")
    }
    (run / "report.html").write_text("old")
    assert main(["report", str(run)]) == 0
    assert "kmeanskit report" in (run / "report.html").read_text()
    assert {
        k: v
        for k, v in snapshot(run).items()
        if k not in ("report.html", ".kmeanskit-manifest.json")
    } == others


def test_a_failed_run_leaves_the_previous_outputs_whole(photos, run, capsys, monkeypatch):
    from kmeanskit import report

    before = snapshot(run)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report, "build_report", broken)  # fails after everything else
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "3",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(run),
                "--force",
            ]
        )
        == 1
    )
    assert capsys.readouterr().err == "kmeanskit: error: disk full\n"
    assert snapshot(run) == before  # the old run, whole; no staging folder left


def test_an_interrupted_run_writes_nothing(photos, tmp_path, capsys, monkeypatch):
    """Ctrl-C in the middle: exit code 130, one line, no --out left behind (the same
    path as a real SIGINT, which test_killed_runs.py sends to a process)."""
    from kmeanskit.images import pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_feature_rows", interrupted)
    out = tmp_path / "new"
    assert main(["cluster", str(photos), *CLUSTER, "--out", str(out)]) == 130
    assert capsys.readouterr().err == "kmeanskit: interrupted\n"
    assert not out.exists()


def test_force_replaces_the_previous_run_and_nothing_else(photos, run, capsys):
    first = json.loads((run / "summary.json").read_text())
    (run / "notes.txt").write_text("mine")
    (run / "cluster_01" / "extra.png").write_bytes(b"")  # the user's: never removed
    before = snapshot(run)
    args = ["cluster", str(photos), *CLUSTER, "--out", str(run), "--force"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "extra.png' was changed or added since kmeanskit wrote" in err
    assert snapshot(run) == before  # refused after the work, before anything moved
    (run / "cluster_01" / "extra.png").unlink()
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "3",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(run),
                "--force",
            ]
        )
        == 0
    )
    assert first["k"] == 2
    assert sorted(p.name for p in run.glob("cluster_*")) == [
        "cluster_00",
        "cluster_01",
        "cluster_02",
    ]
    assert not (run / "cluster_01" / "extra.png").exists()
    assert (run / "notes.txt").read_text() == "mine"
    n_copies = sum(len(list(d.iterdir())) for d in run.glob("cluster_*"))
    assert n_copies == json.loads((run / "summary.json").read_text())["n_images"] == 12
    # k chosen before, fixed now: the k curves of the old run are not left behind
    assert (
        main(["cluster", str(photos), "--k", "2:3", *CLUSTER[2:], "--out", str(run), "--force"])
        == 0
    )
    assert (run / "k_scores.json").is_file()
    assert main(["cluster", str(photos), *CLUSTER, "--out", str(run), "--force"]) == 0
    assert not (run / "k_scores.json").exists()


def test_a_staging_folder_of_a_killed_run_is_not_content(photos, tmp_path, capsys):
    out = tmp_path / "out"
    stage = out / f"{STAGE_PREFIX}x1y2"
    (stage / "cluster_00").mkdir(parents=True)  # what `kill -9` leaves
    (stage / "assignments.csv").write_text("path,clu")
    assert main(["cluster", str(photos), *CLUSTER, "--out", str(out)]) == 0  # no --force
    assert not stage.exists() and (out / "summary.json").is_file()
    # a run still at work in that folder: the second one is refused, the first kept
    live = out / f"{STAGE_PREFIX}live"
    live.mkdir()
    capsys.readouterr()
    with file_lock(live / LOCK_FILE, timeout=0):
        assert main(["cluster", str(photos), *CLUSTER, "--out", str(out), "--force"]) == 1
    assert "another kmeanskit run is writing into" in capsys.readouterr().err
    assert live.is_dir()


def test_feature_cache_lock_timeout_and_tidying(tmp_path, caplog):
    from kmeanskit.images.cache import LOCK_FILE as CACHE_LOCK
    from kmeanskit.images.cache import FeatureCache

    cache = FeatureCache(tmp_path, "s", lock_timeout=0.1)
    cache.put(["a"], np.ones((1, 2), np.float32))
    folder = tmp_path / "s"
    with file_lock(folder / CACHE_LOCK, timeout=0):  # another process writing, for long
        reader = FeatureCache(tmp_path, "s", lock_timeout=0.1)  # readers do not wait
        assert reader.get("a") is not None
        reader.put(["b"], np.zeros((1, 2), np.float32))  # gives up, the run goes on
        assert reader.get("b") is not None
    assert "feature cache busy, 1 rows not saved" in caplog.text
    assert FeatureCache(tmp_path, "s").get("b") is None
    # what killed writers leave, and a damaged file: removed when the lock is free
    (folder / ".batch-x.0a1b2c3d.tmp.npz").write_bytes(b"PK\x03")
    (folder / "batch-damaged.npz").write_bytes(b"PK\x03\x04 not a zip")
    again = FeatureCache(tmp_path, "s")
    assert "ignored the damaged cache file" in caplog.text and len(again) == 1
    left = sorted(p.name for p in folder.iterdir())
    assert len(left) == 2 and left[0] == ".lock" and left[1].startswith("batch-")
    assert left[1] != "batch-damaged.npz"
