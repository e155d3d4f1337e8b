"""The extractor registry: a new extractor is one class and one registry line (plus a
recipe to offer it as features), and clusters, saves, loads and predicts like the others."""

import json
import re
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from numpy.testing import assert_array_equal

from conftest import write_levels
from kmeanskit import KMeans, ModelFileError
from kmeanskit._model_zip import read
from kmeanskit.cli import main
from kmeanskit.images import ImageModel, ImageSpec, cluster_images
from kmeanskit.images.cnn import CNNEmbedding
from kmeanskit.images.extractors import EXTRACTORS, by_kind, register, registered
from kmeanskit.images.features import HOG, ColorHistogram, Extractor, Pixels, as_images
from kmeanskit.images.model_file import load_image_model, save_image_model
from kmeanskit.images.pipeline import FEATURES, Recipe
from kmeanskit.metrics import cluster_accuracy
from kmeanskit.model_io import UnsupportedModelError
from test_model_files import _set, rewrite


# ---- what a developer writes: one class ...
class Toy(Extractor):
    """Mean brightness, then the means of ``bands`` horizontal and vertical bands."""

    name = "toy"
    param_schema: ClassVar[dict] = {"bands": (int, 1, 8)}

    def __init__(self, bands=2):
        self.bands = bands

    def width(self, spec):
        return 1 + 2 * self.bands

    def transform(self, X):
        X = as_images(X)
        X = X.mean(axis=-1) if X.ndim == 4 else X
        rows = [b.mean(axis=(1, 2)) for b in np.array_split(X, self.bands, axis=1)]
        cols = [b.mean(axis=(1, 2)) for b in np.array_split(X, self.bands, axis=2)]
        return np.column_stack([X.mean(axis=(1, 2)), *rows, *cols]).astype(np.float32)


@pytest.fixture()
def toy(monkeypatch):
    # ... one registry line (here for the test only), and a recipe for features="toy"
    with registered(Toy):
        monkeypatch.setitem(FEATURES, "toy", Recipe("toy", size=8))
        yield Toy


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_levels(tmp_path_factory.mktemp("levels"), 12, (30, 220), side=16, noise=8, seed=0)


def _extractor_entry(path):
    return read(path)[0]["params"]["extractor"]


def test_a_new_extractor_clusters_saves_loads_and_predicts(toy, folder, tmp_path):
    result = cluster_images(folder, k=2, features="toy")
    assert result.features.shape == (12, 5) and result.model.spec.size == (8, 8)
    truth = [int(p.split("/")[-1][:-4]) % 2 for p in result.paths]
    assert cluster_accuracy(truth, result.labels) == 1.0
    path = save_image_model(result.model, tmp_path / "toy.kmk")
    assert _extractor_entry(path) == {"kind": "Toy", "params": {"bands": 2}}
    model = load_image_model(path)
    assert type(model.extractor) is Toy and model.extractor.get_params() == {"bands": 2}
    labels, dist, kept, bad = model.predict(result.paths)
    assert_array_equal(labels, result.labels)
    assert_array_equal(dist, result.model.predict(result.paths)[1])
    assert model.settings_key() == result.model.settings_key() and not bad and len(kept) == 12
    with pytest.raises(ValueError, match="onnx_model is for the cnn features"):
        cluster_images(folder, k=2, features="toy", onnx_model=tmp_path / "net.onnx")


def test_a_new_extractor_on_the_command_line(toy, folder, tmp_path, capsys):
    """`--features toy` is offered, and the run writes model.kmk, which predicts: not
    model.joblib alone, as an extractor the model file did not know about did."""
    out = tmp_path / "out"
    assert main(["cluster", str(folder), "--features", "toy", "--k", "2", "--out", str(out)]) == 0
    assert (out / "model.kmk").is_file() and not (out / "model.joblib").exists()
    capsys.readouterr()
    first = str(folder / "0.png")
    assert main(["predict", str(out), first, "--json"]) == 0
    (pred,) = json.loads(capsys.readouterr().out)["predictions"]
    assert pred["path"] == first and pred["cluster"] in (0, 1)


def test_its_parameters_in_a_file_are_checked_against_its_schema(toy, folder, tmp_path):
    result = cluster_images(folder, k=2, features="toy")
    path = save_image_model(result.model, tmp_path / "toy.kmk")
    for value in (0, 9, "2", True, 2.0, None):
        bad = rewrite(path, tmp_path / "bad.kmk", _set("params/extractor/params/bands", value))
        with pytest.raises(ModelFileError, match=r"bad\.kmk.*Toy parameter bands="):
            load_image_model(bad)
    edits = [
        (_set("params/extractor/params", {}), r"Toy params keys: missing \['bands'\]"),
        (_set("params/extractor/kind", "Pixels"), "extractor should be Toy; got 'Pixels'"),
        (
            _set("params/extractor/params/bands", 3),
            "expects rows of 5 features; the step before it gives 7",
        ),
    ]
    for edit, message in edits:
        with pytest.raises(ModelFileError, match=message):
            load_image_model(rewrite(path, tmp_path / "bad.kmk", edit))


def test_a_model_file_refuses_at_save_what_it_could_not_load(tmp_path, monkeypatch):
    km = KMeans(2, random_state=0).fit(np.random.RandomState(0).rand(10, 5))
    spec = ImageSpec(8)
    monkeypatch.setitem(FEATURES, "toy", Recipe("toy", size=8))
    # not registered (the toy outside its `with registered`, a subclass of a known one)
    for extractor, features in [(Toy(), "toy"), (type("MyPixels", (Pixels,), {})(), "pixels")]:
        with pytest.raises(UnsupportedModelError, match="is not registered"):
            save_image_model(ImageModel(spec, features, extractor, None, km), tmp_path / "m.kmk")
    assert not (tmp_path / "m.kmk").exists()
    with registered(Toy):
        with pytest.raises(UnsupportedModelError, match="Toy parameter bands=99"):
            save_image_model(ImageModel(spec, "toy", Toy(bands=99), None, km), tmp_path / "m")
        # a registered extractor, but no recipe of FEATURES made of it
        with pytest.raises(UnsupportedModelError, match="not a recipe of FEATURES"):
            save_image_model(ImageModel(spec, "pixels", Toy(), None, km), tmp_path / "m.kmk")
        with pytest.raises(UnsupportedModelError, match="not a recipe of FEATURES"):
            save_image_model(
                ImageModel(spec, "cnn-umap", CNNEmbedding(), None, km), tmp_path / "m.kmk"
            )
    cnn = ImageModel(spec, "cnn", CNNEmbedding(input_range=(1, 0)), None, km)
    with pytest.raises(UnsupportedModelError, match="CNNEmbedding's input_range"):
        save_image_model(cnn, tmp_path / "m.kmk")
    assert not (tmp_path / "m.kmk").exists() and "toy" not in EXTRACTORS


def test_register_refuses_an_incomplete_or_clashing_class():
    def make(name="t2", schema=None, width=True, base=Extractor, cls_name="T2"):
        body = {
            "name": name,
            "param_schema": {"bands": (int, 1, 8)} if schema is None else schema,
            "__init__": Toy.__init__,
        }
        if width:
            body["width"] = Toy.width
        return type(cls_name, (base,), body)

    cases = [
        (make(name=""), TypeError, "declares no registry name"),
        (make(width=False), TypeError, r"declares no width\(spec\)"),
        (make(schema={}), TypeError, "should name every __init__ parameter"),
        (make(schema={"bands": (complex, 1, 8)}), TypeError, r"\(type, low, high\)"),
        (make(schema={"bands": (int, 1)}), TypeError, r"\(type, low, high\)"),
        (make(name="hog"), ValueError, "'hog' is taken by HOG"),
        (make(cls_name="Pixels"), ValueError, "another extractor class is named Pixels"),
        (object, TypeError, "must be a subclass of Extractor"),
    ]
    before = dict(EXTRACTORS)
    for cls, error, message in cases:
        with pytest.raises(error, match=message):
            register(cls)
    assert EXTRACTORS == before
    register(HOG)  # again: nothing changes
    assert EXTRACTORS == before


def test_every_recipe_names_a_registered_extractor():
    assert set(EXTRACTORS) == {"pixels", "hog", "color", "cnn", "cnn-pixels"}
    for name, recipe in FEATURES.items():
        assert recipe.extractor in EXTRACTORS, name
    for name, cls in EXTRACTORS.items():
        assert cls.name == name and by_kind(cls.__name__) is cls


# the model file's extractor entries, as every kmeanskit version has written them
OLD_ENTRIES = {
    "pixels": {"kind": "Pixels", "params": {}},
    "hog": {
        "kind": "HOG",
        "params": {"orientations": 9, "pixels_per_cell": 8, "cells_per_block": 2},
    },
    "color": {"kind": "ColorHistogram", "params": {"bins": 8}},
    "cnn": {
        "kind": "CNNEmbedding",
        "params": {
            "onnx_path": None,
            "input_range": [-1.0, 1.0],
            "batch_size": 32,
            "runtime": "auto",
        },
    },
    "cnn-pixels": {
        "kind": "CNNPixels",
        "params": {
            "onnx_path": None,
            "input_range": [-1.0, 1.0],
            "batch_size": 32,
            "runtime": "auto",
            "pixel_size": 32,
        },
    },
}


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_every_registered_extractor_round_trips_through_a_model_file(name, tmp_path):
    cls = EXTRACTORS[name]
    plain = [f for f, r in FEATURES.items() if r.extractor == name]
    plain.sort(key=lambda f: FEATURES[f].pca or FEATURES[f].umap or FEATURES[f].autoencoder)
    features = plain[0]  # a recipe without steps where there is one
    recipe = FEATURES[features]
    spec = ImageSpec(recipe.size, recipe.mode)
    extractor = cls()
    width = extractor.width(spec) or 7  # the CNN's: known only by running it
    rows = np.random.RandomState(0).rand(20, width)
    reducer = embedder = None
    if recipe.pca:  # the steps of the recipe, fitted on random rows
        from sklearn.decomposition import PCA

        reducer = PCA(3, random_state=0).fit(rows)
        rows = reducer.transform(rows)
    if recipe.umap:
        from sklearn.pipeline import Pipeline

        from kmeanskit.images.umap_embed import UMAPEmbedding

        umap_step = UMAPEmbedding(n_neighbors=5, n_components=2, random_state=0)
        rows = umap_step.fit_transform(rows)
        embedder = Pipeline([("umap", umap_step)])
    km = KMeans(2, random_state=0).fit(rows)
    model = ImageModel(spec, features, extractor, reducer, km, embedder)
    path = save_image_model(model, tmp_path / f"{name}.kmk")
    assert _extractor_entry(path) == OLD_ENTRIES[name]  # the file format is unchanged
    back = load_image_model(path)
    assert type(back.extractor) is cls
    assert back.extractor.get_params() == extractor.get_params()
    assert back.settings_key() == model.settings_key()
    rows = np.random.RandomState(1).rand(3, km.n_features_in_)
    assert_array_equal(back.kmeans.predict(rows), km.predict(rows))


WIDTH_CASES = [cls() for cls in EXTRACTORS.values()] + [
    HOG(pixels_per_cell=4, cells_per_block=1),
    HOG(orientations=4, pixels_per_cell=2),
    HOG(pixels_per_cell=3),
    ColorHistogram(bins=3),
    Toy(),
    Toy(bands=3),
]


@pytest.mark.parametrize("mode", ["grey", "rgb"])
@pytest.mark.parametrize("extractor", WIDTH_CASES, ids=repr)
def test_declared_width_is_the_row_length(extractor, mode):
    if isinstance(extractor, CNNEmbedding):  # known only by running the network
        assert extractor.width(ImageSpec(8, mode)) is None
        return
    spec = ImageSpec(8, mode)
    images = np.random.RandomState(0).rand(2, *spec.shape)
    try:
        width = extractor.width(spec)
    except ValueError as exc:  # as HOG's blocks larger than the image: so does transform
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            extractor.transform(images)
        return
    assert extractor.transform(images).shape == (2, width)


def test_importing_the_registry_loads_no_network_runtime():
    code = (
        "import sys, kmeanskit.images.extractors, kmeanskit.images.model_file; "
        "print(sorted({'torch', 'onnxruntime', 'umap'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
