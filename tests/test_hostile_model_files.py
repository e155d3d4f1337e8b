"""Hostile model files through the command line (issue 20): ``kmeanskit predict RUN
rows.csv`` on a table run whose ``model.kmk`` was damaged or forged must exit with 1 and
one line on stderr naming the file, never a traceback, and never read more than the
file declares (see :mod:`kmeanskit._model_zip` for the caps).

The unit tests of each check are in ``test_model_files.py``; this corpus adds the cases
of a whole run: each goes through :func:`kmeanskit.cli.main`.
"""

import csv
import io
import json
import os
import shutil
import warnings
import zipfile

import numpy as np
import pytest

from kmeanskit.cli import main
from test_model_files import _set, forged, npy, read_parts, rewrite


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A table run of ``kmeanskit cluster`` (k=3, 2 feature columns) and its data."""
    folder = tmp_path_factory.mktemp("table")
    rng = np.random.RandomState(0)
    data = folder / "items.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "weight", "length"])
        for i in range(30):
            centre = (i % 3) * 10.0
            writer.writerow([f"item-{i}", centre + rng.normal(0, 1), centre + rng.normal(0, 1)])
    run = folder / "run"
    assert main(["cluster", str(data), "--out", str(run), "--k", "3", "--id-column", "id"]) == 0
    return run, data


@pytest.fixture()
def run(made, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(made[0], copy)
    return copy, made[1]


def _replace(*, edit=None, arrays=None):
    """A damage: model.kmk rewritten (``test_model_files.rewrite``)."""

    def damage(path):
        rewrite(path, path, edit, arrays)

    return damage


def _forge(arrays, edit=None):
    """A damage: model.kmk with arrays inflated from tiny streams (``forged``), valid
    zip entries (their CRC right)."""

    def damage(path):
        forged(path, path, arrays, edit, crc=True)

    return damage


def _zip(entries):
    """A damage: model.kmk rewritten with the entries ``entries(header, arrays)`` gives
    (name, bytes), written as they are (a repeated name too: zipfile only warns)."""

    def damage(path):
        header, arrays = read_parts(path)
        with zipfile.ZipFile(path, "w") as zf, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, data in entries(header, arrays):
                zf.writestr(name, data)

    return damage


def _own(header, arrays, skip=()):
    return [("model.json", json.dumps(header))] + [
        (f"{n}.npy", b) for n, b in arrays.items() if n not in skip
    ]


def _bytes(make):
    def damage(path):
        path.write_bytes(make(path.read_bytes()))

    return damage


def _pca(path):
    from sklearn.decomposition import PCA

    from kmeanskit import save_model

    pca = PCA(2).fit(np.random.RandomState(0).rand(20, 2))
    save_model(pca, path, overwrite=True)


def _wider_model(path):
    """A valid KMeans of 3 features, where table.json names 2."""
    from kmeanskit import KMeans, save_model

    save_model(KMeans(3, random_state=0).fit(np.random.rand(30, 3)), path, overwrite=True)


def _no_entries_check(header, arrays):
    names = ["../cluster_centers_", "/etc/cluster_centers_", "a/../b"]
    header["arrays"] = [*header["arrays"], *names]
    return _own(header, arrays) + [(f"{n}.npy", npy([1.0])) for n in names]


_D = 2**24  # 3 centres of this many float64 features: 384 MiB, from a 400 kB file
_FLOAT16 = npy(np.zeros((3, 2), np.float16))
_COMPLEX = npy(np.zeros((3, 2), np.complex128))
_OBJECT = npy(np.array([[1.0, 2.0]] * 3, dtype=object), allow_pickle=True)
_HUGE_HEADER = b"\x93NUMPY\x02\x00" + (3 * 2**30).to_bytes(4, "little") + b"{}"
_FLOAT_SHAPE = (
    b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3.0, 2), }"
    + b" " * 5
    + b"\n"
)

#: name -> damage(path of model.kmk); every one must be refused naming model.kmk
CASES = {
    "truncated zip": _bytes(lambda data: data[: len(data) * 6 // 10]),
    "zip without its end": _bytes(lambda data: data[:-22]),
    "empty file": _bytes(lambda data: b""),
    "zip bomb entry": _forge(
        {"cluster_centers_": (3, _D), "init_centers_": None},
        lambda h: (h["attributes"].update(n_features_in_=_D), h["arrays"].remove("init_centers_")),
    ),
    "bomb wider than model.json": _forge({"cluster_centers_": (3, _D)}),
    "npy header of 3 GiB": _replace(arrays={"cluster_centers_": _HUGE_HEADER}),
    "a float in the npy shape": _replace(arrays={"cluster_centers_": _FLOAT_SHAPE}),
    "object dtype": _replace(arrays={"cluster_centers_": _OBJECT}),
    "complex dtype": _replace(arrays={"cluster_centers_": _COMPLEX}),
    "float16 dtype": _replace(arrays={"cluster_centers_": _FLOAT16}),
    "inf in centres": _replace(arrays={"cluster_centers_": npy(np.full((3, 2), np.inf))}),
    "NaN in init centres": _replace(arrays={"init_centers_": npy(np.full((3, 2), np.nan))}),
    "n_clusters disagrees": _replace(edit=_set("params/n_clusters", 5)),
    "labels past k": _replace(arrays={"labels_": npy(np.full(30, 3, np.int32))}),
    "centres of 3 features": _replace(
        edit=_set("attributes/n_features_in_", 3),
        arrays={"cluster_centers_": npy(np.ones((3, 3))), "init_centers_": npy(np.ones((3, 3)))},
    ),
    "a model of 3 features": _wider_model,
    "a PCA, not k-means": _pca,
    "duplicate entries": _zip(
        lambda h, a: [*_own(h, a), ("cluster_centers_.npy", npy(np.ones((3, 2))))]
    ),
    "duplicate model.json": _zip(lambda h, a: [("model.json", "{}"), *_own(h, a)]),
    "huge model.json": _zip(
        lambda h, a: [("model.json", json.dumps(h) + " " * (5 * 2**20)), *_own(h, a)[1:]]
    ),
    "path-like entry names": _zip(_no_entries_check),
    "an entry out of the archive": _zip(lambda h, a: [*_own(h, a), ("../../x.npy", b"")]),
    "a folder entry": _zip(lambda h, a: [*_own(h, a), ("cluster_centers_/", b"")]),
    "too many entries": _zip(
        lambda h, a: [*_own(h, a), *((f"x{i}.npy", npy([1.0])) for i in range(80))]
    ),
    "model.json nested deeply": _zip(lambda h, a: [("model.json", "[" * 10**5), *_own(h, a)[1:]]),
    "version 2": _replace(edit=_set("version", 2)),
    "an image model": _replace(edit=_set("kind", "ImageModel")),
    "a folder": lambda path: (path.unlink(), path.mkdir()),
    "missing": lambda path: path.unlink(),
    "a FIFO": lambda path: (path.unlink(), os.mkfifo(path)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_model_file_is_one_line(run, case, capsys):
    folder, data = run
    path = folder / "model.kmk"
    CASES[case](path)
    for model in (folder, path):  # the run folder, or the model file itself
        if case == "a folder" and model == path:
            continue  # a folder given as the model is the run folder's business
        capsys.readouterr()
        assert main(["predict", str(model), str(data)]) == 1, (case, model)
        err = capsys.readouterr().err
        assert err.startswith("kmeanskit: error: ") and err.count("\n") == 1, err
        assert "model.kmk" in err and "Traceback" not in err, err


def test_the_run_still_predicts(run, capsys):
    """The corpus' base: the undamaged run predicts its own rows."""
    folder, data = run
    assert main(["predict", str(folder), str(data)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 30 and {r["cluster"] for r in rows} == {"0", "1", "2"}
