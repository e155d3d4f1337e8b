"""transform_mode: distances, squared distances, RBF, soft and one-hot features."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import euclidean_distances

from kmeanskit import KMeans


@pytest.fixture(scope="module")
def fitted(blobs):
    return KMeans(4, random_state=0).fit(blobs)


def test_modes_against_numpy(fitted, blobs):
    d2 = euclidean_distances(blobs, fitted.cluster_centers_, squared=True)
    t = fitted.temperature_
    assert t == pytest.approx(fitted.inertia_ / len(blobs))
    expect = {
        "distance": np.sqrt(d2),
        "sqdistance": d2,
        "rbf": np.exp(-d2 / t),
        "soft": softmax(-d2 / t, axis=1),
        "onehot": np.eye(4)[fitted.labels_],
    }
    for mode, want in expect.items():
        got = fitted.set_params(transform_mode=mode).transform(blobs)
        assert got.shape == (len(blobs), 4)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=mode)
    fitted.set_params(transform_mode="distance")


def test_soft_rows_sum_to_one_and_temperature_sharpens(blobs):
    soft = KMeans(4, random_state=0, transform_mode="soft", temperature=1e-3)
    hard = soft.fit_transform(blobs)
    np.testing.assert_allclose(hard.sum(axis=1), 1.0)
    assert (hard.argmax(axis=1) == soft.labels_).all()
    assert hard.max(axis=1).min() > 0.999  # a tiny temperature: nearly one-hot
    warm = soft.set_params(temperature=1e6).transform(blobs)
    assert warm.max(axis=1).max() < 0.3  # a huge one: nearly uniform


def test_fit_transform_equals_fit_then_transform(blobs):
    for mode in ("rbf", "onehot", "sqdistance"):
        km = KMeans(3, random_state=1, transform_mode=mode)
        np.testing.assert_allclose(km.fit_transform(blobs), km.transform(blobs))


def test_bad_mode(blobs):
    with pytest.raises(ValueError, match="The 'transform_mode' parameter of KMeans must be"):
        KMeans(3, transform_mode="cosine").fit(blobs)
    with pytest.raises(ValueError, match="The 'temperature' parameter of KMeans must be"):
        KMeans(3, temperature=0.0).fit(blobs)
