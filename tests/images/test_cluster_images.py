"""The folder-to-clusters path: library and command line, inputs never touched."""

import csv
import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
pytest.importorskip("joblib")
from PIL import Image, ImageDraw

from conftest import write_levels
from kmeanskit.choose_k import parse_k
from kmeanskit.cli import main
from kmeanskit.images import cluster_images, load_model
from kmeanskit.metrics import cluster_accuracy

SHAPES = ("dot", "bar", "ring")


def _draw(kind, rng):
    img = Image.new("L", (48, 48), 255)
    d = ImageDraw.Draw(img)
    x, y = rng.randint(8, 40, 2)
    if kind == "dot":
        d.ellipse([x - 6, y - 6, x + 6, y + 6], fill=0)
    elif kind == "bar":
        d.rectangle([2, 20, 46, 28], fill=0)
    else:
        d.ellipse([6, 6, 42, 42], outline=0, width=5)
    return img


@pytest.fixture(scope="session")
def huge_png(tmp_path_factory):
    """A PNG of 10,000 x 9,000 pixels (1 bit, a few kB): over the decompression limit."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("1", (10000, 9000), 1).save(path)
    return path.read_bytes()


@pytest.fixture()
def photos(tmp_path, huge_png):
    """30 pictures in three folders by shape, and four bad files."""
    rng = np.random.RandomState(0)
    root = tmp_path / "photos"
    for kind in SHAPES:
        (root / kind).mkdir(parents=True)
        for i in range(10):
            _draw(kind, rng).save(root / kind / f"{kind}{i}.png")
    (root / "dot" / "fake.png").write_text("this is text")
    (root / "bar" / "empty.jpg").write_bytes(b"")
    good = (root / "ring" / "ring0.png").read_bytes()
    (root / "ring" / "cut.png").write_bytes(good[: len(good) // 3])
    (root / "ring" / "huge.png").write_bytes(huge_png)
    return root


def _hashes(root):
    return {
        p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("features", ["pixels", "svd", "hog", "color"])
def test_cluster_images_finds_the_shapes(photos, features):
    result = cluster_images(photos, k=3, features=features, size=32, n_components=10)
    assert len(result.paths) == 30 and len(result.failures) == 4
    truth = [p.split("/")[-2] for p in result.paths]
    if features != "color":  # a colour histogram cannot see shape
        assert cluster_accuracy(truth, result.labels) == 1.0
    assert result.distances.shape == (30, 3)
    labels, _, _, bad = result.model.predict(result.paths[:4])
    assert (labels == result.labels[:4]).all() and not bad


def test_k_auto_and_ranges(tmp_path):
    write_levels(tmp_path, 45, (30, 128, 220), side=16, noise=8, seed=1)
    result = cluster_images(tmp_path, k="2:6", features="svd", size=16, n_components=5)
    assert result.k == 3 and result.choice.explanation.startswith("k=3 chosen: ")
    assert parse_k("auto", 100) == list(range(2, 51))
    with pytest.raises(ValueError, match="k must be an int, 'auto', 'A:B' or 'A:B:STEP'"):
        parse_k("many", 10)
    with pytest.raises(ValueError, match="between 1 and the number of rows"):
        parse_k(40, 30)


def test_cli_cluster_writes_everything_and_touches_nothing(photos, tmp_path, capsys):
    before = _hashes(photos)
    out = tmp_path / "out"
    code = main(
        [
            "cluster",
            str(photos),
            "--k",
            "3",
            "--features",
            "svd",
            "--size",
            "32",
            "--components",
            "10",
            "--labels-from",
            "parent",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "30 images in 3 clusters" in printed and "accuracy 1.000" in printed
    assert "4 files skipped" in printed
    assert _hashes(photos) == before  # every input byte-identical
    with open(out / "assignments.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and set(rows[0]) == {"path", "cluster", "distance", "rank", "label"}
    assert {r["label"] for r in rows} == set(SHAPES)
    assert (out / "map.npy").is_file()
    for j in range(3):
        members = [r for r in rows if r["cluster"] == str(j)]
        assert sorted(int(r["rank"]) for r in members) == list(range(1, len(members) + 1))
        assert len(list((out / f"cluster_{j:02d}").iterdir())) == len(members)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 3 and len(summary["failures"]) == 4
    reasons = " ".join(f["reason"] for f in summary["failures"])
    for why in ("empty file", "not an image", "cannot decode", "decompression bomb"):
        assert why in reasons
    assert summary["scores"]["accuracy"] == 1.0

    # predict on a training image gives the CSV's cluster
    first = rows[0]
    assert main(["predict", str(out / "model.kmk"), first["path"], "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)["predictions"][0]
    assert pred["cluster"] == int(first["cluster"])
    assert pred["distance"] == pytest.approx(float(first["distance"]), rel=1e-4, abs=1e-4)
    assert load_model(out).kmeans.n_clusters == 3

    # an existing output is never overwritten without --force
    assert main(["cluster", str(photos), "--k", "3", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "3",
                "--size",
                "32",
                "--out",
                str(out),
                "--force",
                "--link",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["n_images"] == 30
    feats = tmp_path / "f.npz"
    assert main(["features", str(photos), "--k", "2:3", "--size", "16", "--out", str(feats)]) == 0
    assert _hashes(photos) == before


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["cluster", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kmeanskit: error: no such file or folder") and err.count("\n") == 1
    assert main(["predict", str(tmp_path), "x.png"]) == 1
    assert "no model file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["cluster", str(tmp_path)])  # --out missing: usage error
    assert exc.value.code == 2


def test_cache_skips_decoding_and_resumes(photos, tmp_path, monkeypatch):
    from kmeanskit.images import pipeline

    cache = tmp_path / "cache"
    first = cluster_images(photos, k=3, features="svd", size=32, n_components=10, cache=cache)
    decoded = []
    real = pipeline.iter_decoded

    def counting(paths, *args, **kwargs):
        paths = list(paths)
        decoded.extend(paths)
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(pipeline, "iter_decoded", counting)
    again = cluster_images(photos, k=4, features="svd", size=32, n_components=10, cache=cache)
    # only the four bad files are tried again, and the first file found in the cache (its
    # row made again to check the cache against); the PCA comes from the cache too
    bad = ["cut.png", "empty.jpg", "fake.png", "huge.png"]
    assert str(decoded[0]) == str(again.paths[0]) and sorted(p.name for p in decoded[1:]) == bad
    assert again.paths == first.paths
    assert np.abs(again.features - first.features).max() < 1e-5
    # an interrupted run: only some batches were saved; the others are decoded again
    kw = {"k": 3, "features": "pixels", "size": 16, "batch_size": 8, "cache": cache}
    cluster_images(photos, **kw)
    batches = sorted(cache.rglob("batch-*.npz"))
    assert len(batches) >= 4  # pixels at 16: a new setting, saved 8 rows at a time
    for path in batches[:2]:
        path.unlink()
    decoded.clear()
    resumed = cluster_images(photos, **kw)
    assert 4 < len(decoded) < 34 and len(resumed.paths) == 30


def test_real_digits_written_as_png(shared_data, tmp_path, capsys):
    """A new user's run on real labelled pictures: MNIST test digits written out as PNG
    files in one folder per digit, clustered by one command."""
    import gzip

    root = shared_data / "mnist_test"
    with gzip.open(root / "t10k-images-idx3-ubyte.gz") as fh:
        X = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:400]
    with gzip.open(root / "t10k-labels-idx1-ubyte.gz") as fh:
        y = np.frombuffer(fh.read(), np.uint8, offset=8)[:400]
    photos = tmp_path / "digits"
    for i, (img, lab) in enumerate(zip(X, y, strict=True)):
        (photos / str(lab)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(photos / str(lab) / f"{i}.png")
    out = tmp_path / "out"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--k",
                "10",
                "--labels-from",
                "parent",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_images"] == 400 and summary["k"] == 10
    # the default features (the CNN's beside the pixels, then UMAP): 0.70 on these 400
    # (0.95 on all 10,000: UMAP needs more than 40 digits a class); k-means on the
    # pixels: about 0.55
    assert summary["features"] == "cnn-pixels-umap"
    assert summary["scores"]["accuracy"] > 0.62
    assert (out / "model.kmk").is_file() and len(list(out.glob("cluster_*"))) == 10


def test_out_is_checked_first_and_never_read_as_input(photos, capsys, monkeypatch):
    from kmeanskit.images import pipeline

    out = photos / "clusters"  # inside the photos folder
    args = ["cluster", str(photos), "--k", "3", "--size", "16", "--out", str(out)]
    assert main(args) == 0
    capsys.readouterr()
    called = []
    monkeypatch.setattr(pipeline, "extract_features", lambda *a, **k: called.append(1))
    assert main(args) == 1  # not empty: refused before any work
    assert not called and "--force" in capsys.readouterr().err
    monkeypatch.undo()
    assert main([*args, "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_images"] == 30  # its copies were not input
