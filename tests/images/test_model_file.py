"""The image model's file: model.kmk written by `cluster`, read by `predict`, no pickle."""

import csv
import json
import logging

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from conftest import write_levels
from kmeanskit import KMeans, ModelFileError
from kmeanskit.cli import main
from kmeanskit.images import ImageModel, ImageSpec, cluster_images, load_model, write_outputs
from kmeanskit.images.cnn import CNNEmbedding
from kmeanskit.images.model_file import load_image_model, save_image_model
from kmeanskit.model_io import UnsupportedModelError
from test_model_files import _set, rewrite


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels")
    write_levels(root, 18, (30, 128, 220), side=16, noise=8, seed=0)
    return root


@pytest.fixture(scope="module")
def svd_result(folder):
    return cluster_images(folder, k=3, features="svd", size=16, n_components=4)


@pytest.fixture()
def svd_file(svd_result, tmp_path):
    return save_image_model(svd_result.model, tmp_path / "model.kmk")


@pytest.mark.parametrize(
    ("features", "options"),
    [("svd", {"n_components": 4}), ("pixels", {}), ("hog", {}), ("color", {"mode": "rgb"})],
)
def test_round_trip_predicts_the_same(folder, tmp_path, features, options):
    result = cluster_images(folder, k=3, features=features, size=16, **options)
    model = load_image_model(save_image_model(result.model, tmp_path / "m.kmk"))
    labels, dist, kept, bad = model.predict(result.paths)
    assert_array_equal(labels, result.labels)
    # bit for bit, but for the PCA: its fitted components_ is a strided view, and the
    # contiguous copy that a file (or pickle) gives is multiplied in another order
    assert_allclose(dist, result.model.predict(result.paths)[1], rtol=1e-6, atol=1e-6)
    if features != "svd":
        assert_array_equal(dist, result.model.predict(result.paths)[1])
    assert model.settings_key() == result.model.settings_key()  # the same feature cache
    assert model.spec == result.model.spec and not bad and len(kept) == 18


#: the smallest bytes that look like an ONNX model: ir_version 8 and an empty graph
ONNX_BYTES = b"\x08\x08\x3a\x00"


def test_cnn_extractor_is_saved_as_its_settings(tmp_path, monkeypatch):
    """The CNN holds no fitted state: its settings, and a user's ONNX file by absolute
    path (its weights are not copied)."""
    onnx = tmp_path / "net.onnx"
    onnx.write_bytes(ONNX_BYTES)
    km = KMeans(2, random_state=0).fit(np.random.RandomState(0).rand(10, 7))
    model = ImageModel(
        ImageSpec(224, "rgb"),
        "cnn",
        CNNEmbedding(onnx_path=onnx.name, input_range=(0, 1), batch_size=8),
        None,
        km,
    )
    monkeypatch.chdir(tmp_path)  # a relative --onnx path
    path = save_image_model(model, tmp_path / "cnn.kmk")
    monkeypatch.undo()
    back = load_image_model(path).extractor
    assert back.get_params() == {
        "onnx_path": str(onnx),
        "input_range": (0.0, 1.0),
        "batch_size": 8,
        "runtime": "auto",
    }


@pytest.fixture()
def cnn_file(tmp_path):
    """A CNN image model file whose extractor names a user's ONNX file."""
    onnx = tmp_path / "net.onnx"
    onnx.write_bytes(ONNX_BYTES)
    km = KMeans(2, random_state=0).fit(np.random.RandomState(0).rand(10, 7))
    model = ImageModel(ImageSpec(224, "rgb"), "cnn", CNNEmbedding(onnx_path=onnx), None, km)
    return save_image_model(model, tmp_path / "cnn.kmk")


def test_a_model_files_onnx_path_must_be_an_onnx_model(cnn_file, tmp_path, capsys):
    """Issue 20: a model file whose onnx_path named any local file loaded, and predict
    then opened it and failed deep in onnxruntime: now only an absolute path of an
    existing regular .onnx file of sane size that looks like an ONNX protobuf loads."""
    (tmp_path / "text.onnx").write_text("hello, not a network\n")
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "folder.onnx").mkdir()
    (tmp_path / "cut.onnx").write_bytes(b"\x08\x08\x3a\x10" + bytes(4))  # graph cut short
    (tmp_path / "nograph.onnx").write_bytes(b"\x08\x08")
    cases = {
        "/etc/passwd": "does not end in .onnx",
        "net.onnx": "is not an absolute path",
        str(tmp_path / "missing.onnx"): "cannot be read",
        str(tmp_path / "folder.onnx"): "is not a regular file",
        str(tmp_path / "empty.onnx"): "is 0 bytes",
        str(tmp_path / "text.onnx"): "is not an ONNX model",
        str(tmp_path / "cut.onnx"): "is not an ONNX model",
        str(tmp_path / "nograph.onnx"): "is not an ONNX model",
    }
    for value, message in cases.items():
        bad = rewrite(
            cnn_file, tmp_path / "bad.kmk", _set("params/extractor/params/onnx_path", value)
        )
        with pytest.raises(ModelFileError, match=f"CNNEmbedding onnx_path .*{message}") as info:
            load_image_model(bad)
        assert "bad.kmk" in str(info.value) and "\n" not in str(info.value)
    picture = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(picture)
    assert main(["predict", str(bad), str(picture)]) == 1  # the last one: no graph
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.kmk" in err and "is not an ONNX model" in err
    assert load_image_model(cnn_file).extractor.onnx_path.endswith("net.onnx")


def test_a_bad_onnx_model_on_the_command_line_is_one_line(tmp_path, capsys):
    """Issue 20: ``--features cnn --onnx notamodel.onnx`` ended in onnxruntime's
    traceback; now one line naming --onnx and the file (before onnxruntime opens it)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(photos / f"{i}.png")
    (tmp_path / "notamodel.onnx").write_text("not a network")
    (tmp_path / "weights.bin").write_bytes(ONNX_BYTES)
    for name, message in [
        ("notamodel.onnx", "is not an ONNX model"),
        ("weights.bin", "does not end in .onnx"),
    ]:
        onnx = tmp_path / name
        argv = ["cluster", str(photos), "--features", "cnn", "--onnx", str(onnx), "--k", "2"]
        code = main([*argv, "--size", "8", "--out", str(tmp_path / "out"), "--no-cache"])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1, err
        assert f"--onnx {str(onnx)!r} {message}" in err, err
    with pytest.raises(ValueError, match=r"onnx_model='.*notamodel\.onnx' is not an ONNX"):
        CNNEmbedding(onnx_path=tmp_path / "notamodel.onnx").transform(np.zeros((1, 8, 8, 3)))


def test_onnxruntime_errors_on_a_user_model_are_one_line(tmp_path):
    """A file that looks like ONNX but that onnxruntime cannot load, or that cannot run
    on images: a ValueError naming onnx_model and the file, not onnxruntime's own class."""
    pytest.importorskip("onnxruntime")
    images = np.zeros((2, 8, 8, 3))
    (tmp_path / "empty.onnx").write_bytes(ONNX_BYTES)  # an empty graph
    with pytest.raises(ValueError, match=r"onnx_model='.*empty\.onnx': onnxruntime cannot load"):
        CNNEmbedding(onnx_path=tmp_path / "empty.onnx").transform(images)
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(  # rows of 5 numbers, not images
        [helper.make_node("Identity", ["x"], ["y"])],
        "rows",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "rows.onnx"))
    with pytest.raises(ValueError, match=r"onnx_model='.*rows\.onnx': running it on images"):
        CNNEmbedding(onnx_path=tmp_path / "rows.onnx").transform(images)


def test_cli_writes_model_kmk_and_predicts_from_it(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["cluster", str(folder), "--k", "3", "--size", "16", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["outputs"]["model"] == "model.kmk" and "model_joblib" not in summary["outputs"]
    assert (out / "model.kmk").is_file() and not (out / "model.joblib").exists()
    with open(out / "assignments.csv") as fh:
        rows = list(csv.DictReader(fh))
    capsys.readouterr()
    for model in (out, out / "model.kmk"):  # the run folder or the file
        assert main(["predict", str(model), *(r["path"] for r in rows), "--json"]) == 0
        preds = json.loads(capsys.readouterr().out)["predictions"]
        assert [p["cluster"] for p in preds] == [int(r["cluster"]) for r in rows]
    # --joblib: both files, the summary names both
    out2 = tmp_path / "out2"
    assert (
        main(["cluster", str(folder), "--k", "3", "--size", "16", "--joblib", "--out", str(out2)])
        == 0
    )
    summary = json.loads((out2 / "summary.json").read_text())
    assert summary["outputs"]["model"] == "model.kmk"
    assert summary["outputs"]["model_joblib"] == "model.joblib"
    assert (out2 / "model.joblib").is_file()


def test_models_a_file_cannot_hold_fall_back_to_joblib(svd_result, tmp_path, capsys, caplog):
    """A step the model file does not know (here a FunctionTransformer named umap, as
    umap-learn's own UMAP in a model of before) cannot be saved without pickle:
    model.joblib only, which `predict` loads when named explicitly (with a warning) and
    never from the run folder. (The umap features' own steps are saved: see
    test_model_every_features.py.)"""
    result = svd_result
    model = result.model
    model.embedder = Pipeline([("umap", FunctionTransformer())])  # stands in for UMAP
    try:
        with pytest.raises(UnsupportedModelError, match=r"umap \(FunctionTransformer\).*joblib"):
            save_image_model(model, tmp_path / "m.kmk")
        out = tmp_path / "out"
        with caplog.at_level(logging.WARNING):
            summary = write_outputs(result, out)
        assert "writing model.joblib only" in caplog.text
    finally:
        model.embedder = None
    assert summary["outputs"]["model"] == "model.joblib" and not (out / "model.kmk").exists()
    assert main(["predict", str(out), result.paths[0]]) == 1
    err = capsys.readouterr().err
    assert "only model.joblib" in err and "give that file's path" in err
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert main(["predict", str(out / "model.joblib"), result.paths[0], "--json"]) == 0
    assert "runs code when loaded" in caplog.text
    pred = json.loads(capsys.readouterr().out)["predictions"][0]
    assert pred["cluster"] == int(result.labels[0])
    # a re-run with --force that can save safely removes the stale joblib file
    write_outputs(result, out, force=True)
    assert (out / "model.kmk").is_file() and not (out / "model.joblib").exists()


def test_a_renamed_pickle_is_not_unpickled(svd_result, tmp_path):
    import joblib

    joblib.dump(svd_result.model, tmp_path / "model.kmk")
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(tmp_path / "model.kmk")
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("params/features", "umap"), r"'umap' features need the embedder steps \['umap'\]"),
        (_set("params/features", "pca"), "unknown features 'pca'"),
        (_set("params/features", "pixels"), "the 'pixels' features take no PCA reducer"),
        (_set("params/reducer", None), "the 'svd' features need a PCA reducer"),
        (_set("params/spec/size", [10**6, 16]), "spec size should be"),
        (_set("params/spec/mode", "cmyk"), "spec mode should be"),
        (_set("params/spec/size", [17, 16]), "expects rows of 256 features; the step before"),
        (_set("params/extractor/kind", "HOG"), "extractor should be Pixels; got 'HOG'"),
        (_set("params/extractor/params", {"x": 1}), r"unexpected \['x'\]"),
        (_set("params/kmeans/kind", "MiniBatchKMeans"), "unknown kind 'MiniBatchKMeans'"),
        # the k-means' centres declare 3 rows: refused before they are read
        (_set("params/kmeans/params/n_clusters", 4), "cluster_centers_.*dimension k should be 4"),
        (_set("params/reducer/attributes/n_components_", 5), "dimension c should be 5"),
        (_set("kind", "KMeans"), "not an image model"),
    ],
)
def test_tampered_image_models_are_refused(svd_file, tmp_path, edit, message):
    bad = rewrite(svd_file, tmp_path / "bad.kmk", edit)
    with pytest.raises(ModelFileError, match=message) as info:
        load_image_model(bad)
    assert "bad.kmk" in str(info.value)


def test_extractor_parameters_are_checked(folder, tmp_path):
    result = cluster_images(folder, k=2, features="hog", size=16)
    path = save_image_model(result.model, tmp_path / "hog.kmk")
    for key, value in [("pixels_per_cell", 0), ("orientations", "9"), ("cells_per_block", 99)]:
        edit = _set(f"params/extractor/params/{key}", value)
        with pytest.raises(ModelFileError, match=f"HOG parameter {key}="):
            load_image_model(rewrite(path, tmp_path / "bad.kmk", edit))
    edit = _set("params/extractor/params/pixels_per_cell", 16)
    with pytest.raises(ModelFileError, match="too small for HOG blocks"):
        load_image_model(rewrite(path, tmp_path / "bad.kmk", edit))


@pytest.mark.parametrize("fraction", [0.05, 0.4, 0.8, 0.999])
def test_truncated_image_model_is_refused(svd_file, tmp_path, fraction):
    data = svd_file.read_bytes()
    (tmp_path / "cut.kmk").write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelFileError, match=r"cut\.kmk"):
        load_model(tmp_path / "cut.kmk")


def test_pca_cache_is_a_model_file_and_a_damaged_one_is_refitted(folder, tmp_path, caplog):
    cache = tmp_path / "cache"
    first = cluster_images(folder, k=3, features="svd", size=16, n_components=4, cache=cache)
    (saved,) = cache.glob("pca-*.kmk")
    saved.write_bytes(saved.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        again = cluster_images(folder, k=3, features="svd", size=16, n_components=4, cache=cache)
    assert "fitting the PCA again" in caplog.text
    assert_array_equal(again.labels, first.labels)
    assert load_image_model(save_image_model(again.model, tmp_path / "m.kmk"))
