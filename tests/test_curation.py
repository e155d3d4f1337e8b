"""The curated clustering of a run after ``kmeanskit review``: its centres, the named
image model and its file, ``predict`` with names, ``kmeanskit export`` (folders, names made
safe, force) and the report's names."""

import csv
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kmeanskit.cli import main
from kmeanskit.errors import RunFolderError
from kmeanskit.runs import layout
from kmeanskit.runs.curated import curated, read_features
from kmeanskit.runs.edits import EditLog
from kmeanskit.runs.export import export_target, folder_names

CLUSTER = ["--k", "2", "--features", "pixels", "--size", "8", "--no-cache"]


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _snapshot(folder) -> dict:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def image_run(tmp_path):
    """An image run of 6 tiny PNGs in 2 clear clusters: ``(photos, run, labels)``."""
    pytest.importorskip("PIL")
    from conftest import write_levels

    photos = write_levels(tmp_path / "photos", 6, (30, 220), side=8, noise=4, seed=0)
    run = tmp_path / "run"
    assert main(["cluster", str(photos), *CLUSTER, "--out", str(run)]) == 0
    labels = {r["path"]: int(r["cluster"]) for r in _rows(run / layout.CSV_FILE)}
    return photos, run, labels


def _members(run, cluster) -> list[int]:
    return [i for i, r in enumerate(_rows(run / layout.CSV_FILE)) if int(r["cluster"]) == cluster]


def _edit(run):
    """Cluster 0 renamed "../x", cluster 1 "a/b"; a row of cluster 1 to a new cluster 2,
    another unassigned. Returns (moved row, unassigned row)."""
    log = EditLog(run)
    one = _members(run, 1)
    log.append({"op": "rename", "cluster": 0, "name": "../x"})
    log.append({"op": "rename", "cluster": 1, "name": "a/b"})
    log.append({"op": "move", "rows": [one[0]], "to": 2, "new": True})
    log.append({"op": "move", "rows": [one[1]], "to": -1})
    return one[0], one[1]


# ------------------------------------------------------------------ the curated clusters


def test_curated_centres_are_the_means_of_the_members(image_run):
    _, run, _ = image_run
    moved, gone = _edit(run)
    c = curated(run)
    assert c.edited and c.n_edits == 4
    assert c.ids == (0, 1, 2) and c.names == ("../x", "a/b", "cluster_02")
    assert c.labels[moved] == 2 and c.labels[gone] == -1
    X = np.load(run / layout.FEATURES_FILE, allow_pickle=False)
    want = np.array([X[c.labels == j].astype(np.float64).mean(axis=0) for j in c.ids])
    np.testing.assert_allclose(c.centres(), want, rtol=1e-12, atol=1e-12)
    assert c.sizes == [int((c.labels == j).sum()) for j in c.ids]


def test_a_run_without_edits_is_its_own_curation_and_emptied_clusters_go(image_run):
    _, run, _ = image_run
    c = curated(run)
    assert not c.edited and c.ids == (0, 1) and c.names == ("cluster_00", "cluster_01")
    EditLog(run).append({"op": "merge", "clusters": [0, 1], "into": 1})
    c = curated(run)
    assert c.ids == (1,) and c.centres().shape[0] == 1


@pytest.mark.parametrize(
    "bad",
    [np.zeros((5, 3), np.float32), np.full((6, 3), np.nan, np.float32), np.zeros(6, np.float32)],
)
def test_a_bad_features_file_is_refused_naming_it(image_run, bad):
    _, run, _ = image_run
    np.save(run / layout.FEATURES_FILE, bad)
    with pytest.raises(RunFolderError, match=r"features\.npy"):
        read_features(run)


def test_a_pickled_features_file_is_never_unpickled(image_run):
    _, run, _ = image_run
    np.save(run / layout.FEATURES_FILE, np.array([{"a": 1}] * 6, dtype=object))
    with pytest.raises(RunFolderError, match=r"features\.npy"):
        read_features(run)
    (run / layout.FEATURES_FILE).unlink()
    with pytest.raises(RunFolderError, match="is missing"):
        read_features(run)


# ------------------------------------------------------------- the named model and its file


def test_the_curated_model_round_trips_its_names(image_run, tmp_path):
    from kmeanskit.images import load_model
    from kmeanskit.images.model_file import load_image_model, save_image_model

    _, run, _ = image_run
    _edit(run)
    model = load_model(run)
    assert model.cluster_names == ["../x", "a/b", "cluster_02"]
    assert model.cluster_ids == [0, 1, 2] and model.kmeans.n_clusters == 3
    np.testing.assert_allclose(model.kmeans.cluster_centers_, curated(run).centres(), atol=1e-6)
    path = save_image_model(model, tmp_path / "m.kmk")
    back = load_image_model(path)
    assert back.cluster_names == model.cluster_names and back.cluster_ids == model.cluster_ids
    np.testing.assert_array_equal(back.kmeans.cluster_centers_, model.kmeans.cluster_centers_)


def test_a_model_file_without_names_loads_as_before(image_run):
    from kmeanskit.images import load_model

    _, run, _ = image_run
    with zipfile.ZipFile(run / layout.MODEL_FILE) as zf:
        params = json.loads(zf.read("model.json"))["params"]
    assert "cluster_names" not in params and "cluster_ids" not in params
    model = load_model(run)
    assert model.cluster_names is None and model.cluster_ids is None
    assert model.kmeans.n_clusters == 2 and model.cluster_id(1) == 1


def _forge(path, out, **changes):
    with zipfile.ZipFile(path) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    header = json.loads(entries["model.json"])
    header["params"].update(changes)
    entries["model.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out


@pytest.mark.parametrize(
    "changes",
    [
        {"cluster_names": ["<b>", "a\x00b"]},
        {"cluster_names": ["ok", "x" * 101]},
        {"cluster_names": ["ok", ""]},
        {"cluster_names": ["ok", 3]},
        {"cluster_names": ["only one"]},
        {"cluster_names": "ab"},
        {"cluster_names": ["ok", "line\u2028break"]},
        {"cluster_ids": [0, 0]},
        {"cluster_ids": [0, -1]},
        {"cluster_ids": [0, True]},
    ],
)
def test_hostile_cluster_names_are_refused(image_run, tmp_path, changes):
    from kmeanskit.images.model_file import load_image_model
    from kmeanskit.model_io import ModelFileError

    _, run, _ = image_run
    path = _forge(run / layout.MODEL_FILE, tmp_path / "forged.kmk", **changes)
    with pytest.raises(ModelFileError, match=r"forged\.kmk"):
        load_image_model(path)


# ------------------------------------------------------------------------------ predict


def test_predict_prints_the_curated_ids_and_names(image_run, capsys):
    _, run, labels = image_run
    paths = list(labels)
    assert main(["predict", str(run), paths[0]]) == 0
    line = capsys.readouterr().out.strip()
    assert line.split("\t")[:2] == [paths[0], f"cluster {labels[paths[0]]}"]
    assert line.split("\t")[2].startswith("distance ")  # a plain run: today's line
    moved, _ = _edit(run)
    path = paths[moved]
    assert main(["predict", str(run), path]) == 0
    fields = capsys.readouterr().out.strip().split("\t")
    assert fields[:3] == [path, "cluster 2", "name cluster_02"]
    assert fields[3].startswith("distance ")
    assert main(["predict", str(run), paths[0], "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["predictions"][0]
    assert row["name"] == ("../x" if labels[paths[0]] == 0 else "a/b")


# ------------------------------------------------------------------------------- export


def test_export_writes_one_folder_per_curated_cluster(image_run, capsys):
    photos, run, labels = image_run
    before = _snapshot(photos)
    moved, gone = _edit(run)
    assert main(["export", str(run)]) == 0
    out = run / "curated"
    assert capsys.readouterr().out.strip().endswith(f"-> {out}")
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["___x", "a_b", "cluster_02", "unassigned"]
    c = curated(run)
    paths = list(labels)
    for j, name in zip((0, 1, 2, -1), ("___x", "a_b", "cluster_02", "unassigned"), strict=True):
        want = sorted(Path(paths[i]).name for i in np.flatnonzero(c.labels == j))
        assert sorted(p.name for p in (out / name).iterdir()) == want
    for p in (out / "___x").iterdir():
        assert p.read_bytes() == (photos / p.name).read_bytes() and not p.is_symlink()
    rows = _rows(out / layout.CSV_FILE)
    assert list(rows[0]) == ["path", "cluster", "name"]
    assert [int(r["cluster"]) for r in rows] == c.labels.tolist()
    assert rows[gone]["name"] == "unassigned" and rows[moved]["name"] == "cluster_02"
    assert _snapshot(photos) == before  # the inputs are only read
    # the export's model predicts with names
    assert main(["predict", str(out), paths[moved]]) == 0
    assert "\tcluster 2\tname cluster_02\t" in capsys.readouterr().out


def test_export_links_and_a_run_never_edited(image_run, tmp_path):
    from kmeanskit.images.curated import export_images

    photos, run, _ = image_run
    result = export_images(run, tmp_path / "ex", link=True)
    assert [c["folder"] for c in result["clusters"]] == ["cluster_00", "cluster_01"]
    assert result["unassigned"] == 0 and not (tmp_path / "ex" / "unassigned").exists()
    files = list((tmp_path / "ex" / "cluster_00").iterdir())
    assert files and all(p.is_symlink() and p.resolve().parent == photos.resolve() for p in files)


def test_export_force_replaces_only_an_earlier_export(image_run, tmp_path, capsys):
    _, run, _ = image_run
    out = tmp_path / "ex"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    assert main(["export", str(run), "--out", str(out)]) == 1  # not empty
    assert "is not empty" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(out), "--force"]) == 0
    EditLog(run).append({"op": "rename", "cluster": 0, "name": "cats"})
    assert main(["export", str(run), "--out", str(out)]) == 1
    assert main(["export", str(run), "--out", str(out), "--force"]) == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["assignments.csv", "cats", "cluster_01", "mine.txt", "model.kmk"]
    assert (out / "mine.txt").read_text() == "mine"
    # a file the user added to an exported folder is never removed
    (out / "cluster_01" / "notes.txt").write_text("mine")
    assert main(["export", str(run), "--out", str(out), "--force"]) == 1
    assert "changed or added" in capsys.readouterr().err
    assert (out / "cluster_01" / "notes.txt").read_text() == "mine"
    EditLog(run).append({"op": "rename", "cluster": 1, "name": "dogs"})
    assert main(["export", str(run), "--out", str(out), "--force"]) == 0
    assert (out / "cluster_01" / "notes.txt").read_text() == "mine"  # kept, not ours
    assert (out / "dogs").is_dir() and (out / "cats").is_dir()


def test_export_never_writes_into_the_run_folder(image_run):
    _, run, _ = image_run
    with pytest.raises(ValueError, match="is the run folder"):
        export_target(run, run)
    with pytest.raises(ValueError, match="holds it"):
        export_target(run, run.parent)


def test_folder_names_are_safe_and_unique():
    names = folder_names(
        ["../x", "a/b", "a\\b", ".hidden", "..", "CON", "x" * 300, "é" * 200, "Cats", "cats"],
        reserved=["unassigned"],
    )
    assert names[:6] == ["___x", "a_b", "a_b_2", "_hidden", "__", "_CON"]
    assert all(len(n.encode()) <= 255 for n in names)
    assert names[8:] == ["Cats", "cats_2"]
    assert folder_names(["unassigned"], reserved=["unassigned"]) == ["unassigned_2"]


# ------------------------------------------------------------------------------- tables


@pytest.fixture()
def table_run(tmp_path):
    tmp_path = tmp_path / "table"
    tmp_path.mkdir()
    data = tmp_path / "t.csv"
    rows = ["name,a,b"] + [f"r{i},{i % 3},{10 + i % 2}" for i in range(6)]
    rows += [f"s{i},{50 + i % 3},{-5 - i % 2}" for i in range(6)]
    data.write_text("\n".join(rows) + "\n")
    run = tmp_path / "run"
    args = ["cluster", str(data), "--k", "2", "--id-column", "name", "--scale", "standard"]
    assert main([*args, "--out", str(run)]) == 0
    return data, run


def test_table_export_and_predict_names(table_run, capsys):
    data, run = table_run
    assert main(["predict", str(run), str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "id,cluster,distance"
    log = EditLog(run)
    log.append({"op": "rename", "cluster": 0, "name": "=evil()"})
    log.append({"op": "move", "rows": [0], "to": 2, "new": True})
    assert main(["predict", str(run), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,cluster,name,distance"
    ident, cluster, name, distance = lines[1].split(",")
    assert (ident, cluster, name) == ("r0", "2", "cluster_02")
    assert float(distance) < 1e-5  # its own centre (features.npy is float32)
    c = curated(run)
    assert main(["export", str(run)]) == 0
    out = run / "curated"
    rows = _rows(out / layout.CSV_FILE)
    assert list(rows[0]) == ["id", "cluster", "name"]
    assert [int(r["cluster"]) for r in rows] == c.labels.tolist()
    assert {r["name"] for r in rows} >= {"'=evil()", "cluster_02"}  # a formula is quoted
    centres = json.loads((out / "centres.json").read_text())
    raw = np.loadtxt(data, delimiter=",", skiprows=1, usecols=(1, 2))
    for cl in centres["clusters"]:
        want = raw[c.labels == cl["id"]].mean(axis=0)
        np.testing.assert_allclose([cl["centre"]["a"], cl["centre"]["b"]], want, atol=1e-5)
    np.testing.assert_allclose(
        [cl["centre_scaled"] for cl in centres["clusters"]], c.centres(), rtol=1e-12
    )


# ------------------------------------------------------------------------------- report


def test_the_report_shows_the_names_escaped(image_run, table_run):
    pytest.importorskip("jinja2")
    for run in (image_run[1], table_run[1]):
        EditLog(run).append({"op": "rename", "cluster": 1, "name": "<script>alert(1)</script>"})
        assert main(["report", str(run)]) == 0
        page = (run / layout.REPORT_FILE).read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
        assert "1 edit from review" in page and "kmeanskit export" in page
        assert "cluster 1 (&lt;script&gt;" in page  # the sizes chart's legend


def test_the_report_of_a_plain_run_has_no_review_line(table_run):
    pytest.importorskip("jinja2")
    page = (table_run[1] / layout.REPORT_FILE).read_text(encoding="utf-8")
    assert 'id="review"' not in page and "from review" not in page


def test_no_symlink_is_followed_out_of_the_export(image_run, tmp_path):
    # the export's own folder names never climb out of it
    _, run, _ = image_run
    _edit(run)
    from kmeanskit.images.curated import export_images

    result = export_images(run, tmp_path / "ex")
    for c in result["clusters"]:
        assert (tmp_path / "ex" / c["folder"]).resolve().parent == (tmp_path / "ex").resolve()
    assert not os.path.lexists(tmp_path / "x")


def test_an_image_model_pickled_before_names_unpickles_without_them(image_run):
    import pickle

    from kmeanskit.images import load_model

    model = load_model(image_run[1])
    for key in ("cluster_names", "cluster_ids"):  # as an older kmeanskit pickled it
        model.__dict__.pop(key)
    back = pickle.loads(pickle.dumps(model))
    assert back.cluster_names is None and back.cluster_ids is None and back.cluster_id(1) == 1


def test_a_spherical_kmeans_gets_unit_centres():
    from kmeanskit.estimators import SphericalKMeans
    from kmeanskit.runs.curated import CuratedClustering, curated_kmeans

    X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    km = SphericalKMeans(2, random_state=0).fit(X)
    c = CuratedClustering(Path("run"), 2, (0,), ("all",), np.zeros(4, np.int64), 1)
    got = curated_kmeans(km, c, X)
    np.testing.assert_allclose(np.linalg.norm(got.cluster_centers_, axis=1), 1.0)
    assert got.predict(X).tolist() == [0, 0, 0, 0]
