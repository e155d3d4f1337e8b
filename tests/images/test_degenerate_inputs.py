"""Silent wrong results on degenerate folders (issue 20, items 8, 10 and 12): float
TIFFs, identical images, a single image."""

import json

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from kmeanskit.choose_k import resolve_k
from kmeanskit.cli import main
from kmeanskit.images import ImageSpec, decode, load_model


def _float_tiffs(folder, top=1.0):
    folder.mkdir()
    for i in range(6):
        arr = np.full((10, 12), (i + 1) / 6 * top, dtype=np.float32)
        arr[: i + 2, :3] = 0.0
        Image.fromarray(arr, mode="F").save(folder / f"{i}.tif")
    return folder


def test_float_tiffs_in_0_1_decode_as_they_look(tmp_path):
    folder = _float_tiffs(tmp_path / "tiffs")
    grey = [decode(folder / f"{i}.tif", ImageSpec(12, "grey")) for i in range(6)]
    means = [float(g.mean()) for g in grey]
    assert means == sorted(means) and means[-1] > 0.5  # not all black
    out = tmp_path / "run"
    args = ["cluster", str(folder), "--k", "2", "--features", "pixels", "--size", "8"]
    assert main([*args, "--out", str(out), "--no-cache"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["cluster_sizes"]) != [0, 6] and summary["inertia"] > 0


def test_float_pixels_out_of_any_range_are_refused(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    Image.fromarray(np.full((4, 4), 1e6, np.float32), mode="F").save(folder / "hdr.tif")
    with pytest.raises(ValueError, match="float pixels from 1e\\+06 to 1e\\+06"):
        decode(folder / "hdr.tif", ImageSpec(4, "grey"))


@pytest.mark.parametrize("n", [1, 6])
def test_identical_images_or_one_make_one_cluster_and_a_model_that_predicts(tmp_path, n):
    folder = tmp_path / "same"
    folder.mkdir()
    for i in range(n):
        Image.new("L", (16, 16), 100).save(folder / f"{i}.png")
    out = tmp_path / "run"
    cache = tmp_path / "cache"
    for _ in range(2):  # the second run reads the PCA back from the cache
        args = ["cluster", str(folder), "--out", str(out), "--cache", str(cache), "--force"]
        assert main(args) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["k"] == 1 and summary["k_choice"].startswith("k=1: ")
        assert main(["predict", str(out), str(folder / "0.png")]) == 0
    model = load_model(out)
    assert np.isfinite(model.reducer.explained_variance_ratio_).all()


def test_resolve_k_cuts_the_range_to_the_distinct_rows():
    X = np.repeat(np.eye(3), 4, axis=0)  # 3 distinct rows, 12 in all
    k, choice, why = resolve_k(X, "2:8", random_state=0)
    assert k <= 3 and list(choice.k) == [2, 3] and "only 3 rows are distinct" in why
    assert resolve_k(X[:1], "auto") == (1, None, "k=1: there is one row")
    assert resolve_k(X, 5) == (5, None, None)  # a given k is the user's
