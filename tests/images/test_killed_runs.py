"""Runs killed in the middle (SIGINT, SIGKILL) and runs side by side on one cache, in
real processes.

A run writes its outputs to ``OUT/.partial-XXXX`` and moves them into ``OUT`` at the end,
``summary.json`` last: a killed run leaves no visible output (only that hidden folder,
which the next run removes), and the next run decodes only what the feature cache does
not hold yet.
"""

import logging
import os
import re
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from kmeanskit._atomic import STAGE_PREFIX
from kmeanskit.cli import main
from kmeanskit.images.cache import FeatureCache

N_FILES = 512  # two batches of 256: the cache holds the first one long before the end
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def slow_photos(tmp_path_factory):
    """512 JPEGs of 1024 x 1024 (a few ms each to decode, 17 kB on disk): four pictures,
    each file made distinct by a JPEG comment (so each has its own cache key)."""
    root = tmp_path_factory.mktemp("slow") / "photos"
    root.mkdir()
    y, x = np.mgrid[0:1024, 0:1024]
    bases = []
    for pixels in ((x // 4) % 256, (y // 4) % 256, 60 + (x + y) % 8, 200 + (x * y) % 8):
        img = Image.fromarray(pixels.astype(np.uint8))
        img.save(root / "base.jpg", quality=80)
        bases.append((root / "base.jpg").read_bytes())
    (root / "base.jpg").unlink()
    for i in range(N_FILES):
        data = bases[i % 4]
        comment = f"file {i}".encode()
        com = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
        (root / f"{i:03d}.jpg").write_bytes(data[:2] + com + data[2:])
    return root


def _argv(photos, out, *cache):
    cache = ["--cache", str(cache[0])] if cache else ["--no-cache"]
    return [
        "cluster",
        str(photos),
        "--k",
        "4",
        "--features",
        "pixels",
        "--size",
        "16",
        "--jobs",
        "1",
        "--seed",
        "0",
        *cache,
        "--out",
        str(out),
    ]


def _start(argv):
    return subprocess.Popen(
        [sys.executable, "-m", "kmeanskit", *argv],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_a_cached_batch(cache, proc, timeout=90.0):
    """Until the run has saved a batch of feature rows (it is then mid-way)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(cache.rglob("batch-*.npz")):
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it was interrupted: {proc.communicate()}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"no batch cached in {timeout} s")


def _visible(out):
    return sorted(p.name for p in out.iterdir() if not p.name.startswith(STAGE_PREFIX))


def test_sigint_exits_130_in_one_line_and_leaves_no_output(slow_photos, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = _start(_argv(slow_photos, out, cache))
    _wait_for_a_cached_batch(cache, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr == "kmeanskit: interrupted\n" and stdout == ""
    assert not out.exists()  # the run made it, and took it away with its staging folder
    assert 1 <= len(list(cache.rglob("batch-*.npz"))) < N_FILES // 256  # kept for a resume


def test_sigkill_leaves_nothing_half_written_and_the_next_run_resumes(
    slow_photos, tmp_path, caplog
):
    out, cache = tmp_path / "out", tmp_path / "cache"
    proc = _start(_argv(slow_photos, out, cache))
    _wait_for_a_cached_batch(cache, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists() or _visible(out) == []  # at most the hidden staging folder

    caplog.set_level(logging.INFO, logger="kmeanskit")
    assert main(_argv(slow_photos, out, cache)) == 0  # the same command: no --force
    found = re.search(
        r"(\d+) of (\d+) files found in the feature cache, (\d+) to decode", caplog.text
    )
    n_found, n_files, n_todo = map(int, found.groups())
    assert n_files == N_FILES and n_found >= 256 and n_todo == N_FILES - n_found
    assert sorted(os.listdir(out)) == _visible(out)  # the killed run's staging folder: gone

    reference = tmp_path / "reference"  # an uninterrupted run, without the cache
    assert main(_argv(slow_photos, reference)) == 0
    for name in ("assignments.csv", "map.npy"):
        assert (out / name).read_bytes() == (reference / name).read_bytes()
    for j in range(4):
        folder = f"cluster_{j:02d}"
        assert sorted(os.listdir(out / folder)) == sorted(os.listdir(reference / folder))


def test_two_runs_share_one_cache(slow_photos, tmp_path, caplog):
    cache = tmp_path / "cache"
    outs = [tmp_path / "a", tmp_path / "b"]
    procs = [_start(_argv(slow_photos, out, cache)) for out in outs]
    for proc in procs:  # neither waits forever
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr
    (settings,) = [p for p in cache.iterdir() if p.is_dir()]
    assert (settings / ".lock").is_file()
    assert not [p for p in settings.iterdir() if ".tmp" in p.name]
    caplog.set_level(logging.WARNING, logger="kmeanskit")
    assert len(FeatureCache(cache, settings.name)) == N_FILES  # every batch loads
    assert "damaged" not in caplog.text
    a, b = (out / "assignments.csv" for out in outs)
    assert a.read_bytes() == b.read_bytes()
