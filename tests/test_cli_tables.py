"""``kmeanskit cluster TABLE`` and ``kmeanskit predict RUN TABLE``: the run folder, the
centres in the table's units, predictions, and one-line errors that write nothing."""

import csv
import json

import numpy as np
import pytest

pytest.importorskip("jinja2")  # the report; the 'images' extra
pytest.importorskip("PIL")

from kmeanskit.cli import main


def _assignments(run):
    with open(run / "assignments.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def s1_run(shared_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("s1") / "run"
    assert (
        main(["cluster", str(shared_data / "sipu" / "s1.txt"), "--k", "10:20", "--out", str(run)])
        == 0
    )
    return run


def test_s1_run_folder(s1_run, shared_data):
    names = {p.name for p in s1_run.iterdir()}
    assert {
        "assignments.csv",
        "model.kmk",
        "table.json",
        "map.npy",
        "summary.json",
        "report.html",
        "k_scores.json",
    } <= names
    # no staging folder left; the manifest of what the run wrote (for a later --force)
    assert [n for n in names if n.startswith(".")] == [".kmeanskit-manifest.json"]
    summary = json.loads((s1_run / "summary.json").read_text())
    assert summary["kind"] == "table" and summary["k"] == 15
    assert summary["n_rows"] == 5000 and summary["n_features"] == 2
    assert summary["k_choice"].startswith("k=15")
    assert sum(summary["cluster_sizes"]) == 5000 and len(summary["centres"]) == 15
    assert set(summary["scores"]) == {"silhouette", "calinski_harabasz", "davies_bouldin"}
    rows = _assignments(s1_run)
    assert len(rows) == 5000 and rows[0]["id"] == "row 1"
    assert np.load(s1_run / "map.npy").shape == (5000, 2)
    # the s1 truth: every true centre has a found centre within 5% of the data's spread
    truth = np.loadtxt(shared_data / "sipu" / "s1-gt.txt")
    found = np.array([[c["x0"], c["x1"]] for c in summary["centres"]])
    gaps = np.linalg.norm(truth[:, None] - found[None], axis=2).min(axis=1)
    assert gaps.max() < 0.05 * 1e6


def test_predict_gives_the_same_clusters(s1_run, shared_data, capsys):
    capsys.readouterr()
    assert main(["predict", str(s1_run), str(shared_data / "sipu" / "s1.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,cluster,distance"
    predicted = list(csv.DictReader(lines))
    rows = _assignments(s1_run)
    assert [r["cluster"] for r in predicted] == [r["cluster"] for r in rows]
    assert [r["id"] for r in predicted] == [r["id"] for r in rows]
    np.testing.assert_allclose(
        [float(r["distance"]) for r in predicted], [float(r["distance"]) for r in rows], rtol=1e-9
    )
    # the model file itself, and --json
    assert (
        main(["predict", str(s1_run / "model.kmk"), str(shared_data / "sipu" / "s1.txt"), "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)["predictions"]
    assert [str(r["cluster"]) for r in out] == [r["cluster"] for r in rows]


def _fruit(path, rows=60, seed=0):
    rng = np.random.RandomState(seed)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "weight", "length", "colour"])
        for i in range(rows):
            big = i % 2
            w.writerow(
                [
                    f"fruit-{i}",
                    f"{100 + 400 * big + rng.normal(0, 10):.3f}",
                    f"{5 + 10 * big + rng.normal(0, 1):.3f}",
                    "red" if big else "green",
                ]
            )
    return path


def test_text_ids_and_standard_scaling(tmp_path, capsys):
    data = _fruit(tmp_path / "fruit.csv")
    run = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(data),
                "--k",
                "2",
                "--id-column",
                "name",
                "--columns",
                "weight,length",
                "--scale",
                "standard",
                "--out",
                str(run),
                "--json",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((run / "summary.json").read_text())
    assert printed["k"] == summary["k"] == 2 and summary["scale"] == "standard"
    assert summary["feature_names"] == ["weight", "length"] and summary["features"] == "columns"
    assert summary["dropped_columns"] == ["colour"]
    rows = _assignments(run)
    assert [r["id"] for r in rows] == [f"fruit-{i}" for i in range(60)]
    # the centres in the original units are the means of the original rows of each cluster
    with open(data, newline="") as fh:
        original = {r["name"]: [float(r["weight"]), float(r["length"])] for r in csv.DictReader(fh)}
    for j, centre in enumerate(summary["centres"]):
        members = np.array([original[r["id"]] for r in rows if int(r["cluster"]) == j])
        assert len(members) == summary["cluster_sizes"][j]
        expect = members.mean(axis=0)
        np.testing.assert_allclose(
            [centre["weight"], centre["length"]], expect, rtol=1e-9, atol=1e-9
        )
    # predict applies the same columns and scaling
    assert main(["predict", str(run), str(data)]) == 0
    predicted = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(r["id"], r["cluster"]) for r in predicted] == [(r["id"], r["cluster"]) for r in rows]
    # a stored column missing from the new data: one line naming it
    (tmp_path / "less.csv").write_text("name,weight\na,1\nb,2\n")
    assert main(["predict", str(run), str(tmp_path / "less.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'length'" in err


BAD = {  # the file's text, and what its one line must say
    "text.csv": ("a,b\n1,2\n3,x\n", ["column 'b' (1) is not numeric", "line 3", "'x'"]),
    "missing.csv": ("a,b\n1,2\n3,\n", ["missing value at line 3, column 'b' (1)"]),
    "ragged.csv": ("a,b\n1,2\n3,4,5\n", ["line 3 has 3 fields"]),
    "empty.csv": ("", ["is empty"]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_table_is_one_line_and_writes_nothing(name, tmp_path, capsys):
    text, expect = BAD[name]
    data = tmp_path / name
    data.write_text(text)
    out = tmp_path / "run"
    assert main(["cluster", str(data), "--k", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kmeanskit: error: ") and err.count("\n") == 1, err
    assert name in err and all(part in err for part in expect), err
    assert not out.exists()


def test_precomputed_distances(tmp_path, capsys):
    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(0, 0.3, (6, 2)), rng.normal(5, 0.3, (6, 2))])
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    names = [f"p{i}" for i in range(12)]
    data = tmp_path / "dist.csv"
    with open(data, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", *names])
        for n, row in zip(names, D, strict=True):
            w.writerow([n, *(f"{v:.17g}" for v in row)])
    run = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(data),
                "--metric",
                "precomputed",
                "--k",
                "2",
                "--id-column",
                "name",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    summary = json.loads((run / "summary.json").read_text())
    assert summary["k"] == 2 and summary["metric"] == "precomputed"
    rows = _assignments(run)
    clusters = [int(r["cluster"]) for r in rows]
    assert len(set(clusters[:6])) == 1 and len(set(clusters[6:])) == 1
    assert clusters[0] != clusters[6]
    medoids = [c["medoid"] for c in summary["centres"]]
    assert len(medoids) == 2 and set(medoids) <= set(names)
    assert (run / "report.html").is_file() and not (run / "model.kmk").exists()
    capsys.readouterr()
    assert main(["predict", str(run), str(data)]) == 0
    predicted = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [int(r["cluster"]) for r in predicted] == clusters
    # a range of k is refused before anything is written
    assert (
        main(
            [
                "cluster",
                str(data),
                "--metric",
                "precomputed",
                "--k",
                "2:4",
                "--id-column",
                "name",
                "--out",
                str(tmp_path / "run2"),
            ]
        )
        == 1
    )
    assert not (tmp_path / "run2").exists()


def test_out_is_checked_first(tmp_path, capsys):
    data = _fruit(tmp_path / "fruit.csv")
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert (
        main(
            [
                "cluster",
                str(data),
                "--k",
                "2",
                "--id-column",
                "name",
                "--columns",
                "weight,length",
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
