"""The features, quantize and segment commands, and the colour functions under them."""

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image
from sklearn.datasets import load_sample_image

from conftest import write_levels
from kmeanskit.cli import main
from kmeanskit.images.colour import quantize, segment


@pytest.fixture()
def photo(tmp_path):
    path = tmp_path / "china.jpg"
    Image.fromarray(load_sample_image("china.jpg")[::4, ::4]).save(path)
    return path


def test_quantize_uses_exactly_n_colours(photo, tmp_path, capsys):
    before = photo.read_bytes()
    out = tmp_path / "q.png"
    assert main(["quantize", str(photo), "--colors", "8", "--out", str(out)]) == 0
    pixels = np.asarray(Image.open(out)).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) == 8
    assert photo.read_bytes() == before
    assert main(["quantize", str(photo), "--colors", "8", "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err  # no overwrite without --force
    assert main(["quantize", str(photo), "--colors", "8", "--out", str(out), "--force"]) == 0


def test_quantize_palette_beats_a_random_one(photo):
    img = np.asarray(Image.open(photo)) / 255.0
    q, palette, labels = quantize(img, 16)
    err = ((q - img) ** 2).mean()
    rng = np.random.RandomState(0)
    random_palette = img.reshape(-1, 3)[rng.choice(img.shape[0] * img.shape[1], 16)]
    d = ((img.reshape(-1, 1, 3) - random_palette[None]) ** 2).sum(axis=2).min(axis=1)
    assert err < d.mean() / 3 and palette.shape == (16, 3) and labels.shape == img.shape[:2]
    with pytest.raises(ValueError, match="n_colors must be"):
        quantize(img, 0)


def test_segment_by_colour_and_position(tmp_path, capsys):
    img = np.zeros((20, 30, 3))
    img[:, 15:] = [1.0, 0.0, 0.0]
    labels, means = segment(img, 2, position_weight=0.0)
    assert len(np.unique(labels[:, :15])) == 1 and labels[0, 0] != labels[0, 29]
    assert np.allclose(means[0, 29], [1, 0, 0], atol=1e-6)
    # with a big weight on position, four segments cut the plain picture in quarters-ish
    flat = np.ones((20, 20, 3)) * 0.5
    labels, _ = segment(flat, 4, position_weight=5.0)
    assert len(np.unique(labels)) == 4
    with pytest.raises(ValueError, match="position_weight must be a finite number >= 0"):
        segment(img, 2, position_weight=-1)
    path = tmp_path / "two.png"
    Image.fromarray((img * 255).astype(np.uint8)).save(path)
    before = path.read_bytes()
    assert main(["segment", str(path), "--k", "2", "--out", str(tmp_path / "s.png")]) == 0
    assert "2 segments of" in capsys.readouterr().out
    assert path.read_bytes() == before


def test_features_command_writes_distances_for_every_k(tmp_path, capsys):
    write_levels(tmp_path, 24, (40, 200), side=12, noise=10, seed=0)
    out = tmp_path / "feats.npz"
    code = main(
        [
            "features",
            str(tmp_path),
            "--k",
            "2:6:2",
            "--features",
            "pixels",
            "--size",
            "12",
            "--gmm",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    data = np.load(out)
    assert data["k"].tolist() == [2, 4, 6]
    assert data["features"].shape == (24, 12)
    assert data["distances_k4"].shape == (24, 4)
    assert np.allclose(data["proba_k2"].sum(axis=1), 1.0, atol=1e-5)
    assert len(data["paths"]) == 24
    assert main(["features", str(tmp_path), "--k", "2", "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().err


def test_features_command_lists_the_files_that_are_not_images(tmp_path, capsys):
    src = tmp_path / "in"
    write_levels(src, 8, (40, 200), side=12, noise=10, seed=0)
    (src / "notes.txt").write_text("not a picture")
    out = tmp_path / "feats.npz"
    args = ["features", str(src), "--k", "2", "--features", "pixels", "--size", "8"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 files skipped" in printed and "notes.txt: not an image" in printed
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("x")
    assert main(["features", str(empty), "--k", "2", "--out", str(tmp_path / "f2.npz")]) == 1
    assert "a.txt: not an image" in capsys.readouterr().err
