"""kmeanskit._atomic: files written whole or not at all, staged output folders, locks."""

import json
import os

import pytest

from kmeanskit._atomic import (
    LOCK_FILE,
    STAGE_PREFIX,
    atomic_path,
    atomic_write,
    file_lock,
    staged_folder,
)


class Boom(Exception):
    pass


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")

    def half(fh):
        fh.write('{"half": ')
        raise Boom

    with pytest.raises(Boom):
        atomic_write(target, half, text=True)
    assert target.read_text() == "old" and _names(tmp_path) == ["a.json"]
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:  # Ctrl-C alike
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old" and _names(tmp_path) == ["a.json"]
    atomic_write(target, lambda fh: json.dump({"new": 1}, fh), text=True)
    assert json.loads(target.read_text()) == {"new": 1} and _names(tmp_path) == ["a.json"]


def test_no_overwrite_and_the_usual_permissions(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write(target, lambda fh: fh.write(b"1"), overwrite=False)
    with pytest.raises(FileExistsError, match=r"a\.bin' exists; not replaced"):
        atomic_write(target, lambda fh: fh.write(b"2"), overwrite=False)
    with pytest.raises(FileExistsError), atomic_path(tmp_path / "b.bin", overwrite=False) as tmp:
        tmp.write_bytes(b"late")
        (tmp_path / "b.bin").write_bytes(b"someone else's")  # appeared meanwhile
    assert (tmp_path / "b.bin").read_bytes() == b"someone else's"
    assert target.read_bytes() == b"1" and _names(tmp_path) == ["a.bin", "b.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600


def test_a_folder_that_cannot_be_written_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot write '.*missing/a\.txt': No such file"):
        atomic_write(tmp_path / "missing" / "a.txt", lambda fh: fh.write(b""))


def test_the_temporary_name_keeps_the_suffix(tmp_path):
    with atomic_path(tmp_path / "fig.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".")
        assert tmp.is_file()


def test_staged_folder_publishes_all_or_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Boom), staged_folder(out) as stage:
        (stage / "a.csv").write_text("x")
        raise Boom
    assert not out.exists()  # made by the call, removed with the failure
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    with staged_folder(out, last=["summary.json"]) as stage:
        (stage / "summary.json").write_text("{}")
        (stage / "cluster_0").mkdir()
        assert _names(out)[0].startswith(STAGE_PREFIX)  # nothing visible yet
    assert _names(out) == ["cluster_0", "mine.txt", "summary.json"]
    with pytest.raises(FileExistsError, match=r"summary\.json' exists; pass force=True"):
        with staged_folder(out) as stage:
            (stage / "summary.json").write_text("{}")
    with staged_folder(out, force=True, replaces=["cluster_0", "cluster_9"]) as stage:
        (stage / "summary.json").write_text('{"new": 1}')
    assert _names(out) == ["mine.txt", "summary.json"]  # old outputs gone, the user's kept
    assert (out / "summary.json").read_text() == '{"new": 1}'


def test_staging_folders_of_killed_runs_and_live_ones(tmp_path):
    out = tmp_path / "run"
    (out / f"{STAGE_PREFIX}killed").mkdir(parents=True)  # a run killed outright
    (out / f"{STAGE_PREFIX}killed" / "half.csv").write_text("x")
    with staged_folder(out) as stage:
        (stage / "a.csv").write_text("x")
    assert _names(out) == ["a.csv"]
    live = out / f"{STAGE_PREFIX}live"
    live.mkdir()
    with file_lock(live / LOCK_FILE, timeout=0):  # a run at work in the same folder
        with pytest.raises(FileExistsError, match="another kmeanskit run is writing into"):
            with staged_folder(out, force=True):
                pass  # pragma: no cover
    assert live.is_dir()


def test_lock_timeout(tmp_path):
    lock = tmp_path / ".lock"
    with file_lock(lock, timeout=0):
        with pytest.raises(TimeoutError, match=r"waited 0\.1 s"):
            with file_lock(lock, timeout=0.1):
                pass  # pragma: no cover
    with file_lock(lock, timeout=0):
        pass
