"""The pretrained CNN embedding and the UMAP features (the 'cnn' and 'umap' extras)."""

import pickle

import numpy as np
import pytest

pytest.importorskip("onnxruntime")  # the 'cnn' extra; installed in CI
pytest.importorskip("efficientnet_lite_pytorch")
from PIL import Image
from sklearn.datasets import load_sample_images

from conftest import write_levels
from kmeanskit.cli import main
from kmeanskit.images.cache import default_cache_dir
from kmeanskit.images.cnn import CNNEmbedding


@pytest.fixture(scope="module")
def pictures():
    imgs = [
        np.asarray(Image.fromarray(im).resize((224, 224))) / 255.0
        for im in load_sample_images().images
    ]
    return np.stack([*imgs, imgs[0][:, ::-1]]).astype(np.float32)


def test_onnx_and_torch_agree_and_a_user_model_works(pictures):
    onnx = CNNEmbedding()
    rows = onnx.transform(pictures)
    assert rows.shape == (3, 1280) and np.isfinite(rows).all()
    torch_rows = CNNEmbedding(runtime="torch").transform(pictures[:1])
    assert np.allclose(torch_rows, rows[:1], atol=1e-3)
    # the flipped picture is nearer its original than the other photo
    d = ((rows[:, None] - rows[None]) ** 2).sum(axis=2)
    assert d[0, 2] < d[0, 1]
    exported = next((default_cache_dir() / "models").glob("*.onnx"))
    user = CNNEmbedding(onnx_path=exported).transform(pictures[:1])
    assert np.allclose(user, rows[:1], atol=1e-5)
    again = pickle.loads(pickle.dumps(onnx))  # the model file pickles it: no session inside
    assert np.allclose(again.transform(pictures[:1]), rows[:1], atol=1e-5)
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        CNNEmbedding(onnx_path="missing.onnx").transform(pictures[:1])


def test_umap_features_cluster_and_predict(tmp_path):
    pytest.importorskip("umap")
    from kmeanskit.images import cluster_images

    write_levels(tmp_path, 36, (30, 128, 220), side=12, noise=6, seed=0)
    result = cluster_images(tmp_path, k=3, features="umap", size=12, n_components=5)
    assert result.features.shape == (36, 10)
    truth = [int(p.split("/")[-1][:-4]) % 3 for p in result.paths]
    from kmeanskit.metrics import cluster_accuracy

    assert cluster_accuracy(truth, result.labels) == 1.0
    labels, _, _, _ = result.model.predict(result.paths[:6])
    assert (labels == result.labels[:6]).all()


def test_autoencoder_learns_and_checks_its_input():
    from kmeanskit.images.autoencoder import Autoencoder

    rng = np.random.RandomState(0)
    codes = rng.normal(size=(256, 2))
    X = np.tanh(codes @ rng.normal(size=(2, 30))).astype(np.float32)  # 2-d structure
    ae = Autoencoder(n_components=2, hidden=(32,), epochs=40, batch_size=32).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0] / 4
    assert ae.transform(X).shape == (256, 2)
    again = Autoencoder(n_components=2, hidden=(32,), epochs=40, batch_size=32).fit(X)
    assert np.allclose(again.transform(X), ae.transform(X))  # repeatable
    with pytest.raises(ValueError, match="X has 5 features"):
        ae.transform(X[:, :5])
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        Autoencoder(epochs=0).fit(X)


def test_ae_umap_pipeline_predicts(tmp_path):
    pytest.importorskip("umap")
    from kmeanskit.images import cluster_images

    write_levels(tmp_path, 30, (40, 210), side=8, noise=6, seed=2)
    result = cluster_images(tmp_path, k=2, features="ae-umap", size=8)
    labels, _, _, _ = result.model.predict(result.paths[:4])
    assert (labels == result.labels[:4]).all()
    assert [name for name, _ in result.model.embedder.steps] == ["autoencoder", "umap"]


def test_a_user_onnx_model_on_the_command_line(tmp_path, capsys):
    """Any ONNX network works: here a one-node graph (global average pooling)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["x"], ["y"])],
        "mean-colour",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, 1, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "mean.onnx"
    onnx.save(model, str(path))
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):
        Image.new("RGB", (20, 20), ((250, 10, 10), (10, 10, 250))[i % 2]).save(photos / f"{i}.png")
    out = tmp_path / "out"
    assert (
        main(
            [
                "cluster",
                str(photos),
                "--features",
                "cnn",
                "--onnx",
                str(path),
                "--k",
                "2",
                "--size",
                "8",
                "--out",
                str(out),
                "--json",
                "--no-cache",
            ]
        )
        == 0
    )
    import json

    sizes = json.loads(capsys.readouterr().out)["cluster_sizes"]
    assert sorted(sizes) == [4, 4]
    with pytest.raises(ValueError, match="onnx_model is for the cnn features"):
        from kmeanskit.images import cluster_images

        cluster_images(photos, k=2, features="svd", onnx_model=path)
