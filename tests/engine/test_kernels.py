"""Engine kernels and drivers against plain numpy."""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from kmeanskit._engine import (
    _common,
    _kernels,
    assign,
    column_stats,
    kmeans_plusplus,
    lloyd,
    random_rows,
    tolerance,
)
from kmeanskit._engine import _seeding_kernels as _kernels_seed
from kmeanskit._engine._common import CHUNK, Pass, assigned_sqdist, n_slots_for, thread_limits
from kmeanskit._engine.lloyd import _relocate_empty


def _numpy_assign(X, C):
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    return d2.argmin(axis=1), d2.min(axis=1)


def _numpy_lloyd_step(X, w, C):
    labels, d2 = _numpy_assign(X, C)
    sums = np.zeros_like(C)
    np.add.at(sums, labels, w[:, None] * X)
    wsum = np.bincount(labels, weights=w, minlength=C.shape[0])
    return labels, d2, sums, wsum


@pytest.mark.parametrize("n_features", [3, 40])
@pytest.mark.parametrize("container", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 50.0])  # 50: the BLAS path centres the rows
@pytest.mark.parametrize("fused", [True, False])
def test_one_pass_matches_numpy(n_features, container, dtype, offset, fused, monkeypatch):
    if not fused:  # no memory for per-slot sums: assign, then sum cluster by cluster
        monkeypatch.setattr(_common, "n_slots_for", lambda *a: (_common.MAX_SLOTS, False))
    rng = np.random.RandomState(0)
    n = 3 * CHUNK + 17  # several chunks and a ragged last one
    X = rng.rand(n, n_features) - 0.5
    X[np.abs(X) < 0.15] = 0.0
    X += offset
    C = X[rng.choice(n, 7, replace=False)] + 0.01
    w = rng.uniform(0.5, 2, n)
    labels, d2, sums, wsum = _numpy_lloyd_step(X, w, C)
    data = X.astype(dtype)
    data = sp.csr_matrix(data) if container == "csr" else data
    p = Pass(data, w.astype(dtype), 7)
    assert p.fused == fused
    assert p.subtract_shift == (offset > 0 and container == "dense" and n_features >= 16)
    with thread_limits(2):
        got_sums, got_wsum, objective = p.run(C.astype(dtype), update=True)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert_array_equal(p.labels, labels)
    mind = assigned_sqdist(data, C, p.labels)
    # CSR distances are |x|^2 - 2 x.c + |c|^2, uncentred: their error scales with |x|^2
    scale = 1.0 if container == "dense" else 1.0 + (X**2).sum(axis=1).max()
    atol = (1e-5 if dtype == np.float32 else 1e-12) * scale
    assert_allclose(mind, d2, rtol=rtol, atol=atol)
    assert_allclose(got_sums, sums, rtol=rtol)
    assert_allclose(got_wsum, wsum, rtol=rtol)
    assert objective == pytest.approx(float(w @ d2), rel=1e-3 if dtype == np.float32 else 1e-9)


def test_assign_returns_nearest_and_squared_distance():
    X = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 0.0]])
    C = np.array([[0.0, 0.0], [4.0, 4.0]])
    labels, sqdist, objective = assign(X, C, np.array([1.0, 2.0, 1.0]))
    assert_array_equal(labels, [0, 1, 0])
    assert_allclose(sqdist, [0.0, 2.0, 1.0])
    assert objective == pytest.approx(5.0)


def test_one_lloyd_iteration_matches_numpy():
    rng = np.random.RandomState(1)
    X = rng.rand(500, 6)
    w = rng.uniform(0.5, 2, 500)
    C0 = X[:4].copy()
    _, d2, sums, wsum = _numpy_lloyd_step(X, w, C0)
    res = lloyd(X, w, C0, max_iter=1)
    assert res.n_iter == 1
    assert_allclose(res.centers, sums / wsum[:, None], rtol=1e-12)
    assert res.history[0] == pytest.approx(float(w @ d2), rel=1e-12)
    # the returned labels are those of the returned centres
    assert_array_equal(res.labels, _numpy_assign(X, res.centers)[0])


def test_empty_cluster_moves_to_farthest_point():
    X = np.array([[0.0], [1.0], [2.0], [100.0]])
    # the centre at 1000 gets nobody; 100 is the farthest point from its centre
    res = lloyd(X, np.ones(4), np.array([[1.0], [1000.0]]), max_iter=1)
    assert_allclose(res.centers.ravel(), [1.0, 100.0])


@pytest.mark.parametrize("container", ["dense", "csr"])
def test_relocation_farthest_first_then_by_index(container):
    X = np.array([[0.0], [3.0], [5.0], [-5.0]])  # 0, 9, 25, 25 from the centre at 0
    data = sp.csr_matrix(X) if container == "csr" else X
    w = np.ones(4)
    labels = np.zeros(4, dtype=np.int32)
    centers = np.array([[0.0], [100.0], [200.0]])
    sums = np.array([[3.0], [0.0], [0.0]])
    wsum = np.array([4.0, 0.0, 0.0])
    assert _relocate_empty(data, w, centers, labels, sums, wsum) == 2
    assert_allclose(sums.ravel(), [3.0, 5.0, -5.0])
    assert_allclose(wsum, [2.0, 1.0, 1.0])


def test_farthest_rows_across_slots_equal_a_full_sort():
    from kmeanskit._engine.lloyd import farthest

    rng = np.random.RandomState(2)
    X = np.round(rng.rand(5000, 3) * 4)  # many equal distances: ties by index
    C = rng.rand(6, 3) * 4
    labels = rng.randint(0, 6, 5000).astype(np.int32)
    d2 = ((X - C[labels]) ** 2).sum(axis=1)
    expected = np.lexsort((np.arange(5000), -d2))
    for m in (1, 7, 40):
        assert_array_equal(farthest(X, C, labels, m), expected[:m])


def test_tolerance_is_relative_to_mean_variance():
    X = np.random.RandomState(0).rand(100, 3) * [1.0, 10.0, 100.0]
    expected = np.var(X, axis=0).mean() * 1e-4
    assert tolerance(X, 1e-4) == pytest.approx(expected)
    assert tolerance(sp.csr_matrix(X), 1e-4) == pytest.approx(expected)
    assert tolerance(X, 0) == 0.0


def test_slots_do_not_depend_on_threads():
    assert n_slots_for(10, 3, 2) == (1, True)
    assert n_slots_for(100_000, 10, 10, 8_000_000) == (32, True)
    # per-slot sums must fit in 1/8 of the input's bytes (or 1 MiB), else a second step
    assert n_slots_for(100_000, 1000, 10_000, 4_000_000_000) == (32, False)
    assert n_slots_for(200_000, 1000, 16, 12_800_000) == (32, False)


@pytest.mark.parametrize("container", ["dense", "csr"])
def test_kmeans_plusplus_picks_spread_rows(container):
    rng = np.random.RandomState(0)
    centers = np.array([[0, 0], [20, 0], [0, 20], [20, 20]], dtype=float)
    X = np.vstack([c + rng.randn(50, 2) for c in centers])
    data = sp.csr_matrix(X) if container == "csr" else X
    seeds, idx = kmeans_plusplus(data, 4, np.ones(200), np.random.RandomState(3))
    assert_allclose(seeds, X[idx])
    assert sorted(i // 50 for i in idx) == [0, 1, 2, 3]


@pytest.mark.parametrize("n_features", [30, 200])  # 200: distances kept between passes
def test_kmeans_plusplus_dense_equals_sparse_and_threads(n_features):
    X = np.random.RandomState(2).rand(700, n_features)
    runs = []
    for data, threads in [(X, 1), (X, 2), (sp.csr_matrix(X), 2)]:
        rs = np.random.RandomState(5)
        runs.append(kmeans_plusplus(data, 8, np.ones(700), rs, None, threads))
    for _, idx in runs[1:]:
        assert_array_equal(idx, runs[0][1])


def test_kmeans_plusplus_honours_zero_weights():
    X = np.arange(20.0).reshape(10, 2)
    w = np.zeros(10)
    w[[2, 7]] = 1.0
    _, idx = kmeans_plusplus(X, 2, w, np.random.RandomState(0))
    assert sorted(idx.tolist()) == [2, 7]


def test_random_rows_are_distinct():
    _, idx = random_rows(np.eye(10), 10, np.ones(10), np.random.RandomState(0))
    assert sorted(idx.tolist()) == list(range(10))


@pytest.mark.parametrize("use_gemm", [False, True])
def test_compiled_kernels_equal_their_python_source(use_gemm):
    """The jitted kernels compute what their Python source computes (run uncompiled)."""

    rng = np.random.RandomState(3)
    X = rng.rand(70, 5)
    X[X < 0.4] = 0.0
    C = X[:3] + 0.05
    ct = np.ascontiguousarray(C.T)
    csq = (C**2).sum(axis=1)
    w = rng.uniform(0.5, 2.0, 70)
    S = sp.csr_matrix(X)
    shift = X.mean(axis=0)
    Cs = C - shift
    cts = np.ascontiguousarray(Cs.T)
    csqs = (Cs**2).sum(axis=1)
    bufs = np.empty((numba.get_num_threads(), 16, 5))
    outputs = []

    def buffers():
        return [np.empty(70, np.int32), np.empty((2, 3, 5)), np.empty((2, 3)), np.empty(2)]

    mode = _kernels.BLAS_PRODUCTS if use_gemm else _kernels.DIRECT_DISTANCES
    out_names = ("labels", "sums", "wsum", "inert")
    for fn in (_kernels.lloyd_pass_dense, _kernels.lloyd_pass_dense.py_func):
        for subtract_shift in (False, True):
            bufs_out = buffers()
            if subtract_shift:
                product = {"ct": cts, "csq": csqs, "shift": shift}
            else:
                product = {"ct": ct, "csq": csq, "shift": np.zeros(5)}
            fn(
                X=X,
                w=w,
                centers=C,
                **product,
                subtract_shift=subtract_shift,
                mode=mode,
                chunk=16,
                accumulate_sums=True,
                bufs=bufs,
                **dict(zip(out_names, bufs_out, strict=True)),
            )
            outputs.append(bufs_out)
    for fn in (_kernels.lloyd_pass_csr, _kernels.lloyd_pass_csr.py_func):
        bufs_out = buffers()
        fn(
            data=S.data,
            indices=S.indices,
            indptr=S.indptr,
            w=w,
            ct=ct,
            c_sqnorm=csq,
            chunk=16,
            accumulate_sums=True,
            **dict(zip(out_names, bufs_out, strict=True)),
        )
        outputs.append(bufs_out)
    # outputs: dense plain, dense centred (compiled, then Python), then CSR twice;
    # labels and sums agree everywhere, the objective within each variant (the BLAS
    # path leaves out the constant sum of |x - shift|^2)
    for bufs_out in outputs[1:]:
        for got, ref in zip(bufs_out[:3], outputs[0][:3], strict=True):
            assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    for a, b in [(0, 2), (1, 3), (4, 5)]:
        assert_allclose(outputs[a][3], outputs[b][3], rtol=1e-12)
    labels = outputs[0][0]
    sq = [np.empty(70) for _ in range(4)]
    _kernels.assigned_sqdist_dense(X, C, labels, sq[0])
    _kernels.assigned_sqdist_dense.py_func(X, C, labels, sq[1])
    _kernels.assigned_sqdist_csr(S.data, S.indices, S.indptr, C, csq, labels, sq[2])
    _kernels.assigned_sqdist_csr.py_func(S.data, S.indices, S.indptr, C, csq, labels, sq[3])
    for got in sq:
        assert_allclose(got, ((X - C[labels]) ** 2).sum(axis=1), rtol=1e-10, atol=1e-12)
    closest = np.full(70, np.inf)
    out = [np.empty((3, 70)) for _ in range(2)]
    Sc = S.tocsc()
    xsq = (X**2).sum(axis=1)
    R = sp.csr_matrix(C)
    for fn, o in zip(
        (_kernels_seed.candidate_sqdist_csc, _kernels_seed.candidate_sqdist_csc.py_func),
        out,
        strict=True,
    ):
        fn(Sc.data, Sc.indices, Sc.indptr, xsq, R.data, R.indices, R.indptr, csq, closest, o)
    expected = ((X[None, :, :] - C[:, None, :]) ** 2).sum(axis=2)
    for got in out:
        assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("use_dot", [False, True])
@pytest.mark.parametrize("compiled", [True, False])
def test_seeding_kernels_match_numpy(use_dot, compiled):
    """One k-means++ round, pruned, equals the unpruned numpy computation."""
    rng = np.random.RandomState(4)
    X = rng.rand(301, 6) * [1, 1, 1, 5, 5, 5] + 20.0  # an offset: the products shift it
    n = X.shape[0]
    w = rng.uniform(0.5, 2.0, n)
    centers = X[[3, 100, 200]]
    d2 = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    cand = X[[7, 150, 250, 299, 42]]
    dc = ((X[:, None, :] - cand[None]) ** 2).sum(axis=2)
    shift = X.mean(axis=0) if use_dot else np.zeros(6)
    pick = (lambda f: f) if compiled else (lambda f: f.py_func)
    # the first centre: every distance and the chunk potentials
    closest = np.empty(n)
    nearest = np.empty(n, np.int32)
    chunk_pot = np.empty(-(-n // 64))
    first = centers[:1] - shift if use_dot else centers[:1]
    csq0 = (first**2).sum(axis=1)
    pick(_kernels_seed.kpp_first)(
        X, shift, w, first, csq0, use_dot, closest, nearest, 64, chunk_pot
    )
    assert_allclose(closest, d2[:, 0], rtol=1e-9, atol=1e-9)
    assert chunk_pot.sum() == pytest.approx(w @ d2[:, 0], rel=1e-9)
    # three centres so far; a round with five candidates
    closest = d2.min(axis=1)
    nearest = d2.argmin(axis=1).astype(np.int32)
    rows = np.zeros((8, 6))  # the candidates shifted, in blocks of 4 rows
    rows[:5] = cand - shift
    csq = (rows[:5] ** 2).sum(axis=1)
    cc = np.empty((3, 5))
    cc_min = np.empty(3)
    pick(_kernels_seed.center_distances)(rows, csq, centers, 3, shift, 1e-12, cc, cc_min)
    exact = ((cand[None] - centers[:, None]) ** 2).sum(axis=2) / 4
    assert np.all(cc <= exact) and np.all(cc >= 0)
    # through |c|^2 + |t|^2 - 2 c.t: unshifted (use_dot False), the offset costs digits
    assert_allclose(cc, exact, rtol=1e-7)
    assert_allclose(cc_min, exact.min(axis=1), rtol=1e-7)
    pot = np.empty((chunk_pot.size, 5))
    mask = np.empty(n, np.uint16)
    threads = numba.get_num_threads()
    pick(_kernels_seed.kpp_potentials)(
        X,
        shift,
        w,
        rows,
        csq,
        cc,
        cc_min,
        closest,
        nearest,
        use_dot,
        64,
        np.empty((threads, 64), np.int64),
        np.empty((threads, 3, 64)),
        pot,
        mask,
    )
    expected = (w[:, None] * np.minimum(closest[:, None], dc)).sum(axis=0)
    assert_allclose(pot.sum(axis=0), expected, rtol=1e-9)
    bits = (dc < closest[:, None]) << np.arange(5)
    assert_array_equal(mask, bits.sum(axis=1))
    # the winner (candidate 2) becomes centre 3: only the points it captures change
    chunk_pot = np.array(
        [w[c * 64 : c * 64 + 64] @ closest[c * 64 : c * 64 + 64] for c in range(chunk_pot.size)]
    )
    pick(_kernels_seed.kpp_update)(
        X, shift, w, rows, csq, 2, 3, use_dot, mask, closest, nearest, 64, chunk_pot
    )
    new_closest = np.minimum(d2.min(axis=1), dc[:, 2])
    assert_allclose(closest, new_closest, rtol=1e-9, atol=1e-9)
    assert_array_equal(nearest == 3, dc[:, 2] < d2.min(axis=1))
    assert chunk_pot.sum() == pytest.approx(expected[2], rel=1e-9)


def test_sampling_follows_the_cumulative_potential():
    w = np.ones(10)
    closest = np.array([0.0, 1, 0, 0, 2, 0, 0, 0, 3, 0])
    chunk_pot = np.array([w[:4] @ closest[:4], w[4:8] @ closest[4:8], w[8:] @ closest[8:]])
    out = np.empty(4, dtype=np.intp)
    _kernels_seed.kpp_sample(np.array([0.5, 1.0, 2.5, 5.9]), chunk_pot, w, closest, 4, out)
    assert_array_equal(out, [1, 1, 4, 8])
    assert_array_equal(np.searchsorted(np.cumsum(closest), [0.5, 1.0, 2.5, 5.9]), out)


def test_two_step_sums_do_not_depend_on_threads(monkeypatch):
    monkeypatch.setattr(_common, "n_slots_for", lambda *a: (_common.MAX_SLOTS, False))
    X = np.random.RandomState(0).rand(3000, 20).astype(np.float32)
    runs = [lloyd(X, np.ones(3000, np.float32), X[:30], n_threads=t) for t in (1, 2)]
    assert runs[0].centers.tobytes() == runs[1].centers.tobytes()
    assert_array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].history == runs[1].history


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_stats_match_numpy(dtype):
    X = (np.random.RandomState(1).rand(1000, 7) * 3 + 1e4).astype(dtype)
    stats = column_stats(X)
    assert_allclose(stats.mean, X.astype(np.float64).mean(axis=0), rtol=1e-12)
    assert_allclose(stats.var, X.astype(np.float64).var(axis=0), rtol=1e-9)
    S = sp.random(500, 9, density=0.3, format="csr", random_state=0)
    sparse_stats = column_stats(S)
    assert_allclose(sparse_stats.var, S.toarray().var(axis=0), rtol=1e-9, atol=1e-15)


def _hamerly_args(X, C, move, mode, use_gemm, state):
    """The keyword arguments of a Hamerly step (``state``: labels, second, upper,
    lower, rest)."""
    from kmeanskit._engine.hamerly import _half_gaps, largest_moves

    n, d = X.shape
    threads = numba.get_num_threads()
    top_v, top_id = largest_moves(move)
    csq = (C**2).sum(axis=1)
    labels, second, upper, lower, rest = state
    return dict(
        X=X,
        centers=C,
        ct=np.ascontiguousarray(C.T),
        csq=csq,
        cmax=csq.max(),
        shift=np.zeros(d),
        subtract_shift=False,
        use_gemm=use_gemm,
        half_gap=_half_gaps(C),
        move=move,
        top_v=top_v,
        top_id=top_id,
        chunk=64,
        margin=1e-6,
        err_scale=1e-12,
        mode=mode,
        bufs=np.empty((threads, 64, d)),
        idxbufs=np.empty((threads, 64), np.int64),
        xsqbufs=np.empty((threads, 64)),
        labels=labels,
        second=second,
        upper=upper,
        lower=lower,
        rest=rest,
        work=np.zeros(-(-n // 64), np.int64),
    )


@pytest.mark.parametrize("runner_up", [True, False])
@pytest.mark.parametrize("use_gemm", [False, True])
@pytest.mark.parametrize("compiled", [True, False])
def test_hamerly_step_gives_exact_labels_and_bounds(use_gemm, compiled, runner_up):
    """A full step, then bounded steps after moves of every centre and of a few:
    the labels are the nearest centres and the three bounds stay bounds (without a
    runner-up, Hamerly's two)."""
    from kmeanskit._engine import _hamerly_kernels as hk

    rng = np.random.RandomState(5)
    n, k = 300, 7
    X = rng.rand(n, 6)
    C = X[:k].copy()
    m = n if runner_up else 0
    state = [
        np.zeros(n, np.int32),
        np.zeros(m, np.int32),
        np.zeros(n, np.float32),
        np.zeros(n, np.float32),
        np.zeros(m, np.float32),
    ]
    fn = hk.hamerly_step_dense if compiled else hk.hamerly_step_dense.py_func

    def check(C, args):
        labels, second, upper, lower, rest = state
        dist = np.sqrt(((X[:, None] - C[None]) ** 2).sum(axis=2))
        rows = np.arange(n)
        assert_array_equal(labels, dist.argmin(axis=1))
        assert np.all(upper >= dist[rows, labels] * (1 - 1e-9))
        others = dist.copy()
        others[rows, labels] = np.inf
        assert np.all(lower <= others.min(axis=1) * (1 + 1e-9))
        if runner_up:
            assert np.all(second != labels)
            others[rows, second] = np.inf
            assert np.all(rest <= others.min(axis=1) * (1 + 1e-9))
        return args["work"].sum()  # points scanned in full

    args = _hamerly_args(X, C, np.zeros(k), hk.FULL, use_gemm, state)
    fn(**args)
    assert check(C, args) == n
    order = np.sort(np.sqrt(((X[:, None] - C[None]) ** 2).sum(axis=2)), axis=1)
    assert_allclose(state[2], order[:, 0], rtol=1e-5)
    assert_allclose(state[3], order[:, 1], rtol=1e-5)
    if runner_up:
        assert_allclose(state[4], order[:, 2], rtol=1e-5)
    for step, movers in enumerate([np.arange(k), np.array([2, 5]), np.array([1])]):
        shift = np.zeros((k, 6))
        shift[movers] = rng.randn(len(movers), 6) * 0.03
        C2 = C + shift
        move = np.sqrt((shift**2).sum(axis=1))
        args = _hamerly_args(X, C2, move, hk.BOUNDED, use_gemm, state)
        fn(**args)
        scanned = check(C2, args)
        # the runner-up settles most border points; Hamerly's bounds alone fewer
        assert scanned < (n / 2 if runner_up else 0.6 * n), step
        C = C2
    # a labels-only step (a Lloyd pass) scans every point and leaves the bounds alone
    C2 = C + rng.randn(k, 6) * 0.05
    bounds = [b.copy() for b in state[2:]]
    args = _hamerly_args(X, C2, np.zeros(k), hk.LABELS_ONLY, use_gemm, state)
    fn(**args)
    dist = np.sqrt(((X[:, None] - C2[None]) ** 2).sum(axis=2))
    assert_array_equal(state[0], dist.argmin(axis=1))
    assert args["work"].sum() == n
    for got, before in zip(state[2:], bounds, strict=True):
        assert_array_equal(got, before)
    # a labels-only step (a Lloyd pass) scans every point and leaves the bounds alone
    C2 = C + rng.randn(k, 6) * 0.05
    bounds = [b.copy() for b in state[2:]]
    args = _hamerly_args(X, C2, np.zeros(k), hk.LABELS_ONLY, use_gemm, state)
    fn(**args)
    dist = np.sqrt(((X[:, None] - C2[None]) ** 2).sum(axis=2))
    assert_array_equal(state[0], dist.argmin(axis=1))
    assert args["work"].sum() == n
    for got, before in zip(state[2:], bounds, strict=True):
        assert_array_equal(got, before)


def test_small_kernels_match_numpy():
    rng = np.random.RandomState(7)
    C = rng.rand(6, 4)
    D = np.sqrt(((C[:, None] - C[None]) ** 2).sum(axis=2))
    np.fill_diagonal(D, np.inf)
    for block in (1, 4, 64):  # blocks of centres against all of them
        gaps = np.empty(6)
        _kernels.center_gaps(C, block, 1e-12, gaps)
        assert np.all(gaps <= D.min(axis=1))  # lowered for the rounding: still a bound
        assert_allclose(gaps, D.min(axis=1), rtol=1e-9)
    gaps = np.empty(1)
    _kernels.center_gaps(C[:1], 1, 1e-12, gaps)
    assert gaps[0] == np.inf

    sums = rng.rand(6, 4) * 3
    wsum = np.array([3.0, 1.0, 0.0, 2.0, 5.0, 1.0])
    centers = C.copy()
    move = np.empty(6)
    _kernels.update_centers(sums, wsum, centers, move)
    expected = np.where(wsum[:, None] > 0, sums / np.maximum(wsum, 1)[:, None], C)
    assert_allclose(centers, expected)
    assert_allclose(move, np.linalg.norm(expected - C, axis=1))

    labels = rng.randint(0, 6, 50).astype(np.int32)
    order = np.empty(50, np.int32)
    starts = np.empty(7, np.int64)
    _kernels.group_by_label(labels, 6, order, starts)
    assert_array_equal(order, np.argsort(labels, kind="stable"))
    assert_array_equal(starts, np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=6))]))

    X = rng.rand(50, 4)
    w = rng.rand(50)
    part = np.empty(3)
    _kernels.assigned_objective_dense(X, w, C, labels, 16, part)
    assert part.sum() == pytest.approx(float((w * ((X - C[labels]) ** 2).sum(axis=1)).sum()))


@pytest.mark.parametrize("k", [3, 40])  # fewer and more clusters than ranges
def test_ranged_cluster_sums_equal_the_sorted_ones(k):
    """Summing each range of clusters over all rows gives the bits of summing each
    cluster's rows in row order (group_by_label), dense and CSR, with no scratch."""
    rng = np.random.RandomState(8)
    X = rng.rand(3000, 7)
    X[X < 0.5] = 0.0
    w = rng.uniform(0.5, 2.0, 3000)
    labels = rng.randint(0, k, 3000).astype(np.int32)
    order = np.empty(3000, np.int32)
    starts = np.empty(k + 1, np.int64)
    _kernels.group_by_label(labels, k, order, starts)
    ref_sums, ref_w = np.empty((k, 7)), np.empty(k)
    _kernels.cluster_sums_dense(X, w, order, starts, ref_sums, ref_w)
    S = sp.csr_matrix(X)
    for run in (
        lambda s, ws, c: _kernels.cluster_sums_ranged(X, w, labels, s, ws, c),
        lambda s, ws, c: _kernels.cluster_sums_ranged_csr(
            S.data, S.indices, S.indptr, w, labels, s, ws, c
        ),
    ):
        sums, wsum, counts = np.full((k, 7), np.nan), np.full(k, np.nan), np.zeros(k, np.int64)
        with thread_limits(2):
            run(sums, wsum, counts)
        assert sums.tobytes() == ref_sums.tobytes()
        assert wsum.tobytes() == ref_w.tobytes()
        assert_array_equal(counts, np.bincount(labels, minlength=k))
