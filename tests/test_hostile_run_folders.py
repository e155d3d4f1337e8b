"""Hostile run folders through the command line (issue 20): ``table.json`` read by
``kmeanskit predict RUN rows.csv``, and ``summary.json``, ``k_scores.json``,
``assignments.csv`` and ``map.npy`` read by ``kmeanskit report RUN`` and ``kmeanskit
plot RUN``, damaged in ways that ``tests/report/test_report_kinds.py`` does not cover:
each must exit with 1 and one line on stderr naming the file (and for ``table.json``
the key), never a traceback.
"""

import csv
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("jinja2")  # the report
from kmeanskit.cli import main

TABLE = "table.json"


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Two table runs of ``kmeanskit cluster`` and their data: ``'euclidean'`` (k chosen
    in 2:4, so with k_scores.json) and ``'precomputed'`` (k-medoids on distances)."""
    folder = tmp_path_factory.mktemp("runs")
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(c, 0.5, (10, 2)) for c in (0.0, 10.0, 20.0)])
    items = _write_csv(
        folder / "items.csv",
        ["id", "weight", "length"],
        [[f"item-{i}", *row] for i, row in enumerate(X)],
    )
    D = np.linalg.norm(X[:12, None] - X[None, :12], axis=2)
    names = [f"p{i}" for i in range(12)]
    dist = _write_csv(
        folder / "dist.csv", ["name", *names], [[n, *row] for n, row in zip(names, D, strict=True)]
    )
    runs = {}
    for kind, data, options in [
        ("euclidean", items, ["--k", "2:4", "--id-column", "id"]),
        ("precomputed", dist, ["--k", "2", "--id-column", "name", "--metric", "precomputed"]),
    ]:
        run = folder / kind
        assert main(["cluster", str(data), "--out", str(run), *options]) == 0
        runs[kind] = (run, data)
    return runs


@pytest.fixture()
def copy(made, tmp_path):
    """``copy(kind)``: a fresh copy of that run (without its report) and its data."""

    def make(kind):
        run, data = made[kind]
        out = tmp_path / kind
        shutil.copytree(run, out)
        (out / "report.html").unlink()
        return out, data

    return make


def _one_line(argv, capsys, name: str, *words):
    capsys.readouterr()
    assert main(argv) == 1, argv
    err = capsys.readouterr().err
    assert err.startswith("kmeanskit: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and name in err, err
    for word in words:
        assert word in err, (word, err)
    return err


# -- table.json, read by predict ---------------------------------------------------------
def _pop(key):
    def damage(settings):
        del settings[key]

    return damage


def _put(key, value):
    def damage(settings):
        settings[key] = value

    return damage


def _scaler(key, value):
    def damage(settings):
        settings["scaler"][key] = value

    return damage


def _nan_scale(settings):
    settings["scaler"]["scale"][0] = "not-a-number"
    return json.dumps(settings).replace('"not-a-number"', "NaN")


#: (kind of run, damage(settings) -> None (edited in place), or the text or bytes to
#: write, the word the line must hold: the key)
TABLE_CASES = {
    # every key cluster_table writes, missing (issue 20: feature_names gave a KeyError)
    **{
        f"no {key}": ("euclidean", _pop(key), key)
        for key in (
            "format",
            "version",
            "metric",
            "columns",
            "id_column",
            "missing",
            "feature_names",
            "scaler",
            "model",
            "n_train",
        )
    },
    "no medoid_indices": ("precomputed", _pop("medoid_indices"), "medoid_indices"),
    "columns not a list": ("euclidean", _put("columns", {"weight": 1}), "columns"),
    "columns of booleans": ("euclidean", _put("columns", [True, False]), "columns"),
    "feature_names a text": ("euclidean", _put("feature_names", "weight"), "feature_names"),
    "feature_names of numbers": ("euclidean", _put("feature_names", [1, 2]), "feature_names"),
    "feature_names empty": ("euclidean", _put("feature_names", []), "feature_names"),
    "id_column a float": ("euclidean", _put("id_column", 1.5), "id_column"),
    "missing unknown": ("euclidean", _put("missing", "zero"), "missing"),
    "metric unknown": ("euclidean", _put("metric", "cosine"), "metric"),
    "version newer": ("euclidean", _put("version", 2), "newer kmeanskit"),
    "version a text": ("euclidean", _put("version", "1"), "version"),
    "scaler not a dict": ("euclidean", _put("scaler", "standard"), "scaler"),
    "scaler of another kind": ("euclidean", _scaler("kind", "robust"), "scaler"),
    "scaler mean too short": ("euclidean", _scaler("mean", [0.0]), "scaler"),
    "scaler scale zero": ("euclidean", _scaler("scale", [1.0, 0.0]), "scaler"),
    "scaler scale NaN": ("euclidean", _nan_scale, "scaler"),
    "scaler mean text": ("euclidean", _scaler("mean", ["0", "0"]), "scaler"),
    "model up and out": ("euclidean", _put("model", "../../etc/passwd"), "model"),
    "model absolute": ("euclidean", _put("model", "/etc/passwd"), "model"),
    "model in a subfolder": ("euclidean", _put("model", "sub/model.kmk"), "model"),
    "model a pickle": ("euclidean", _put("model", "model.joblib"), "model"),
    "model a number": ("euclidean", _put("model", 7), "model"),
    "n_train negative": ("euclidean", _put("n_train", -1), "n_train"),
    "n_train a boolean": ("euclidean", _put("n_train", True), "n_train"),
    "medoid out of range": ("precomputed", _put("medoid_indices", [0, 99]), "medoid_indices"),
    "medoid negative": ("precomputed", _put("medoid_indices", [-1, 3]), "medoid_indices"),
    "medoids a text": ("precomputed", _put("medoid_indices", "0,5"), "medoid_indices"),
    "no medoids": ("precomputed", _put("medoid_indices", []), "medoid_indices"),
    "n_train zero": ("precomputed", _put("n_train", 0), "n_train"),
    "not an object": ("euclidean", lambda s: "[1, 2]", "JSON object"),
    "not UTF-8": ("euclidean", lambda s: b"\xff\xfe{}", "utf-8"),
    "nested deeply": ("euclidean", lambda s: "[" * 100_000, "not a table model"),
    "empty": ("euclidean", lambda s: "", "not a table model"),
}


@pytest.mark.parametrize("case", list(TABLE_CASES))
def test_a_damaged_table_json_is_one_line_naming_the_key(copy, case, capsys):
    kind, damage, word = TABLE_CASES[case]
    run, data = copy(kind)
    path = run / TABLE
    settings = json.loads(path.read_text(encoding="utf-8"))
    result = damage(settings)
    if isinstance(result, bytes):
        path.write_bytes(result)
    else:
        path.write_text(json.dumps(settings) if result is None else result, encoding="utf-8")
    _one_line(["predict", str(run), str(data)], capsys, str(path), word)


def test_the_runs_predict_before_damage(copy, capsys):
    for kind in ("euclidean", "precomputed"):
        run, data = copy(kind)
        assert main(["predict", str(run), str(data)]) == 0


# -- summary.json, k_scores.json, assignments.csv, map.npy, read by report and plot -------
def _json(edit):
    """A damage of a JSON file: ``edit(obj)`` edits it in place or returns the text."""

    def damage(path):
        obj = json.loads(path.read_text(encoding="utf-8"))
        text = edit(obj)
        path.write_text(text if isinstance(text, str) else json.dumps(obj), encoding="utf-8")

    return damage


def _text(make):
    def damage(path):
        path.write_text(make(path.read_text(encoding="utf-8")), encoding="utf-8")

    return damage


def _raw(data: bytes):
    return lambda path: path.write_bytes(data)


def _npy(arr):
    return lambda path: np.save(path, arr, allow_pickle=arr.dtype.hasobject)


def _folder(path):
    path.unlink()
    path.mkdir()


def _rename_column(text):
    head, *rest = text.splitlines()
    return "\n".join([head.replace("cluster", "group"), *rest]) + "\n"


def _bomb_header(path):
    """A map.npy whose header declares 3e10 rows (447 GiB) and holds none."""
    head = "{'descr': '<f8', 'fortran_order': False, 'shape': (30000000000, 2), }"
    head += " " * (-(len(head) + 11) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head.encode())


def _npz(path):
    """An ``.npz`` archive (a zip) under the map's name."""
    with open(path, "wb") as fh:
        np.savez(fh, xy=np.ones((30, 2)))


SUMMARY, KS, CSV, MAP = "summary.json", "k_scores.json", "assignments.csv", "map.npy"
_REPORT = ("report",)  # the figures do not read that part of the summary
#: name -> (file, damage(path), commands, marks); beyond test_report_kinds.DAMAGE
REPORT_CASES = {
    "summary not UTF-8": (SUMMARY, _raw(b"\xff\xfe{}")),
    "summary empty": (SUMMARY, _raw(b"")),
    "summary without k": (SUMMARY, _json(lambda s: s.pop("k"))),
    "summary k and sizes disagree": (SUMMARY, _json(lambda s: s.update(k=s["k"] + 2))),
    "summary negative size": (SUMMARY, _json(lambda s: s.update(cluster_sizes=[-1] * s["k"]))),
    "summary n_rows a boolean": (SUMMARY, _json(lambda s: s.update(n_rows=True))),
    "summary a million clusters of 30 rows": (
        SUMMARY,
        _json(lambda s: s.update(k=10**6, cluster_sizes=[0] * (10**6 - 30) + [1] * 30)),
    ),
    "summary sizes not adding to n_rows": (
        SUMMARY,
        _json(lambda s: s.update(cluster_sizes=[1] * s["k"])),
    ),
    "summary n_rows beyond the assignments": (
        SUMMARY,
        _json(
            lambda s: s.update(
                n_rows=s["n_rows"] + 1,
                cluster_sizes=[*s["cluster_sizes"][:-1], s["cluster_sizes"][-1] + 1],
            )
        ),
    ),
    "summary centres not objects": (
        SUMMARY,
        _json(lambda s: s.update(centres=[1] * s["k"])),
        _REPORT,
    ),
    "summary means of text": (
        SUMMARY,
        _json(lambda s: s.update(feature_means=["a", "b"])),
        _REPORT,
    ),
    "summary nested deeply": (SUMMARY, _raw(b"[" * 100_000), None),
    "summary mean of 400 digits": (
        SUMMARY,
        _json(lambda s: s["feature_means"].__setitem__(0, 10**400)),
        _REPORT,
    ),
    "k_scores not UTF-8": (KS, _raw(b"\xff\xff")),
    "k_scores NaN": (KS, _raw(b'{"k": [2, 3], "scores": {"e": [NaN, 1]}, "best": {}}')),
    "k_scores no k": (KS, _json(lambda ks: ks.pop("k"))),
    "k_scores best a text": (KS, _json(lambda ks: ks["best"].update(elbow="three"))),
    "k_scores empty k": (KS, _json(lambda ks: ks.update(k=[], scores={}))),
    "k_scores nested deeply": (KS, _raw(b"[" * 100_000), None),
    "k_scores k of 400 digits": (
        KS,
        _json(lambda ks: ks.update(k=[2, 10**400, 4])),
        None,
    ),
    "k_scores score of 400 digits": (
        KS,
        _json(lambda ks: ks["scores"]["elbow"].__setitem__(0, 10**400)),
        None,
    ),
    "assignments without cluster column": (CSV, _text(_rename_column)),
    "assignments empty": (CSV, _raw(b"")),
    "assignments field too long": (
        CSV,
        _raw(b"id,cluster,distance\n" + b"a" * 200_000 + b",0,1\n"),
    ),
    "assignments text cluster": (CSV, _text(lambda t: t.replace(",0,", ",zero,", 1))),
    "assignments a folder": (CSV, _folder),
    "assignments missing": (CSV, lambda path: path.unlink()),
    "map truncated": (MAP, lambda path: path.write_bytes(path.read_bytes()[:200])),
    "map pickled objects": (MAP, _npy(np.array([[None, 1.0]] * 30, dtype=object))),
    "map not npy": (MAP, _raw(b"x,y\n0,0\n")),
    "map empty": (MAP, _raw(b"")),
    "map header of 447 GiB": (MAP, _bomb_header),
    "map NaN": (MAP, _npy(np.full((30, 2), np.nan))),
    "map inf": (MAP, _npy(np.full((30, 2), np.inf))),
    "map of 1e308": (MAP, _npy(np.full((30, 2), 1e308))),
    "map complex": (MAP, _npy(np.ones((30, 2), complex))),
    "map timedelta": (MAP, _npy(np.ones((30, 2), "m8[s]"))),
    "map an npz": (MAP, _npz),
    "map of 3 columns": (MAP, _npy(np.ones((30, 3)))),
}


@pytest.mark.parametrize(
    "case",
    [pytest.param(name, marks=value[3:]) for name, value in REPORT_CASES.items()],
)
def test_a_damaged_run_file_is_one_line_naming_it(copy, case, capsys, tmp_path):
    name, damage, commands = (*REPORT_CASES[case], None)[:3]
    run, _ = copy("euclidean")
    damage(run / name)
    figures = tmp_path / "figures"
    argvs = {"report": ["report", str(run)], "plot": ["plot", str(run), "--out", str(figures)]}
    for command in commands or argvs:
        _one_line(argvs[command], capsys, str(run / name))
    assert not (run / "report.html").exists() and not list(figures.glob("*.png"))
