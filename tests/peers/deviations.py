"""The one list of the peers' tests that kmeanskit does not run or does not pass.

``tests/peers/kmeanskit_peer_plugin.py`` reads it while pytest collects scikit-learn's and
scipy's own test modules against kmeanskit.  Keys are ``file::test`` (every
parametrization), ``file::test[id]``, or a pattern where ``*`` stands for anything.

* ``DESELECTED``: tests that do not exercise the swapped public estimators and functions
  (the peers' private helpers and attributes, or public functions kmeanskit does not
  replace); they are deselected with their reason.
* ``XFAIL``: known differences, strict expected failures.  Once kmeanskit is fixed the test
  XPASSes, the run fails, and the entry must be removed.  Each reason is a cause from
  docs/differences.md, quoted word for word there (``test_peer_suites.py`` checks it).
"""

import kmeanskit

# -- reasons for deselecting -----------------------------------------------------------
SKLEARN_PRIVATE = "tests scikit-learn's private helpers (Cython kernels), not KMeans"
SKLEARN_PRIVATE_ATTR = (
    "reads a private attribute of scikit-learn's estimator (_n_init, _init_size or "
    "_init_centroids) that kmeanskit does not have"
)
SKLEARN_FUNCTIONS = (
    "tests scikit-learn's k_means and kmeans_plusplus functions, which are not swapped "
    "(kmeanskit has no functions of those names)"
)
SCIPY_PRIVATE = "tests scipy's private helpers (py_vq, _vq.vq, _krandinit), not scipy.cluster.vq"

# scikit-learn's public functions; swapped for kmeanskit's where kmeanskit has them
SKLEARN_FUNCTION_NAMES = ("k_means", "kmeans_plusplus")
_HAS_FUNCTIONS = all(hasattr(kmeanskit, name) for name in SKLEARN_FUNCTION_NAMES)

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

if not _HAS_FUNCTIONS:
    for _test in (
        "test_k_means_function",
        "test_kmeans_plusplus_wrong_params",
        "test_kmeans_plusplus_output",
        "test_kmeans_plusplus_norms",
        "test_kmeans_plusplus_dataorder",
    ):
        DESELECTED["test_k_means.py::" + _test] = SKLEARN_FUNCTIONS

# -- known differences (each quoted in docs/differences.md) ----------------------------
ELKAN = "algorithm='elkan' is refused (kmeanskit has 'lloyd', 'hamerly' and 'yinyang')"
VERBOSE = "verbose logs through the logging module instead of printing to standard output"
PARTIAL_INIT = "init may hold fewer rows than n_clusters (partly fixed initial centres)"
INIT_SHAPE_MESSAGE = "the message for an init of the wrong shape is worded differently"
MINIBATCH_WARNINGS = (
    "MiniBatchKMeans does not give scikit-learn's RuntimeWarnings about init_size "
    "and about n_init with a fixed init"
)
MINIBATCH_N_ITER = "MiniBatchKMeans's n_iter_ counts max_iter + 1 steps"
DUPLICATES = (
    "with more clusters than distinct points, KMeans runs a second iteration "
    "(n_iter_ is 2, scikit-learn stops after 1)"
)

XFAIL: dict[str, str] = {
    "test_k_means.py::*elkan*": ELKAN,
    "test_bisect_k_means.py::*elkan*": ELKAN,
    "test_k_means.py::test_kmeans_verbose": VERBOSE,
    "test_k_means.py::test_minibatch_declared_convergence": VERBOSE,
    "test_k_means.py::test_wrong_params[param1-*-KMeans]": PARTIAL_INIT,
    "test_k_means.py::test_wrong_params[param1-*-MiniBatchKMeans]": INIT_SHAPE_MESSAGE,
    "test_k_means.py::test_wrong_params[param2-*]": INIT_SHAPE_MESSAGE,
    "test_k_means.py::test_wrong_params[param3-*]": INIT_SHAPE_MESSAGE,
    "test_k_means.py::test_wrong_params[param4-*]": INIT_SHAPE_MESSAGE,
    "test_k_means.py::test_minibatch_kmeans_warning_init_size": MINIBATCH_WARNINGS,
    "test_k_means.py::test_warning_n_init_precomputed_centers[MiniBatchKMeans]": (
        MINIBATCH_WARNINGS
    ),
    "test_k_means.py::test_minibatch_iter_steps": MINIBATCH_N_ITER,
    "test_k_means.py::test_relocating_with_duplicates": DUPLICATES,
}

# every reason above, whether or not an entry uses it today (docs/differences.md quotes all)
REASONS: tuple[str, ...] = tuple(
    value for name, value in sorted(globals().items()) if name.isupper() and isinstance(value, str)
)
