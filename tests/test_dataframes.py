"""Every estimator takes a pandas DataFrame and keeps its column names."""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")  # the test extra

from test_bad_arrays import ESTIMATORS, X  # noqa: E402


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_dataframe_in_and_its_feature_names_kept(name):
    df = pd.DataFrame(
        X, columns=["length", "width", "depth"], index=[f"sample {i}" for i in range(len(X))]
    )
    est = ESTIMATORS[name]().fit(df)
    assert list(est.feature_names_in_) == ["length", "width", "depth"]
    ref = ESTIMATORS[name]().fit(X)
    if name == "KMeansFeatures":
        np.testing.assert_allclose(est.transform(df), ref.transform(X))
    else:
        assert (est.predict(df) == ref.predict(X)).all()
    with pytest.raises(ValueError, match="feature names"):
        (est.transform if name == "KMeansFeatures" else est.predict)(
            df.rename(columns={"width": "height"})
        )
