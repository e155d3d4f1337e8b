"""features.npy: the rows k-means ran on, written by every run for review and export."""

import numpy as np
import pytest

from kmeanskit.runs.folder import RunFolder


def test_a_dask_array_is_written_a_block_at_a_time(tmp_path):
    da = pytest.importorskip("dask.array")
    X = np.random.default_rng(0).random((1000, 7))
    run = RunFolder(tmp_path)
    run.write_features(da.from_array(X, chunks=(128, 3)))
    Y = np.load(tmp_path / "features.npy")
    assert Y.dtype == np.float32 and np.array_equal(Y, X.astype(np.float32))
    assert run.outputs["features_npy"] == "features.npy"


def test_a_numpy_array(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    RunFolder(tmp_path).write_features(X)
    assert np.array_equal(np.load(tmp_path / "features.npy"), X.astype(np.float32))
