"""The one list of the peers' tests that kmeanskit does not run or does not pass.

``tests/peers/kmeanskit_peer_plugin.py`` reads it while pytest collects scikit-learn's and
scipy's own test modules against kmeanskit.  Keys are ``file::test`` (every
parametrization), ``file::test[id]``, or a pattern where ``*`` stands for anything.

* ``DESELECTED``: tests that do not exercise the swapped public estimators and functions
  (the peers' private helpers and attributes); they are deselected with their reason.
* ``XFAIL``: known differences, strict expected failures.  Once kmeanskit is fixed the test
  XPASSes, the run fails, and the entry must be removed.  Each reason is a cause from
  docs/differences.md, quoted word for word there (``test_peer_suites.py`` checks it).
"""

# -- reasons for deselecting -----------------------------------------------------------
SKLEARN_PRIVATE = "tests scikit-learn's private helpers (Cython kernels), not KMeans"
SKLEARN_PRIVATE_ATTR = (
    "reads a private attribute of scikit-learn's estimator (_n_init, _init_size or "
    "_init_centroids) that kmeanskit does not have"
)
SCIPY_PRIVATE = "tests scipy's private helpers (py_vq, _vq.vq, _krandinit), not scipy.cluster.vq"

DESELECTED: dict[str, str] = {
    "test_k_means.py::test_relocate_empty_clusters": SKLEARN_PRIVATE,
    "test_k_means.py::test_minibatch_update_consistency": SKLEARN_PRIVATE,
    "test_k_means.py::test_minibatch_reassign": SKLEARN_PRIVATE,
    "test_k_means.py::test_euclidean_distance": SKLEARN_PRIVATE,
    "test_k_means.py::test_inertia": SKLEARN_PRIVATE,
    "test_k_means.py::test_is_same_clustering": SKLEARN_PRIVATE,
    "test_k_means.py::test_kmeans_init_auto_with_initial_centroids": SKLEARN_PRIVATE_ATTR,
    "test_k_means.py::test_n_init_auto": SKLEARN_PRIVATE_ATTR,
    "test_k_means.py::test_minibatch_kmeans_init_size": SKLEARN_PRIVATE_ATTR,
    "test_k_means.py::test_sample_weight_init": SKLEARN_PRIVATE_ATTR,
    "test_k_means.py::test_sample_weight_zero": SKLEARN_PRIVATE_ATTR,
    "test_vq.py::TestVq::test_py_vq": SCIPY_PRIVATE,
    "test_vq.py::TestVq::test_py_vq_matrix": SCIPY_PRIVATE,
    "test_vq.py::TestVq::test_vq_1d": SCIPY_PRIVATE,
    "test_vq.py::TestVq::test__vq_sametype": SCIPY_PRIVATE,
    "test_vq.py::TestVq::test__vq_invalid_type": SCIPY_PRIVATE,
    "test_vq.py::TestKMeans::test_krandinit": SCIPY_PRIVATE,
}

# -- known differences (each quoted in docs/differences.md) ----------------------------
VERBOSE = "verbose logs through the logging module instead of printing to standard output"
PARTIAL_INIT = "init may hold fewer rows than n_clusters (partly fixed initial centres)"

XFAIL: dict[str, str] = {
    "test_k_means.py::test_kmeans_verbose": VERBOSE,
    "test_k_means.py::test_minibatch_declared_convergence": VERBOSE,
    "test_k_means.py::test_wrong_params[param1-*-KMeans]": PARTIAL_INIT,
}

# every reason above, whether or not an entry uses it today (docs/differences.md quotes all)
REASONS: tuple[str, ...] = tuple(
    value for name, value in sorted(globals().items()) if name.isupper() and isinstance(value, str)
)
