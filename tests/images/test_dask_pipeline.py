"""The image pipeline on Dask: the in-memory pipeline's features from a zarr store, and
``kmeanskit cluster --scheduler``."""

import csv
import json

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
da = pytest.importorskip("dask.array")  # the 'dask' extra (dask, distributed, zarr)
zarr = pytest.importorskip("zarr")
distributed = pytest.importorskip("distributed")

from conftest import write_levels  # noqa: E402
from kmeanskit.cli import main  # noqa: E402
from kmeanskit.images.dask_features import extract_features_dask  # noqa: E402
from kmeanskit.images.pipeline import extract_features  # noqa: E402


@pytest.fixture()
def photos(tmp_path):
    """36 grey pictures at three levels, then three unreadable files (sorted last, so
    that with batches of 3 one whole batch is unreadable)."""
    root = write_levels(tmp_path / "photos", 36, (30, 128, 220), side=20, noise=12, seed=0)
    good = (root / "0.png").read_bytes()
    (root / "x_cut.png").write_bytes(good[: len(good) // 3])
    (root / "x_empty.jpg").write_bytes(b"")
    (root / "x_text.png").write_text("not an image")
    return root


@pytest.mark.parametrize("features", ["pixels", "hog", "svd"])
def test_same_features_as_in_memory(photos, tmp_path, features):
    kw = {"features": features, "size": 16, "n_components": 5}
    _, X, paths, failures = extract_features(photos, **kw)
    store = tmp_path / "features.zarr"
    model, Xd, dpaths, dfailures = extract_features_dask(photos, store, batch_size=3, **kw)
    assert isinstance(Xd, da.Array) and Xd.dtype == np.float32
    np.testing.assert_allclose(Xd.compute(), X, rtol=1e-5, atol=1e-6)
    assert dpaths == paths and len(paths) == 36
    assert dfailures == failures and len(failures) == 3
    saved = zarr.open_array(str(store), mode="r")
    assert saved.shape[0] == 39 and saved.chunks[0] == 3  # one chunk per batch
    assert np.isnan(saved[36:]).all()  # the unreadable files' rows
    assert [f["path"] for f in saved.attrs["failures"]] == [f.path for f in failures]
    # the model places new files as the in-memory one does
    rows, _, _ = model.transform_paths(paths[:4])
    np.testing.assert_allclose(rows, X[:4], rtol=1e-5, atol=1e-6)
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        extract_features_dask(photos, store, **kw)


def _run(photos, out, *extra):
    return main(
        [
            "cluster",
            str(photos),
            "--features",
            "svd",
            "--size",
            "16",
            "--components",
            "5",
            "--out",
            str(out),
            "--json",
            *extra,
        ]
    )


def test_cli_on_a_local_cluster(photos, tmp_path, capsys):
    local = tmp_path / "local"
    assert _run(photos, local, "--k", "3") == 0
    expected = json.loads(capsys.readouterr().out)
    out = tmp_path / "dask"
    # a tcp address, as a real scheduler has; ':0': no clash with a dashboard on 8787
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0"
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        code = _run(photos, out, "--k", "3", "--scheduler", cluster.scheduler_address)
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("n_images", "k", "cluster_sizes", "failures", "features"):
        assert summary[key] == expected[key], key
    assert summary["algorithm"].startswith("distributed k-means (Dask)")
    assert summary["scores"]["silhouette"] == pytest.approx(expected["scores"]["silhouette"])
    assert (out / "features.zarr").is_dir() and (out / "report.html").is_file()
    assert (out / "model.kmk").is_file() and (out / "map.npy").is_file()
    with open(local / "assignments.csv") as fh:
        want = {r["path"]: r for r in csv.DictReader(fh)}
    with open(out / "assignments.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 36 and all(r["cluster"] == want[r["path"]]["cluster"] for r in rows)
    for r in rows:
        assert float(r["distance"]) == pytest.approx(float(want[r["path"]]["distance"]), rel=1e-4)
    for j in range(3):
        assert len(list((out / f"cluster_{j:02d}").iterdir())) == summary["cluster_sizes"][j]

    # the model file predicts without Dask, as the CSV says
    assert main(["predict", str(out / "model.kmk"), rows[0]["path"], "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)["predictions"][0]
    assert pred["cluster"] == int(rows[0]["cluster"])
    assert pred["distance"] == pytest.approx(float(rows[0]["distance"]), rel=1e-4, abs=1e-4)


def test_cli_threads_with_a_k_range(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(photos, out, "--k", "2:5", "--scheduler", "threads") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["k"] == 3 and summary["scheduler"] == "threads"
    assert summary["outputs"]["features"] == "features.zarr"
    assert (out / "k_scores.json").is_file()
    # an existing run is not overwritten without --force, the store included
    assert _run(photos, out, "--k", "3", "--scheduler", "threads") == 1
    assert "--force" in capsys.readouterr().err
    assert _run(photos, out, "--k", "3", "--scheduler", "threads", "--force") == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--features", "umap"], "--features 'umap' cannot run on Dask (with a scheduler)"),
        (["--features", "ae-umap"], "--features 'ae-umap' cannot run on Dask"),
        (["--scheduler", "nonsense"], "--scheduler 'nonsense' is not 'threads' nor a scheduler"),
    ],
)
def test_cli_errors(photos, tmp_path, capsys, extra, message):
    args = [
        "cluster",
        str(photos),
        "--k",
        "3",
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        "threads",
        *extra,
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
