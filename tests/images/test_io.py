"""Decoding: every format and mode to one shape; bad files reported, not fatal."""

import io as _io
import os

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image  # noqa: E402

from kmeanskit.images import io as kio  # noqa: E402
from kmeanskit.images.io import ImageSpec, decode, iter_decoded, list_images  # noqa: E402


def _save(img, path, **kw):
    img.save(path, **kw)
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".gif", ".bmp", ".tif", ".webp", ".ppm"])
@pytest.mark.parametrize("mode", ["grey", "rgb"])
def test_formats_decode_to_the_spec_shape(tmp_path, suffix, mode):
    img = Image.new("RGB", (30, 20), (200, 10, 10))
    path = _save(img, tmp_path / f"a{suffix}")
    spec = ImageSpec((16, 12), mode=mode)
    arr = decode(path, spec)
    assert arr.shape == spec.shape and arr.dtype == np.float32
    assert 0.0 <= arr.min() and arr.max() <= 1.0


def test_pgm_and_modes(tmp_path):
    spec = ImageSpec((8, 8), mode="rgb", fit="stretch")
    grey = _save(Image.new("L", (8, 8), 128), tmp_path / "g.pgm")
    assert np.allclose(decode(grey, spec), 128 / 255)
    sixteen = Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16))
    assert np.allclose(decode(_save(sixteen, tmp_path / "s.png"), spec), 1.0)
    cmyk = _save(Image.new("CMYK", (8, 8), (0, 0, 0, 0)), tmp_path / "c.jpg")
    assert np.allclose(decode(cmyk, spec), 1.0, atol=0.02)  # no ink: white
    clear = _save(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), tmp_path / "t.png")
    assert np.allclose(decode(clear, spec), 1.0)  # transparent: composed on white
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([10, 20, 30] + [0] * 765)
    arr = decode(_save(pal, tmp_path / "p.png"), spec)
    assert np.allclose(arr[0, 0], np.array([10, 20, 30]) / 255, atol=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("L", (40, 20), 0)  # wide; orientation 6 (rotate 90) makes it tall
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(img, tmp_path / "o.jpg", exif=exif.tobytes())
    arr = decode(path, ImageSpec((20, 40), fit="pad"))
    assert np.allclose(arr, 0.0, atol=0.05)  # a tall image fills a tall frame: no padding


def test_fit_pad_crop(tmp_path):
    path = _save(Image.new("L", (40, 10), 0), tmp_path / "w.png")
    padded = decode(path, ImageSpec((20, 20), fit="pad"))
    assert padded[0, 10] == 1.0 and padded[10, 10] == 0.0  # white bars above and below
    cropped = decode(path, ImageSpec((20, 20), fit="crop"))
    assert np.allclose(cropped, 0.0)


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty file"), (b"hello, not an image", "not an image"), (None, "cannot decode")],
)
def test_bad_files_give_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.png"
    if content is None:  # a truncated PNG
        buf = _io.BytesIO()
        Image.fromarray(np.random.RandomState(0).randint(0, 255, (64, 64), np.uint8)).save(
            buf, format="PNG"
        )
        content = buf.getvalue()[:200]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason):
        decode(path, ImageSpec((8, 8)))


def test_huge_images_are_refused(tmp_path, monkeypatch):
    path = _save(Image.new("L", (50, 50)), tmp_path / "big.png")
    monkeypatch.setattr(kio, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match="too many pixels"):
        decode(path, ImageSpec((8, 8)))


def test_batches_skip_failures_and_keep_order(tmp_path):
    paths = []
    for i in range(7):
        p = tmp_path / f"{i}.png"
        if i in (2, 5):
            p.write_text("junk")
        else:
            Image.new("L", (8, 8), i * 30).save(p)
        paths.append(p)
    got_idx, failures = [], []
    for idx, imgs, bad in iter_decoded(paths, ImageSpec((4, 4)), batch_size=3, n_jobs=2):
        assert imgs.shape == (len(idx), 4, 4)
        for i, img in zip(idx, imgs, strict=True):
            assert np.allclose(img, i * 30 / 255)
        got_idx += idx.tolist()
        failures += bad
    assert got_idx == [0, 1, 3, 4, 6]
    assert [os.path.basename(f.path) for f in failures] == ["2.png", "5.png"]


def test_list_images_recursive_and_link_loops(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    Image.new("L", (4, 4)).save(tmp_path / "a" / "1.png")
    Image.new("L", (4, 4)).save(tmp_path / "a" / "b" / "2.JPG")
    (tmp_path / "a" / "notes.txt").write_text("x")
    os.symlink(tmp_path / "a", tmp_path / "a" / "b" / "loop")
    found = list_images(tmp_path)
    assert [p.name for p in found] == ["1.png", "2.JPG"]
    assert [p.name for p in list_images(tmp_path, recursive=False)] == []
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        list_images(tmp_path / "missing")


def test_spec_checks_its_values():
    with pytest.raises(ValueError, match="mode must be one of"):
        ImageSpec(mode="cmyk")
    with pytest.raises(ValueError, match="fit must be one of"):
        ImageSpec(fit="zoom")
    with pytest.raises(ValueError, match="size must be"):
        ImageSpec(size=(0, 3))
    assert ImageSpec(size=10).shape == (10, 10)
