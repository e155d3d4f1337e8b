"""The review server without a browser: its requests, its security, and its edit log
surviving a SIGKILL."""

import builtins
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kmeanskit.cli import main
from kmeanskit.runs.edits import EDITS_FILE, EditLog

httpx = pytest.importorskip("httpx")  # the 'review' extra; installed in CI
Image = pytest.importorskip("PIL.Image")
TestClient = pytest.importorskip("starlette.testclient").TestClient
app_module = pytest.importorskip("kmeanskit.review.app")
ReviewServer, create_app = app_module.ReviewServer, app_module.create_app
ReviewSession = pytest.importorskip("kmeanskit.review.session").ReviewSession

HOST = "127.0.0.1:8000"
ORIGIN = f"http://{HOST}"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """24 small grey images in three groups of brightness, two of them identical."""
    d = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for i in range(24):
        level = (i % 3) * 100 + 20
        pixels = np.clip(level + rng.normal(0, 8, (16, 16)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(d / f"img{i:02d}.png")
    (d / "img23.png").write_bytes((d / "img20.png").read_bytes())
    return d


@pytest.fixture
def run(source, tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            [
                "cluster",
                str(source),
                "--k",
                "3",
                "--features",
                "pixels",
                "--size",
                "8",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def client(run):
    session = ReviewSession(run)
    token = "t0k3n"
    app = create_app(session, token, {HOST})
    c = TestClient(app, base_url=ORIGIN)
    return c, token, session


def post(c, token, edit, **headers):
    return c.post(
        "/api/edit", json=edit, headers={"X-Kmeanskit-Token": token, "Origin": ORIGIN, **headers}
    )


def test_requests_and_edits(run):
    c, token, session = client(run)
    info = c.get(f"/api/run?token={token}").json()
    assert info["n"] == 24 and info["has_features"] and info["has_images"]
    assert sorted(info["names"]) == [f"img{i:02d}.png" for i in range(24)]
    page = c.get(f"/?token={token}")
    assert page.status_code == 200 and "review.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    state = c.get("/api/state", headers={"X-Kmeanskit-Token": token}).json()
    labels = state["labels"]
    assert [cl["name"] for cl in state["clusters"]] == ["cluster_00", "cluster_01", "cluster_02"]
    r = post(c, token, {"op": "rename", "cluster": 1, "name": "  dark <b> "}).json()
    assert r["clusters"][1]["name"] == "dark <b>" and r["changed"] == []
    r = post(c, token, {"op": "move", "rows": [0, 1], "to": "new"}).json()
    assert r["created"] == 3 and sorted(r["changed"]) == [[0, 3], [1, 3]]
    r = post(c, token, {"op": "merge", "clusters": [0, 2], "into": 2}).json()
    assert [cl["id"] for cl in r["clusters"]] == [1, 2, 3]
    r = post(c, token, {"op": "undo"}).json()
    assert [cl["id"] for cl in r["clusters"]] == [0, 1, 2, 3] and r["can_redo"]
    r = post(c, token, {"op": "redo"}).json()
    assert [cl["id"] for cl in r["clusters"]] == [1, 2, 3] and not r["can_redo"]
    r = post(c, token, {"op": "move", "rows": [5], "to": -1}).json()
    assert r["clusters"][-1] == {"id": -1, "name": "unassigned", "size": 1}
    big = max(r["clusters"], key=lambda cl: cl["size"])["id"]
    r = post(c, token, {"op": "split", "cluster": big, "k": 2}).json()
    assert len(r["created"]) == 1
    bad = post(c, token, {"op": "merge", "clusters": [1], "into": 1})
    assert bad.status_code == 400 and "two clusters" in bad.json()["error"]
    assert post(c, token, {"op": "rename", "cluster": 99, "name": "x"}).status_code == 400
    assert post(c, token, {"op": "move", "rows": [24], "to": 1}).status_code == 400
    assert post(c, token, {"op": "explode"}).status_code == 400
    # the log, replayed afresh, gives the state the server holds
    again = EditLog(run).state
    assert again.labels.tolist() == session.log.state.labels.tolist()
    assert again.clusters() == session.log.state.clusters()
    assert labels != again.labels.tolist()
    lines = (run / EDITS_FILE).read_text().splitlines()
    assert json.loads(lines[0])["op"] == "start" and len(lines) == 8  # start + 7 edits


def test_similar_duplicates_and_images(run):
    c, token, _ = client(run)
    h = {"X-Kmeanskit-Token": token}
    sim = c.get("/api/similar/20?n=3", headers=h).json()
    assert sim["neighbours"][0] == {"row": 23, "distance": 0.0}
    assert len(sim["neighbours"]) == 3
    dup = c.get("/api/duplicates", headers=h).json()
    assert [20, 23] in dup["groups"] and dup["min"] == 0 <= dup["default"] <= dup["max"]
    assert c.get("/api/duplicates?threshold=-1", headers=h).status_code == 400
    img = c.get(f"/img/3?token={token}")
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert img.content[:2] == b"\xff\xd8"


def test_token_host_origin_and_size(run):
    c, token, _ = client(run)
    assert c.get("/").status_code == 403
    assert c.get("/api/state?token=wrong").status_code == 403
    assert c.get(f"/img/0?token={token}x").status_code == 403
    assert (
        c.get(f"/api/state?token={token}", headers={"Host": "evil.example:8000"}).status_code == 403
    )
    edit = {"op": "rename", "cluster": 0, "name": "x"}
    assert post(c, token, edit, Origin="http://evil.example").status_code == 403
    no_origin = c.post("/api/edit", json=edit, headers={"X-Kmeanskit-Token": token})
    assert no_origin.status_code == 403
    form = c.post(
        "/api/edit",
        content=b"op=x",
        headers={
            "X-Kmeanskit-Token": token,
            "Origin": ORIGIN,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert form.status_code == 415
    huge = c.post(
        "/api/edit",
        content=b" " * (3 * 2**20),
        headers={"X-Kmeanskit-Token": token, "Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert not (run / EDITS_FILE).exists()  # nothing refused was written


def test_images_by_row_only(run, monkeypatch, tmp_path):
    c, token, _ = client(run)
    secret = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(secret)
    opened = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    for url in (
        f"/img/24?token={token}",
        f"/img/-1?token={token}",
        f"/img/{secret}?token={token}",
        f"/img/..%2F..%2Fsecret.png?token={token}",
        f"/static/..%2Fapp.py?token={token}",
        f"/api/similar/99999?token={token}",
    ):
        assert c.get(url).status_code == 404, url
    assert c.get(f"/img/0?token={token}&path={secret}").status_code == 200
    assert not any("secret" in p for p in opened)


def test_binding_elsewhere_needs_the_flag(run, capsys):
    assert main(["review", str(run), "--host", "0.0.0.0", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "--host '0.0.0.0'" in err and "--allow-remote" in err


def test_a_damaged_or_foreign_log_is_refused(run):
    log = EditLog(run)
    log.append({"op": "rename", "cluster": 0, "name": "a"})
    path = run / EDITS_FILE
    text = path.read_text()
    path.write_text(text + '{"op": "merge", "clusters": [0, 7], "into": 0}\n')
    with pytest.raises(ValueError, match="does not apply"):
        EditLog(run)
    path.write_text(text.replace(json.loads(text.splitlines()[0])["assignments"], "0" * 64))
    with pytest.raises(ValueError, match="another clustering"):
        EditLog(run)
    path.write_text(text + '{"op": "move", "rows": [1], "to"')  # cut short by a crash
    log = EditLog(run)
    assert log.state.names[0] == "a"
    assert path.read_text().endswith('"to"')  # reading changes nothing
    log.append({"op": "rename", "cluster": 1, "name": "b"})
    assert EditLog(run).state.names == {0: "a", 1: "b", 2: None}
    assert '"to"' not in path.read_text()  # the cut line went before the next edit


def _serve(run):
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmeanskit", "review", str(run), "--no-browser"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("review: http://127.0.0.1:"), line
    url = line.split()[1]
    base, token = url.split("/?token=")
    return proc, httpx.Client(base_url=base, headers={"X-Kmeanskit-Token": token, "Origin": base})


def test_sigkill_between_edits_loses_nothing(run):
    proc, http = _serve(run)
    try:
        for edit in (
            {"op": "rename", "cluster": 2, "name": "bright"},
            {"op": "move", "rows": [3, 4], "to": 0},
            {"op": "undo"},
            {"op": "move", "rows": [7], "to": "new"},
        ):
            assert http.post("/api/edit", json=edit).status_code == 200
        before = http.get("/api/state").json()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
        http.close()
    proc, http = _serve(run)
    try:
        after = http.get("/api/state").json()
        assert after == before
        assert after["clusters"][2]["name"] == "bright" and after["labels"][7] == 3
        assert http.post("/api/edit", json={"op": "undo"}).json()["clusters"][-1]["id"] == 2
        assert http.post("/api/edit", json={"op": "redo"}).json()["created"] is None
        assert {**http.get("/api/state").json(), "seq": 0} == {**before, "seq": 0}
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        proc.stdout.close()
        http.close()


def test_server_thread_starts_and_stops(run):
    server = ReviewServer(run).start()
    try:
        base, token = server.url.split("/?token=")
        assert httpx.get(f"{base}/api/state", params={"token": token}).status_code == 200
        assert httpx.get(f"{base}/api/state").status_code == 403
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/api/state", params={"token": token}, timeout=2)
    time.sleep(0)


def test_a_table_run(tmp_path):
    table = tmp_path / "t.csv"
    rows = ["a,b"] + [f"{i % 3 * 10 + i * 0.01},{i % 3}" for i in range(30)]
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    assert main(["cluster", str(table), "--k", "3", "--out", str(out)]) == 0
    c, token, _ = client(out)
    h = {"X-Kmeanskit-Token": token}
    info = c.get("/api/run", headers=h).json()
    assert info["kind"] == "table" and not info["has_images"] and info["has_features"]
    assert len(info["names"]) == 30 and info["names"][0] == "row 1"
    assert c.get(f"/img/0?token={token}").status_code == 404
    assert len(c.get("/api/similar/0?n=4", headers=h).json()["neighbours"]) == 4
    r = post(c, token, {"op": "split", "cluster": 0, "k": None}).json()
    assert r["created"] and r["n_edits"] == 1


def test_a_run_without_features(run):
    (run / "features.npy").unlink()
    c, token, _ = client(run)
    h = {"X-Kmeanskit-Token": token}
    assert not c.get("/api/run", headers=h).json()["has_features"]
    for answer in (
        c.get("/api/similar/0", headers=h),
        c.get("/api/duplicates", headers=h),
        post(c, token, {"op": "split", "cluster": 0, "k": 2}),
    ):
        assert answer.status_code == 400 and "features.npy" in answer.json()["error"]
    assert post(c, token, {"op": "rename", "cluster": 0, "name": "kept"}).status_code == 200


def test_a_damaged_features_file_is_named(run):
    import numpy as np

    np.save(run / "features.npy", np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match=r"features\.npy.*expected 24 rows"):
        ReviewSession(run)


def test_cluster_force_never_removes_the_edits(run, source, capsys):
    EditLog(run).append({"op": "rename", "cluster": 0, "name": "mine"})
    before = (run / EDITS_FILE).read_bytes()
    command = ["cluster", str(source), "--k", "3", "--features", "pixels", "--size", "8"]
    assert main([*command, "--out", str(run), "--force"]) == 1
    assert "edits made by hand" in capsys.readouterr().err
    assert (run / EDITS_FILE).read_bytes() == before


def test_images_not_found_from_here_are_warned(run, tmp_path, monkeypatch, caplog):
    import csv

    with (run / "assignments.csv").open() as fh:
        rows = list(csv.reader(fh))
    with (run / "assignments.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [[Path(r[0]).name, *r[1:]] for r in rows[1:]])
    monkeypatch.chdir(tmp_path)
    (run / EDITS_FILE).unlink(missing_ok=True)
    with caplog.at_level("WARNING"):
        ReviewSession(run)
    assert "relative to the folder 'kmeanskit cluster' ran in" in caplog.text


def test_an_image_is_opened_only_by_the_allowed_decoders(run, tmp_path):
    import csv

    eps = tmp_path / "drawing.png"  # PostScript under an image's name
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    gif = tmp_path / "face"  # a GIF without an extension
    Image.new("L", (6, 6), 128).save(gif, format="GIF")
    with (run / "assignments.csv").open() as fh:
        rows = list(csv.reader(fh))
    rows[1][0], rows[2][0] = str(eps), str(gif)
    with (run / "assignments.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    c, token, _ = client(run)
    assert c.get(f"/img/0?token={token}").status_code == 404
    assert c.get(f"/img/1?token={token}").status_code == 200
