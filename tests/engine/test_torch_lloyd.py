"""The PyTorch Lloyd (device=) against the numba engine, on PyTorch's CPU kernels."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the 'cnn' extra installs the CPU build; in CI
from sklearn.datasets import make_blobs  # noqa: E402

from kmeanskit import KMeans  # noqa: E402
from kmeanskit._engine import lloyd  # noqa: E402
from kmeanskit._engine.torch_lloyd import torch_lloyd  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_the_engine(dtype):
    X, _ = make_blobs(3000, n_features=8, centers=10, random_state=0)
    X = X.astype(dtype)
    w = np.random.RandomState(0).uniform(0.5, 2, len(X)).astype(dtype)
    init = X[:10].copy()
    ref = lloyd(X, w, init, max_iter=300, tol=0.0)
    got = torch_lloyd(X, w, init, device="cpu", max_iter=300, tol=0.0, chunk=700)
    assert (got.labels == ref.labels).all() and got.n_iter == ref.n_iter
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got.centers, ref.centers, rtol=rtol)
    assert got.inertia == pytest.approx(ref.inertia, rel=1e-5)


def test_empty_cluster_rule_matches():
    X = np.array([[0.0], [0.1], [10.0], [10.1], [50.0]])
    init = np.array([[0.05], [10.05], [1000.0]])
    ref = lloyd(X, np.ones(5), init)
    got = torch_lloyd(X, np.ones(5), init, device="cpu")
    np.testing.assert_allclose(got.centers, ref.centers)
    assert (got.labels == ref.labels).all()


def test_kmeans_device_parameter():
    X, _ = make_blobs(2000, n_features=4, centers=6, random_state=1)
    a = KMeans(6, random_state=0, algorithm="lloyd").fit(X)
    b = KMeans(6, random_state=0, device="cpu").fit(X)
    assert (a.labels_ == b.labels_).all()
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-9)
    auto = KMeans(6, random_state=0, device="auto").fit(X)  # no GPU here: the engine
    assert auto.inertia_ == pytest.approx(a.inertia_, rel=1e-6)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda': PyTorch sees no CUDA device"):
            KMeans(6, device="cuda").fit(X)
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="runs dense Euclidean Lloyd only"):
        KMeans(6, device="cpu").fit(sp.csr_matrix(X))
