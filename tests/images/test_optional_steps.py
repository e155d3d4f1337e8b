"""Optional steps that fail degrade with a warning naming the path (issue 20): the
feature cache (its batches and its PCA are read back, so they are untrusted), the
thumbnails of the report. The run goes on, and its clusters are those of a run without
the step."""

import io
import logging
import shutil
import zipfile

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from kmeanskit.estimators import KMeans
from kmeanskit.images import cluster_images
from kmeanskit.images.cache import read_batch
from kmeanskit.model_io import save_model
from kmeanskit.report import build_report
from kmeanskit.runs.manifest import owned

OPTIONS = dict(k=3, size=12, n_components=4, batch_size=4, random_state=0)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """12 images in 3 groups (dark, bright, striped), and the labels of a run without a
    cache."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.RandomState(0)
    for i in range(12):
        base = np.full((16, 16), (30, 220, 120)[i % 3], np.float64)
        if i % 3 == 2:
            base[::2] = 0
        arr = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(arr, "L").save(folder / f"p{i:02d}.png")
    return folder, cluster_images(folder, **OPTIONS).labels


def _run(folder, cache, caplog):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kmeanskit"):
        result = cluster_images(folder, cache=cache, **OPTIONS)
    return result.labels, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _warned(messages, *words):
    assert any(all(w in m for w in words) for m in messages), messages


def _filled(photos, tmp_path, caplog):
    """A cache filled by one run (3 batches of 4 rows, and the PCA)."""
    folder, expected = photos
    cache = tmp_path / "cache"
    labels, messages = _run(folder, cache, caplog)
    assert messages == [] and np.array_equal(labels, expected)
    batches = sorted(cache.glob("*/batch-*.npz"))
    assert len(batches) == 3 and len(list(cache.glob("pca-*.kmk"))) == 1
    return folder, expected, cache, batches


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _huge_header(path):
    """rows.npy declaring 10**12 rows, holding 4."""
    keys, rows = read_batch(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("keys.npy", _npy_bytes(np.array(keys)))
        data = _npy_bytes(rows)
        head = data[: data.index(b"\n") + 1].replace(b"(4,", b"(1000000000000,")
        zf.writestr("rows.npy", head + data[data.index(b"\n") + 1 :])


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


def _nan_rows(path):
    keys, rows = read_batch(path)
    np.savez(path, keys=np.array(keys), rows=np.full_like(rows, np.nan))


def _compressed(path):
    keys, rows = read_batch(path)
    np.savez_compressed(path, keys=np.array(keys), rows=rows)


def _objects(path):
    keys, _ = read_batch(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("keys.npy", _npy_bytes(np.array(keys)))
        zf.writestr("rows.npy", _npy_bytes(np.array([[None]] * len(keys), dtype=object)))


def _wider(path):
    keys, rows = read_batch(path)
    np.savez(path, keys=np.array(keys), rows=np.hstack([rows, rows]))


@pytest.mark.parametrize(
    "damage",
    [_truncate, _huge_header, _nan_rows, _compressed, _objects, _wider],
    ids=["truncated", "header of 10**12 rows", "NaN rows", "compressed", "objects", "wider"],
)
def test_a_damaged_cache_batch_is_ignored_with_a_warning(photos, tmp_path, caplog, damage):
    folder, expected, cache, batches = _filled(photos, tmp_path, caplog)
    damage(batches[1])
    labels, messages = _run(folder, cache, caplog)
    assert np.array_equal(labels, expected)
    _warned(messages, "ignored the damaged cache file", str(batches[1]))


def test_cache_rows_that_differ_from_those_made_now_are_not_used(photos, tmp_path, caplog):
    """Every batch rewritten consistently (as by another version of an extractor): one
    row made now tells, and every file is decoded again."""
    folder, expected, cache, batches = _filled(photos, tmp_path, caplog)
    for path in batches:
        keys, rows = read_batch(path)
        np.savez(path, keys=np.array(keys), rows=rows[::-1] + 1.0)
    labels, messages = _run(folder, cache, caplog)
    assert np.array_equal(labels, expected)
    _warned(messages, "holds rows that differ", str(batches[0].parent))


def test_a_cache_folder_that_cannot_be_made_is_a_warning(photos, tmp_path, caplog):
    folder, expected = photos
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache should be")
    labels, messages = _run(folder, cache, caplog)
    assert np.array_equal(labels, expected)
    _warned(messages, "feature cache", str(cache))
    _warned(messages, "PCA not saved", str(cache))
    assert cache.read_text() == "a file where the cache should be"


@pytest.mark.parametrize("kind", ["damaged", "another model", "a folder"])
def test_a_cached_pca_that_cannot_be_used_is_fitted_again(photos, tmp_path, caplog, kind):
    folder, expected, cache, _ = _filled(photos, tmp_path, caplog)
    (pca,) = cache.glob("pca-*.kmk")
    if kind == "damaged":
        pca.write_bytes(pca.read_bytes()[:50])
    elif kind == "another model":
        save_model(KMeans(2, n_init=1).fit(np.eye(4)), pca, overwrite=True)
    else:
        pca.unlink()
        pca.mkdir()
        (pca / "notes.txt").write_text("mine")
    labels, messages = _run(folder, cache, caplog)
    assert np.array_equal(labels, expected)
    if kind == "a folder":  # not a file: fitted again, and not saved over the folder
        _warned(messages, "PCA not saved", str(cache))
        assert (pca / "notes.txt").read_text() == "mine"
    else:
        _warned(messages, "fitting the PCA again", str(pca))


@pytest.fixture()
def run(photos, tmp_path):
    """A run folder of ``kmeanskit cluster`` on a copy of the photos (without its report)."""
    from kmeanskit.cli import main

    src = tmp_path / "photos"
    shutil.copytree(photos[0], src)
    out = tmp_path / "run"
    args = ["cluster", str(src), "--k", "3", "--size", "12", "--no-cache", "--out", str(out)]
    assert main(args) == 0
    shutil.rmtree(out / "thumbs")
    (out / "report.html").unlink()
    return out, src


def _report(run, caplog):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kmeanskit"):
        page = build_report(run)
    assert page.is_file()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_report_whose_images_are_gone_or_broken_has_no_thumbnails_for_them(run, caplog):
    out, src = run
    (src / "p00.png").unlink()
    (src / "p01.png").write_bytes(b"not a png any more")
    (src / "p02.png").unlink()
    (src / "p02.png").mkdir()
    messages = _report(out, caplog)
    for name in ("p00.png", "p01.png", "p02.png"):
        _warned(messages, "no thumbnail for", str(src / name))
    assert (out / "thumbs").is_dir() and len(list((out / "thumbs").glob("*.jpg"))) == 9


def test_a_decompression_bomb_has_no_thumbnail(run, caplog):
    out, src = run
    Image.new("1", (20000, 20000)).save(src / "p00.png")  # 400 megapixels, 50 kB
    messages = _report(out, caplog)
    _warned(messages, "no thumbnail for", str(src / "p00.png"))


def test_a_thumbs_file_in_the_way_is_a_warning_and_stays(run, caplog):
    out, _ = run
    (out / "thumbs").write_text("my notes")
    messages = _report(out, caplog)
    _warned(messages, "no thumbnails", str(out / "thumbs"))
    assert (out / "thumbs").read_text() == "my notes"
    assert "thumbs" not in owned(out)  # a later --force leaves it alone


def test_a_thumbs_folder_someone_else_made_stays_theirs(run, caplog):
    out, _ = run
    (out / "thumbs").mkdir()
    (out / "thumbs" / "vacation.jpg").write_bytes(b"mine")
    assert _report(out, caplog) == []
    assert (out / "thumbs" / "vacation.jpg").read_bytes() == b"mine"
    assert "thumbs" not in owned(out)
