"""The default image features (issue 21): 'auto' runs the CNN's features beside the
pixels, then UMAP, and says what it falls back to when an extra is missing; the block
PCA weighs the two parts as declared."""

import importlib.util
import logging
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI

from kmeanskit.images import pipeline
from kmeanskit.images.cnn_pixels import PIXEL_WEIGHT, CNNPixels, grey_thumbnails
from kmeanskit.images.recipes import FEATURES, resolve_features


def test_auto_is_the_cnn_beside_the_pixels_then_umap():
    assert resolve_features("auto") == "cnn-pixels-umap"  # every extra is installed in CI
    recipe = FEATURES["cnn-pixels-umap"]
    assert recipe.extractor == "cnn-pixels" and recipe.pca and recipe.umap


@pytest.mark.parametrize(
    "missing,expected",
    [("efficientnet_lite_pytorch", "umap"), ("torch", "umap"), ("umap", "svd")],
)
def test_auto_falls_back_with_a_warning_naming_what_to_install(
    monkeypatch, caplog, missing, expected
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a)
    )
    with caplog.at_level(logging.WARNING, logger="kmeanskit"):
        assert resolve_features("auto") == expected
    (message,) = [r.getMessage() for r in caplog.records]
    assert missing in message and "pip install 'kmeanskit[cnn,umap]'" in message


def test_an_unknown_features_name_is_one_line_naming_the_choices():
    with pytest.raises(ValueError, match=r"features must be 'auto' or one of .*got features='x'"):
        resolve_features("x")


def test_grey_thumbnails_are_area_means_like_pillows_box_filter():
    from PIL import Image

    rng = np.random.RandomState(0)
    rgb = rng.rand(2, 64, 48, 3).astype(np.float32)
    ours = grey_thumbnails(rgb, 16).reshape(2, 16, 16)
    for img, small in zip(rgb, ours, strict=True):
        grey = img @ np.array([0.299, 0.587, 0.114], np.float32)
        box = Image.fromarray(grey, "F").resize((16, 16), Image.Resampling.BOX)
        np.testing.assert_allclose(small, np.asarray(box), atol=1e-5)


def test_the_block_pca_weighs_each_part_as_declared():
    rng = np.random.RandomState(0)
    pixels = rng.rand(300, 64) * 100.0  # a part with 100 times the scale of the other
    cnn = rng.rand(300, 40)
    rows = np.hstack([pixels, cnn])
    blocks = CNNPixels(pixel_size=8).blocks(rows.shape[1])
    reducer = pipeline._block_pca(rows, blocks, 10, 0)
    Z = reducer.transform(rows)
    assert Z.shape == (300, 20)
    parts = [np.mean(np.sum(Z[:, :10] ** 2, axis=1)), np.mean(np.sum(Z[:, 10:] ** 2, axis=1))]
    # to the precision of the randomized PCA's variances
    np.testing.assert_allclose(parts, [PIXEL_WEIGHT**2, 1.0], rtol=1e-2)
    # each block only reads its own columns
    assert not reducer.components_[:10, 64:].any() and not reducer.components_[10:, :64].any()


def test_make_demo_writes_scikit_learns_digits_as_image_folders(tmp_path):
    folder = tmp_path / "digits"
    done = subprocess.run(
        [sys.executable, "-m", "kmeanskit.images.demo", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1797 digit images" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == [str(d) for d in range(10)]
    assert len(list(folder.rglob("*.png"))) == 1797
    again = subprocess.run(
        [sys.executable, "-m", "kmeanskit.images.demo", str(folder)], capture_output=True
    )
    assert again.returncode != 0  # never into an existing folder
