"""``--force`` replaces only what a kmeanskit run provably wrote (its manifest), and never
renames over something that is not a regular file (issue 20, items 1 and 2)."""

import json
import os
import socket

import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI

from test_no_data_lost import CLUSTER, snapshot

from conftest import write_levels
from kmeanskit.cli import main


@pytest.fixture()
def photos(tmp_path):
    return write_levels(tmp_path / "photos", 8, (40, 200), side=16, noise=6, seed=0)


def _cluster(photos, out, *extra):
    return main(["cluster", str(photos), *CLUSTER, "--out", str(out), *extra])


def test_a_fifo_or_socket_out_is_never_replaced(photos, tmp_path, capsys):
    photo = str(next(photos.iterdir()))
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    assert main(["quantize", photo, "--colors", "2", "--out", str(fifo), "--force"]) == 1
    assert "is a FIFO, not a regular file; it is never replaced" in capsys.readouterr().err
    assert fifo.is_fifo()
    sock_path = tmp_path / "s.npz"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        args = ["features", str(photos), "--k", "2", "--out", str(sock_path), "--force"]
        assert main([*args, "--features", "pixels", "--size", "8", "--no-cache"]) == 1
        assert "is a socket" in capsys.readouterr().err
        assert sock_path.is_socket()


def test_force_keeps_folders_the_user_made_under_our_names(photos, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "thumbs").mkdir(parents=True)
    (out / "thumbs" / "vacation.jpg").write_bytes(b"mine")
    (out / "report.html").mkdir()
    (out / "report.html" / "notes.txt").write_text("mine")
    before = snapshot(out)
    assert _cluster(photos, out, "--force") == 1
    err = capsys.readouterr().err
    assert "was not written by kmeanskit" in err and err.count("\n") == 1
    assert snapshot(out) == before


def test_a_summary_naming_a_folder_proves_nothing(photos, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "mystuff").mkdir(parents=True)
    (out / "mystuff" / "a.txt").write_text("mine")
    outputs = {"csv": "assignments.csv", "folders": ["mystuff"]}
    (out / "summary.json").write_text(json.dumps({"outputs": outputs}))
    before = snapshot(out)
    assert _cluster(photos, out, "--force") == 1
    assert "summary.json' was not written by kmeanskit" in capsys.readouterr().err
    assert snapshot(out) == before
    (out / "summary.json").unlink()  # without it, force leaves mystuff alone
    assert _cluster(photos, out, "--force") == 0
    assert (out / "mystuff" / "a.txt").read_text() == "mine"


def test_a_forged_manifest_proves_nothing(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert _cluster(photos, out) == 0
    manifest = json.loads((out / ".kmeanskit-manifest.json").read_text())
    (out / "mystuff").mkdir()
    (out / "mystuff" / "a.txt").write_text("mine")
    manifest["entries"]["mystuff"] = {"entries": {"a.txt": {"size": 4, "sha256": "0" * 64}}}
    (out / ".kmeanskit-manifest.json").write_text(json.dumps(manifest))
    assert _cluster(photos, out, "--force") == 0
    assert (out / "mystuff" / "a.txt").read_text() == "mine"


def test_report_and_plot_keep_the_run_replaceable(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert _cluster(photos, out) == 0
    assert main(["report", str(out)]) == 0
    assert main(["plot", str(out)]) == 0
    assert _cluster(photos, out, "--force") == 0  # report.html, thumbs, PNGs: ours
    assert not (out / "sizes.png").exists()  # the old run's figures went with it
    (out / "report.html").write_text("edited by hand")
    assert _cluster(photos, out, "--force") == 1
    assert "report.html' was changed or added since kmeanskit wrote" in capsys.readouterr().err


def test_same_long_names_from_two_folders_fit_the_file_system(tmp_path, capsys):
    from PIL import Image

    long = "é" * 125 + ".png"  # 254 bytes: the copy of the second one needs a suffix
    for sub in ("a", "b"):
        (tmp_path / "photos" / sub).mkdir(parents=True)
        Image.new("L", (8, 8), 100).save(tmp_path / "photos" / sub / long)
    out = tmp_path / "out"
    args = ["cluster", str(tmp_path / "photos"), "--k", "1", "--features", "pixels"]
    assert main([*args, "--size", "8", "--out", str(out), "--no-cache"]) == 0
    names = sorted(p.name for p in (out / "cluster_00").iterdir())
    assert len(names) == 2 and all(len(n.encode()) <= 255 for n in names)
