"""kmeanskit.tables.Scaler: by hand, against scipy's whiten, sparse, constant columns, files."""

import json
import logging
import re

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.cluster.vq import whiten

from kmeanskit.tables import Scaler

# column 0: mean 3, deviations -2 -2 2 2, population std 2
# column 1: mean 25, deviations -15 15 -15 15, population std 15
X = np.array([[1.0, 10.0], [1.0, 40.0], [5.0, 10.0], [5.0, 40.0]])


def exact(message):
    return "^" + re.escape(message) + "$"


def test_standard_by_hand():
    scaler = Scaler("standard").fit(X)
    assert scaler.mean_.tolist() == [3.0, 25.0] and scaler.scale_.tolist() == [2.0, 15.0]
    assert scaler.transform(X).tolist() == [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    # centres found in the scaled space, back in the original units
    centres = np.array([[0.0, 0.0], [1.0, -1.0], [-0.5, 2.0]])
    expected = [[3.0, 25.0], [5.0, 10.0], [2.0, 55.0]]
    assert scaler.inverse_transform(centres).tolist() == expected
    assert np.allclose(scaler.inverse_transform(scaler.transform(X)), X)


def test_whiten_by_hand_and_like_scipy():
    scaler = Scaler("whiten").fit(X)
    assert scaler.mean_.tolist() == [0.0, 0.0] and scaler.scale_.tolist() == [2.0, 15.0]
    assert scaler.transform(X)[:, 0].tolist() == [0.5, 0.5, 2.5, 2.5]
    assert np.array_equal(scaler.transform(X), whiten(X))
    assert scaler.inverse_transform([[1.0, 2.0]]).tolist() == [[2.0, 30.0]]


def test_none_changes_nothing():
    scaler = Scaler("none").fit(X)
    assert np.array_equal(scaler.transform(X), X)
    assert np.array_equal(scaler.inverse_transform(X), X)
    assert scaler.to_dict()["scale"] == [1.0, 1.0]


@pytest.mark.parametrize("kind", ["standard", "whiten"])
def test_zero_std_column_is_divided_by_one_and_named(kind, caplog):
    constant = np.column_stack([X[:, 0], np.full(4, 0.1), np.full(4, 7.0)])
    with caplog.at_level(logging.WARNING, logger="kmeanskit.tables"):
        scaler = Scaler(kind).fit(constant, feature_names=["a", "tenth", "seven"])
    assert scaler.scale_.tolist() == [2.0, 1.0, 1.0]
    assert "columns 'tenth' (1), 'seven' (2) have zero standard deviation" in caplog.text
    out = scaler.transform(constant)
    assert np.array_equal(out[:, 2], np.zeros(4) if kind == "standard" else np.full(4, 7.0))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kmeanskit.tables"):
        Scaler(kind).fit(constant[:, [0, 2]])
    assert "column 'x1' (1) has zero standard deviation; left unscaled" in caplog.text


def test_sparse_whiten_and_none_stay_sparse():
    Xs = sp.random(50, 6, density=0.3, format="csr", random_state=0)
    dense = Xs.toarray()
    scaler = Scaler("whiten").fit(Xs)
    assert np.allclose(scaler.scale_, dense.std(axis=0))
    out = scaler.transform(Xs)
    assert sp.issparse(out) and out.format == "csr" and out.nnz == Xs.nnz
    assert np.allclose(out.toarray(), whiten(dense))
    back = scaler.inverse_transform(out)
    assert sp.issparse(back) and np.allclose(back.toarray(), dense)
    assert np.allclose(scaler.inverse_transform(out.toarray()), dense)
    assert sp.issparse(Scaler("none").fit_transform(Xs))


def test_sparse_standard_is_refused():
    with pytest.raises(
        ValueError,
        match=exact(
            "kind='standard' cannot scale a sparse matrix: subtracting the mean would make it "
            "dense; use kind='whiten' (divide by the deviation only) or 'none'"
        ),
    ):
        Scaler("standard").fit(sp.csr_matrix(X))


def test_dict_round_trip_through_json():
    scaler = Scaler("standard").fit(X * np.pi, feature_names=["a", "b"])
    state = json.loads(json.dumps(scaler.to_dict()))
    assert state == {
        "kind": "standard",
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "feature_names": ["a", "b"],
    }
    again = Scaler.from_dict(state)
    assert np.array_equal(again.transform(X), scaler.transform(X))
    assert np.array_equal(again.inverse_transform(X), scaler.inverse_transform(X))
    assert again.feature_names_ == ["a", "b"]


def test_errors():
    with pytest.raises(
        ValueError, match=exact("kind='minmax' should be one of 'standard', 'whiten', 'none'")
    ):
        Scaler("minmax").fit(X)
    with pytest.raises(ValueError, match=exact("this Scaler is not fitted yet; call fit(X) first")):
        Scaler().transform(X)
    with pytest.raises(ValueError, match=exact("X has 3 columns; the scaler was fitted on 2")):
        Scaler().fit(X).transform(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=exact("X holds NaN or infinite values; fill or drop them first")
    ):
        Scaler().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match=exact("feature_names has 1 names; X has 2 columns")):
        Scaler().fit(X, feature_names=["a"])
    with pytest.raises(ValueError, match="should be finite, and its scale > 0"):
        Scaler.from_dict({"kind": "whiten", "mean": [0.0], "scale": [0.0]})
