"""scikit-learn's estimator checks, with the known failures listed and explained."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kmeanskit import (
    BisectingKMeans,
    GMeans,
    KernelKMeans,
    KMeans,
    KMeansConstrained,
    KMeansFeatures,
    KMedoids,
    MiniBatchKMeans,
    SphericalKMeans,
    XMeans,
)

# Each check below fails for scikit-learn's own KMeans as well, for the same reason;
# the checks still run and must keep failing (strict xfail), so a fix is noticed.
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": (
        "weights change the seeding draws, so a weight of 2 and a repeated row give "
        "different random seeds; from the same initial centres they agree "
        "(tests/test_kmeans.py::test_weight_two_equals_duplicated_row)"
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "as for dense data: seeding draws differ, results from the same init agree"
    ),
}


def _expected_failures(estimator):
    if isinstance(estimator, KMeansConstrained):
        # the weight-equivalence checks pass for it (its 3 default runs find the same
        # clustering either way on the checks' data), so nothing is expected to fail
        return {}
    return EXPECTED_FAILURES


@parametrize_with_checks(
    [
        KMeans(n_clusters=2, n_init=2, max_iter=5, random_state=0),
        XMeans(k_max=5, random_state=0),
        GMeans(k_max=5, random_state=0),
        SphericalKMeans(n_clusters=2, n_init=2, max_iter=5, random_state=0),
        MiniBatchKMeans(n_clusters=2, batch_size=10, max_iter=5, random_state=0),
        BisectingKMeans(n_clusters=3, max_iter=5, random_state=0),
        KMeansFeatures([2, 3], modes=["soft", "distance"], random_state=0),
        KMedoids(n_clusters=2, random_state=0),
        KMeansConstrained(n_clusters=2, size_max=1000, random_state=0),
        KernelKMeans(n_clusters=2, n_init=2, random_state=0),
        KMedoids(n_clusters=2, method="clara", random_state=0),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
