"""Shared fixtures: seeded data sets made here or shipped by installed packages."""

import os

# scikit-learn's array-API input check runs only in scipy's array-API mode, which must
# be switched on before scipy is imported; with numpy inputs nothing else changes.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_blobs


@pytest.fixture(scope="session")
def digits():
    return load_digits().data.astype(np.float64)


@pytest.fixture(scope="session")
def blobs():
    X, _ = make_blobs(n_samples=2000, centers=6, n_features=5, random_state=42)
    return X


@pytest.fixture(scope="session")
def sparse_data():
    rng = np.random.RandomState(0)
    return sp.random(600, 40, density=0.15, format="csr", random_state=rng, dtype=np.float64)
