"""Issue 21: every image pipeline saves model.kmk, which loads without pickle (and
without umap-learn or PyTorch) and predicts the training images as the run assigned
them; the arrays of the UMAP and autoencoder steps are declared and checked."""

import csv
import io
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

from kmeanskit import KMeans, ModelFileError
from kmeanskit.cli import main
from kmeanskit.images import ImageModel, ImageSpec, Pixels, cluster_images, load_model
from kmeanskit.images.model_file import load_image_model, save_image_model
from test_model_files import npy, read_parts, rewrite

#: --features -> the options of its run (small images where the recipe allows)
CASES = {
    "svd": ["--size", "16", "--components", "5"],
    "pixels": ["--size", "16"],
    "hog": ["--size", "16"],
    "color": ["--size", "16"],
    "umap": ["--size", "16", "--components", "5"],
    "cnn": [],  # EfficientNet-Lite0 at its 224 x 224
    "cnn-umap": [],
    "ae-umap": ["--size", "16"],  # N2D's autoencoder (500-500-2000-10), 60 epochs
    "cnn-pixels-umap": [],  # the default ('auto'): the CNN at 128 beside the pixels
}


#: --features -> the steps its model file holds after the extractor (and the PCA)
STEPS = {
    "umap": ["umap"],
    "cnn-umap": ["umap"],
    "ae-umap": ["autoencoder", "umap"],
    "cnn-pixels-umap": ["umap"],
}


def test_every_features_choice_is_a_case():
    from kmeanskit.images.recipes import FEATURES

    assert set(CASES) == set(FEATURES)


def _set(key, value):
    """An edit of model.json: ``value`` at the path ``key`` ('a/0/b': list indices
    as numbers)."""

    def edit(header):
        target = header
        *path, last = key.split("/")
        for part in path:
            target = target[int(part) if isinstance(target, list) else part]
        target[int(last) if isinstance(target, list) else last] = value

    return edit


def _needs(features: str) -> None:
    """Skip where an optional extra is missing (CI installs them all)."""
    if "umap" in features:
        pytest.importorskip("umap")
    if features.startswith("cnn"):
        pytest.importorskip("onnxruntime")
        pytest.importorskip("efficientnet_lite_pytorch")
    if features.startswith("ae"):
        pytest.importorskip("torch")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """40 RGB pictures of 32 x 32 in 4 visual groups (red, striped green, blue, a grey
    ramp), each with its own noise."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.RandomState(0)
    ramp = np.linspace(0, 255, 32)
    for i in range(40):
        group = i % 4
        base = np.zeros((32, 32, 3))
        if group == 3:
            base[:] = ramp[None, :, None]
        else:
            base[..., group] = 200
        if group == 1:
            base[::4] = 40
        pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{i:02d}.png")
    return root


def _refuse(*args, **kwargs):
    raise AssertionError("something was unpickled")


def _no_unpickling(monkeypatch, *, joblib_only=False) -> None:
    """Unpickling fails (joblib's always; pickle's too unless ``joblib_only``: numba
    reads its own cache of compiled kernels with pickle when k-means first runs)."""
    import joblib

    monkeypatch.setattr(joblib, "load", _refuse)
    if not joblib_only:
        for name in ("load", "loads", "Unpickler"):
            monkeypatch.setattr(pickle, name, _refuse)


#: loads a run's model in a Python where the modules of argv[1] (umap-learn, PyTorch)
#: cannot be imported and unpickling fails, then prints its clusters of the files given
BARE = """
import json, pickle, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in sys.argv[1].split(","):
            raise ImportError(f"{name} cannot be imported here")

sys.meta_path.insert(0, Blocked())
def refuse(*args, **kwargs):
    raise AssertionError("something was unpickled")
kept = pickle.load, pickle.loads, pickle.Unpickler
pickle.load = pickle.loads = pickle.Unpickler = refuse
from kmeanskit.images import load_model
model = load_model(sys.argv[2])
pickle.load, pickle.loads, pickle.Unpickler = kept  # numba's cache of its kernels
labels, _, kept, _ = model.predict(sys.argv[3:])
assert not set(sys.argv[1].split(",")) & set(sys.modules)
print(json.dumps([labels.tolist(), kept.tolist()]))
"""


@pytest.mark.parametrize("features", list(CASES))
def test_every_features_save_a_model_that_predicts_the_run(
    features, photos, tmp_path, monkeypatch, capsys
):
    _needs(features)
    out = tmp_path / "out"
    argv = ["cluster", str(photos), "--features", features, "--k", "4", "--no-cache"]
    assert main([*argv, *CASES[features], "--out", str(out), "--json"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["outputs"]["model"] == "model.kmk" and "model_joblib" not in summary["outputs"]
    assert not (out / "model.joblib").exists()
    header, _ = read_parts(out / "model.kmk")
    steps = header["params"].get("embedder")
    if features in STEPS:
        assert [step["name"] for step in steps] == STEPS[features]
    else:  # the files of the features without steps are those of before
        assert "embedder" not in header["params"]
    with open(out / "assignments.csv") as fh:
        rows = list(csv.DictReader(fh))
    paths = [r["path"] for r in rows]
    assigned = np.array([int(r["cluster"]) for r in rows])
    with monkeypatch.context() as patch:  # loading never unpickles
        _no_unpickling(patch)
        model = load_model(out)
    capsys.readouterr()
    _no_unpickling(monkeypatch, joblib_only=True)
    assert main(["predict", str(out), *paths, "--json"]) == 0
    preds = json.loads(capsys.readouterr().out)["predictions"]
    assert [p["path"] for p in preds] == paths
    labels = np.array([p["cluster"] for p in preds])
    agreement = float(np.mean(labels == assigned))
    assert agreement >= 0.99, f"{features}: predict agrees on {agreement:.1%}"
    _, dist, kept, bad = model.predict(paths)
    own = dist[np.arange(len(paths)), labels]
    same = labels == assigned
    csv_dist = np.array([float(r["distance"]) for r in rows])
    assert_allclose(own[same], csv_dist[same], rtol=1e-4, atol=1e-5)
    assert_array_equal(kept, np.arange(len(paths))) and not bad
    monkeypatch.undo()
    if steps:  # the steps' arrays are used by numpy alone
        blocked = "umap" if features.startswith("cnn") else "umap,torch"  # the CNN's check
        done = subprocess.run(
            [sys.executable, "-c", BARE, blocked, str(out), *paths[:8]],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        labels8, kept8 = json.loads(done.stdout)
        assert kept8 == list(range(8)) and labels8 == assigned[:8].tolist()


@pytest.fixture(scope="module")
def umap_result(photos):
    pytest.importorskip("umap")
    return cluster_images(photos, k=4, features="umap", size=16, n_components=5)


@pytest.fixture()
def umap_file(umap_result, tmp_path):
    return save_image_model(umap_result.model, tmp_path / "umap.kmk")


@pytest.fixture(scope="module")
def ae_model(photos):
    """An 'ae-umap' model with a small autoencoder (the recipe's is large, slow to train)."""
    pytest.importorskip("torch")
    pytest.importorskip("umap")
    from sklearn.pipeline import Pipeline

    from kmeanskit.images.autoencoder import Autoencoder
    from kmeanskit.images.pipeline import _fit_umap

    spec = ImageSpec(8)
    model = ImageModel(spec, "ae-umap", Pixels(), None, KMeans(1))
    rows, _, _ = model.transform_paths(sorted(photos.glob("*.png")))
    ae = Autoencoder(n_components=3, hidden=(8, 6), epochs=3, batch_size=16)
    codes = ae.fit_transform(rows)
    umap, embedding = _fit_umap(codes, 0)
    model.kmeans = KMeans(4, random_state=0).fit(embedding)
    model.embedder = Pipeline([("autoencoder", ae), ("umap", umap)])
    return model


@pytest.fixture()
def ae_file(ae_model, tmp_path):
    return save_image_model(ae_model, tmp_path / "ae.kmk")


def test_the_steps_round_trip_exactly(umap_result, umap_file, ae_model, ae_file, photos):
    model = load_image_model(umap_file)
    paths = umap_result.paths
    labels, dist, _, _ = model.predict(paths)
    assert_array_equal(labels, umap_result.labels)
    assert_allclose(dist, umap_result.distances, rtol=1e-5, atol=1e-5)
    (_, umap), (_, fitted) = model.embedder.steps[0], umap_result.model.embedder.steps[0]
    assert_array_equal(umap.train_rows_, fitted.train_rows_)
    assert_array_equal(umap.embedding_, fitted.embedding_)
    assert umap.get_params() == fitted.get_params()
    back = load_image_model(ae_file)
    paths = sorted(str(p) for p in photos.glob("*.png"))
    assert_array_equal(back.predict(paths)[1], ae_model.predict(paths)[1])
    (_, ae), (_, ae0) = back.embedder.steps[0], ae_model.embedder.steps[0]
    assert ae.get_params() == ae0.get_params() and ae.hidden == (8, 6)
    for w, w0 in zip(ae.weights_ + ae.biases_, ae0.weights_ + ae0.biases_, strict=True):
        assert_array_equal(w, w0)


def test_the_autoencoders_numpy_forward_pass_is_torchs():
    torch = pytest.importorskip("torch")
    from kmeanskit.images.autoencoder import Autoencoder

    X = np.random.RandomState(0).rand(300, 40).astype(np.float32)
    ae = Autoencoder(n_components=4, hidden=(32, 16), epochs=2, batch_size=64).fit(X)
    layers = []
    for w, b in zip(ae.weights_, ae.biases_, strict=True):
        layer = torch.nn.Linear(w.shape[1], w.shape[0])
        layer.weight.data, layer.bias.data = torch.from_numpy(w), torch.from_numpy(b)
        layers += [layer, torch.nn.ReLU()]
    with torch.no_grad():
        want = torch.nn.Sequential(*layers[:-1])(torch.from_numpy(X)).numpy()
    got = ae.transform(X)
    assert got.dtype == np.float32 and got.shape == (300, 4)
    assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    # an Autoencoder pickled before the arrays existed still runs its torch encoder_
    old = Autoencoder(n_components=4, hidden=(32, 16))
    old.encoder_, old.n_features_in_ = torch.nn.Sequential(*layers[:-1]), 40
    assert_allclose(old.transform(X), want, rtol=1e-6)


def test_the_umap_step_places_new_rows_from_their_neighbours(monkeypatch):
    pytest.importorskip("umap")
    from kmeanskit.images import umap_embed

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(c, 1, (60, 12)) for c in (0, 6, 12)]).astype(np.float32)
    step = umap_embed.UMAPEmbedding(n_components=2, random_state=0)
    embedding = step.fit_transform(X)
    assert_array_equal(step.transform(X), embedding)  # a training row: its own place
    assert_array_equal(step.transform(X + 1e-6 * np.abs(X).max()), embedding)  # f32 noise
    new = X + rng.normal(0, 0.3, X.shape).astype(np.float32)
    placed = step.transform(new)
    nearest = ((placed[:, None] - embedding[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.mean(nearest // 60 == np.arange(180) // 60) == 1.0  # in its source's group
    monkeypatch.setattr(umap_embed, "_BLOCK", 300)  # a block of a row or two
    assert_allclose(step.transform(new), placed, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="X has 5 features, but the UMAP was fitted on 12"):
        step.transform(X[:, :5])
    tiny = umap_embed.UMAPEmbedding(random_state=0).fit(X[:5])  # clipped as before
    assert (tiny.n_neighbors_, tiny.n_components_) == (4, 3)


def _one_line(path, message, tmp_path, capsys, photos):
    with pytest.raises(ModelFileError, match=message) as info:
        load_image_model(path)
    text = str(info.value)
    assert path.name in text and "\n" not in text, text
    assert main(["predict", str(path), str(photos / "00.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and path.name in err, err


def _emb(path, key):
    return read_parts(path)[1][key]


UMAP_DAMAGE = [
    # the embedding cut by a row, flattened, another dtype, a NaN
    ("embedding", lambda a: a[:-1], r"'embedder\.umap\.embedding'.*dimension n should be 40"),
    ("embedding", lambda a: a.ravel(), r"'embedder\.umap\.embedding'.*expected 2 dimensions"),
    ("embedding", lambda a: a.reshape(20, -1), r"'embedder\.umap\.embedding'.*should be"),
    ("embedding", lambda a: a.astype(np.float64), r"'embedder\.umap\.embedding'.*float32"),
    ("train_rows", lambda a: np.where(a == a.max(), np.nan, a), "NaN or infinite"),
    ("train_rows", lambda a: a[:, :4], r"'embedder\.umap\.train_rows'.*dimension d should be 5"),
]


@pytest.mark.parametrize(("array", "change", "message"), UMAP_DAMAGE)
def test_a_damaged_umap_array_is_one_line(
    umap_file, tmp_path, capsys, photos, array, change, message
):
    key = f"embedder.umap.{array}"
    arr = np.load(io.BytesIO(_emb(umap_file, key)))
    bad = rewrite(umap_file, tmp_path / "bad.kmk", arrays={key: npy(change(arr))})
    _one_line(bad, message, tmp_path, capsys, photos)


def test_a_truncated_umap_array_is_one_line(umap_file, tmp_path, capsys, photos):
    key = "embedder.umap.embedding"
    data = _emb(umap_file, key)
    bad = rewrite(umap_file, tmp_path / "bad.kmk", arrays={key: data[:-12]})
    _one_line(bad, r"'embedder\.umap\.embedding'.*the file holds", tmp_path, capsys, photos)
    cut = tmp_path / "cut.kmk"
    whole = umap_file.read_bytes()
    for fraction in (0.3, 0.7, 0.95):
        cut.write_bytes(whole[: int(len(whole) * fraction)])
        with pytest.raises(ModelFileError, match=r"cut\.kmk"):
            load_image_model(cut)


STEP = "params/embedder/0"
UMAP_EDITS = [
    # declared sizes that the arrays do not have: refused before they are read
    (_set(f"{STEP}/attributes/n_train_", 10**9), "dimension n should be 1000000000"),
    (_set(f"{STEP}/attributes/n_components_", 3), "dimension c should be 3"),
    (_set(f"{STEP}/attributes/n_features_in_", 6), "dimension d should be 6"),
    (_set(f"{STEP}/attributes/n_neighbors_", 41), "n_neighbors_=41 should be at most n_train_"),
    (_set(f"{STEP}/attributes/n_neighbors_", 0), "n_neighbors_ should be int>=1"),
    (_set(f"{STEP}/kind", "UMAP"), "the umap step should be UMAPEmbedding; got 'UMAP'"),
    (_set(f"{STEP}/name", "pickle"), r"need the embedder steps \['umap'\]; got \['pickle'\]"),
    (_set(f"{STEP}/params/random_state", "x"), "UMAPEmbedding parameter random_state="),
    (_set(f"{STEP}/params/min_dist", -1.0), "UMAPEmbedding parameter min_dist="),
    (_set(f"{STEP}/params/extra", 1), r"UMAPEmbedding params keys: .*unexpected \['extra'\]"),
    (_set("params/embedder", None), r"need the embedder steps \['umap'\]; got \[\]"),
    (_set("params/embedder", {"name": "umap"}), "embedder should be a list"),
    (_set("params/features", "svd"), r"the 'svd' features need the embedder steps \[\]"),
    (_set("params/features", "ae-umap"), "features take no PCA reducer"),
]


@pytest.mark.parametrize(("edit", "message"), UMAP_EDITS)
def test_a_tampered_umap_step_is_refused(umap_file, tmp_path, edit, message):
    bad = rewrite(umap_file, tmp_path / "bad.kmk", edit)
    with pytest.raises(ModelFileError, match=message) as info:
        load_image_model(bad)
    assert "bad.kmk" in str(info.value) and "\n" not in str(info.value)


AE = "params/embedder/0"
AE_EDITS = [
    (_set(f"{AE}/params/hidden", [8, 7]), r"(biases|weights)\.1'.*dimension l2 should be 7"),
    (_set(f"{AE}/params/hidden", [8]), r"(biases|weights)\.1'.*dimension l2 should be 3"),
    (_set(f"{AE}/params/hidden", [8] * 17), r"Autoencoder parameter hidden=\[8, .* out of range"),
    (_set(f"{AE}/params/hidden", [8, "6"]), "hidden should be at most 16 layer sizes"),
    (_set(f"{AE}/params/device", "gpu"), "device='gpu' is not auto, cpu or cuda"),
    (_set(f"{AE}/params/n_components", 4), r"(biases|weights)\.2'.*dimension l3 should be 4"),
    (_set(f"{AE}/attributes/n_features_in_", 100), r"weights\.0'.*dimension l0 should be 100"),
    (_set(f"{AE}/kind", "Sequential"), "the autoencoder step should be Autoencoder"),
    (_set("params/spec/size", [9, 8]), "the Autoencoder expects rows of 64 features; the step"),
]


@pytest.mark.parametrize(("edit", "message"), AE_EDITS)
def test_a_tampered_autoencoder_is_refused(ae_file, tmp_path, edit, message):
    bad = rewrite(ae_file, tmp_path / "bad.kmk", edit)
    with pytest.raises(ModelFileError, match=message) as info:
        load_image_model(bad)
    assert "bad.kmk" in str(info.value) and "\n" not in str(info.value)


def test_damaged_autoencoder_arrays_are_one_line(ae_file, tmp_path, capsys, photos):
    parts = read_parts(ae_file)[1]
    w0 = np.load(io.BytesIO(parts["embedder.autoencoder.weights.0"]))
    b1 = np.load(io.BytesIO(parts["embedder.autoencoder.biases.1"]))
    cases = [
        ({"embedder.autoencoder.weights.0": npy(w0.T)}, "dimension l1 should be 8"),
        ({"embedder.autoencoder.biases.1": npy(b1 * np.inf)}, "NaN or infinite"),
        ({"embedder.autoencoder.biases.1": npy(b1.astype(np.float16))}, "float16"),
        ({"embedder.autoencoder.weights.0": parts["embedder.autoencoder.weights.0"][:-4]}, ""),
    ]
    for arrays, message in cases:
        bad = rewrite(ae_file, tmp_path / "bad.kmk", arrays=arrays)
        _one_line(
            bad,
            r"embedder\.autoencoder\.(weights\.0|biases\.1).*" + message,
            tmp_path,
            capsys,
            photos,
        )
    # an array the description does not name
    header, _ = read_parts(ae_file)
    edit = _set("arrays", [*header["arrays"], "embedder.autoencoder.weights.9"])
    bad = rewrite(ae_file, tmp_path / "bad.kmk", edit, {"embedder.autoencoder.weights.9": npy(w0)})
    with pytest.raises(ModelFileError, match=r"unexpected arrays \['embedder\.autoencoder"):
        load_image_model(bad)


def test_steps_a_model_file_cannot_hold_fall_back_to_joblib(umap_result, tmp_path):
    """A step that is not kmeanskit's (a FunctionTransformer standing in for umap-learn's
    own UMAP, as in a model.joblib of before) is refused when
    saved; the run writes model.joblib, as before."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from kmeanskit.images import write_outputs
    from kmeanskit.model_io import UnsupportedModelError

    model = umap_result.model
    kept = model.embedder
    try:
        model.embedder = Pipeline([("umap", FunctionTransformer())])
        with pytest.raises(UnsupportedModelError, match="umap step is a FunctionTransformer"):
            save_image_model(model, tmp_path / "m.kmk")
        summary = write_outputs(umap_result, tmp_path / "out")
    finally:
        model.embedder = kept
    assert summary["outputs"]["model"] == "model.joblib"
    assert not (tmp_path / "out" / "model.kmk").exists()
