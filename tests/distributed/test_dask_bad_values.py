"""The Dask estimators refuse what the in-memory ones refuse (issue 20): NaN or
infinity (naming the row and its block), values whose squared distances overflow or
underflow, complex or featureless X, bad weights; never NaN centres."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")  # the 'dask' extra; installed in CI

from kmeanskit.distributed import KMeans, MiniBatchKMeans  # noqa: E402


def _data():
    rs = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    return centres[np.arange(600) % 3] + rs.normal(scale=0.5, size=(600, 3))


X = _data()
ESTIMATORS = {
    "KMeans": lambda: KMeans(3, random_state=0),
    "MiniBatchKMeans": lambda: MiniBatchKMeans(3, init_sample=200, batch_size=50, random_state=0),
}


def _with(value, row=437, col=1):
    x = X.copy()
    x[row, col] = value
    return da.from_array(x, chunks=(100, 3))


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("value, what", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_one_nan_or_inf_is_refused_with_its_place(name, value, what):
    """One bad value in one block (out of the start sample of MiniBatchKMeans too):
    refused, saying where, instead of NaN centres and inertia."""
    est = ESTIMATORS[name]()
    with pytest.raises(ValueError, match=f"Input X contains {what}") as info:
        est.fit(_with(value))
    assert "rows 400 to 499" in str(info.value) or "row 437" in str(info.value)
    assert not hasattr(est, "cluster_centers_")


def test_nan_in_the_first_row_and_in_the_sample():
    with pytest.raises(ValueError, match=r"Input X contains NaN: 1 row\(s\), the first at row 0"):
        KMeans(3, random_state=0).fit(_with(np.nan, row=0))
    with pytest.raises(ValueError, match=r"Input X contains NaN \(at row 5, in block 0"):
        MiniBatchKMeans(3, init_sample=600, random_state=0).fit(_with(np.nan, row=5))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_lazy_predict_transform_and_score_refuse_nan(name):
    est = ESTIMATORS[name]().fit(da.from_array(X, chunks=(100, 3)))
    bad = _with(np.nan)
    for call in (
        lambda: est.predict(bad).compute(),
        lambda: est.transform(bad).compute(),
        lambda: est.score(bad),
    ):
        with pytest.raises(ValueError, match="Input X contains NaN: row 437"):
            call()


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(
    "scale, dtype, match",
    [
        (1e200, np.float64, r"X has values up to \d\.\d+e\+200 .* overflow float64"),
        (1e25, np.float32, r"X has values up to \d\.\d+e\+25 .* overflow float32"),
        (1e-200, np.float64, r"X has values of at most \d\.\d+e-200 .* underflow float64"),
    ],
)
def test_values_out_of_range(name, scale, dtype, match):
    with pytest.raises(ValueError, match=match):
        ESTIMATORS[name]().fit(da.from_array((X * scale).astype(dtype), chunks=(100, 3)))


def test_one_huge_value_far_down_is_found():
    """The first pass bounds the values; one beyond the bound triggers one more pass."""
    with pytest.raises(ValueError, match=r"X has values up to 1e\+160"):
        KMeans(3, random_state=0).fit(_with(1e160, row=555))
    km = KMeans(3, random_state=0).fit(_with(1e30, row=555))  # large but fine
    assert np.isfinite(km.inertia_)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_complex_and_featureless(name):
    with pytest.raises(ValueError, match="Complex data not supported"):
        ESTIMATORS[name]().fit(da.from_array(X + 1j, chunks=(100, 3)))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        ESTIMATORS[name]().fit(da.from_array(X[:, :0], chunks=(100, 0)))


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(
    "weights, match",
    [
        (np.r_[np.ones(599), np.nan], r"sample_weight must be finite; .*\(nan at index 599\)"),
        (np.r_[np.ones(300), -2.0, np.ones(299)], r"non-negative; got min -2\.0 \(index 300\)"),
        (np.zeros(600), "at least one positive weight; all are zero"),
        (np.ones(600) + 1j, "sample_weight must be real; got complex dtype"),
    ],
    ids=["nan", "negative", "zeros", "complex"],
)
def test_bad_weights(name, weights, match):
    with pytest.raises(ValueError, match=match):
        ESTIMATORS[name]().fit(
            da.from_array(X, chunks=(100, 3)), sample_weight=da.from_array(weights, chunks=150)
        )


def test_float16_and_bool_become_float64():
    for x in (X.astype(np.float16), X > 3):
        km = KMeans(2, random_state=0).fit(da.from_array(x, chunks=(100, 3)))
        assert km.cluster_centers_.dtype == np.float64
        assert np.isfinite(km.inertia_)
