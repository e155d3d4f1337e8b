"""Larger than memory on one machine: an np.memmap three times larger than the process
may allocate clusters within that limit (the engine reads it in row chunks, no copy)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

resource = pytest.importorskip("resource")  # POSIX only

from kmeanskit.metrics import centroid_index  # noqa: E402

N, D, K = 1_500_000, 256, 8

# Runs in a fresh interpreter: warm the kernels, open the memmap (file-backed, read-only
# pages are not the process's data), then cap the data segment (RLIMIT_DATA: heap and
# private anonymous mappings, which is where any copy of X would go) at a third of the
# file, show that loading X now fails, and fit.
_CHILD = r"""
import json, resource, sys
import numpy as np
from kmeanskit import KMeans
path, k = sys.argv[1], int(sys.argv[2])
KMeans(2, n_init=1, random_state=0).fit(np.random.RandomState(0).rand(6000, 8).astype(np.float32))
X = np.load(path, mmap_mode="r")
limit = X.nbytes // 3
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
before = int(status["VmData"].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))
try:
    np.array(X)
    loaded = True
except MemoryError:
    loaded = False
km = KMeans(k, random_state=0).fit(X)
print(json.dumps({"limit": limit, "file": X.nbytes, "data_before_fit": before,
                  "copy_fits": loaded, "centers": km.cluster_centers_.tolist(),
                  "inertia": km.inertia_, "n_iter": km.n_iter_}))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_memmap_three_times_the_memory_limit(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 4, (K, D)).astype(np.float32)
    path = tmp_path / "features.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N, D))
    for lo in range(0, N, 100_000):  # written a block at a time: the test stays small too
        hi = min(N, lo + 100_000)
        X[lo:hi] = centers[np.arange(lo, hi) % K] + rng.random((hi - lo, D), np.float32)
    X.flush()
    del X
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(K)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.splitlines()[-1])
    assert res["file"] >= 3 * res["limit"]  # the data is three times the limit
    assert res["data_before_fit"] < res["limit"]
    assert not res["copy_fits"]  # the limit bites: one copy of X does not fit
    found = np.asarray(res["centers"])
    assert centroid_index(found, centers + 0.5) == 0  # every cluster found
    np.testing.assert_allclose(np.sort(found[:, 0]), np.sort(centers[:, 0] + 0.5), atol=0.01)
    # uniform noise on [0, 1): variance 1/12 per coordinate
    assert res["inertia"] == pytest.approx(N * D / 12, rel=0.01)
