"""The edit log of a run: undo and redo taken back incrementally agree with a replay of
the edits in force from scratch, for random sequences of edits."""

import numpy as np
import pytest

from kmeanskit.runs.edits import Curation, EditError, History, check_name, replay


def random_edit(rng, state: Curation) -> dict:
    ids = sorted(state.names)
    n = len(state.labels)
    kind = rng.choice(["rename", "merge", "move", "move_new", "split", "undo", "redo"])
    if kind == "rename":
        return {"op": "rename", "cluster": int(rng.choice(ids)), "name": f"n{rng.integers(9)}"}
    if kind == "merge" and len(ids) >= 2:
        pick = [int(c) for c in rng.choice(ids, size=2, replace=False)]
        return {"op": "merge", "clusters": pick, "into": pick[int(rng.integers(2))]}
    if kind in ("move", "move_new"):
        rows = sorted({int(r) for r in rng.integers(0, n, size=rng.integers(1, 6))})
        if kind == "move_new":
            return {"op": "move", "rows": rows, "to": state.next_id, "new": True}
        return {"op": "move", "rows": rows, "to": int(rng.choice([*ids, -1]))}
    if kind == "split":
        sizes = {c: int((state.labels == c).sum()) for c in ids}
        big = [c for c, size in sizes.items() if size >= 2]
        if big:
            c = int(rng.choice(big))
            members = np.flatnonzero(state.labels == c).tolist()
            cut = int(rng.integers(1, len(members)))
            created = [state.next_id]
            return {
                "op": "split",
                "cluster": c,
                "parts": [members[:cut], members[cut:]],
                "created": created,
            }
    return {"op": "undo" if kind == "undo" else "redo"}


@pytest.mark.parametrize("seed", range(20))
def test_incremental_undo_redo_agrees_with_replay(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=30)
    history = History(Curation.initial(labels, 4))
    played = []
    for _ in range(120):
        edit = random_edit(rng, history.state)
        try:
            history.play(edit)
        except EditError:
            continue
        played.append(edit)
        fresh = Curation.initial(labels, 4)
        for done in history.edits():
            fresh.apply(done)
        assert fresh.labels.tolist() == history.state.labels.tolist()
        assert fresh.clusters() == history.state.clusters()
    again = replay(labels, 4, played)
    assert again.state.clusters() == history.state.clusters()
    assert again.edits() == history.edits() and again.undone == history.undone


def test_a_bad_edit_leaves_the_state_as_it_was():
    history = History(Curation.initial(np.array([0, 1, 1]), 2))
    for edit in (
        {"op": "merge", "clusters": [0, 5], "into": 0},
        {"op": "move", "rows": [0, 0], "to": 1},
        {"op": "move", "rows": [1], "to": 7, "new": True},
        {"op": "split", "cluster": 1, "parts": [[1], [0]], "created": [2]},
        {"op": "rename", "cluster": 0, "name": "a\x00b"},
        {"op": "undo"},
    ):
        with pytest.raises(EditError):
            history.play(edit)
        assert history.state.labels.tolist() == [0, 1, 1] and history.state.names == {
            0: None,
            1: None,
        }


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\nb", "a\u202eb", 3])
def test_names_are_checked(name):
    with pytest.raises(EditError):
        check_name(name)


HOSTILE_LINES = [
    b"not json",
    b"[1, 2, 3]",
    b'"a string"',
    b"[" * 100000 + b"]" * 100000,
    b'{"op": "rename", "cluster": true, "name": "x"}',
    b'{"op": "rename", "cluster": 0, "name": ["x"]}',
    b'{"op": "move", "rows": ["0"], "to": 1}',
    b'{"op": "move", "rows": [1e300], "to": 1}',
    b'{"op": "move", "rows": [99999999999999999999], "to": 1}',
    b'{"op": "move", "rows": {"0": 1}, "to": 1}',
    b'{"op": "move", "rows": [0], "to": 2.5}',
    b'{"op": "merge", "clusters": [0, 1], "into": null}',
    b'{"op": "split", "cluster": 0, "parts": [[0], [0]], "created": [2]}',
    b'{"op": "split", "cluster": 0, "parts": "x", "created": [2]}',
    b'{"op": "start", "assignments": "x"}',
    b'{"op": "__class__"}',
    b'{"op": "rename", "cluster": 0, "name": "' + b"x" * 200 + b'"}',
]


@pytest.fixture
def table_run(tmp_path):
    from kmeanskit.runs.tables import cluster_table

    (tmp_path / "t.csv").write_text("a,b\n0,0\n0,1\n9,9\n9,8\n")
    cluster_table(tmp_path / "t.csv", tmp_path / "run", k=2)
    return tmp_path / "run"


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=range(len(HOSTILE_LINES)))
def test_a_hostile_log_line_is_one_clear_error(table_run, line):
    from kmeanskit.errors import RunFolderError
    from kmeanskit.runs.edits import EDITS_FILE, EditLog

    EditLog(table_run).append({"op": "rename", "cluster": 0, "name": "a"})
    path = table_run / EDITS_FILE
    path.write_bytes(path.read_bytes() + line + b"\n")
    with pytest.raises(RunFolderError, match=r"edits\.jsonl"):
        EditLog(table_run)


def test_a_log_that_is_a_link_or_a_folder_is_refused(table_run, tmp_path):
    from kmeanskit.errors import RunFolderError
    from kmeanskit.runs.edits import EDITS_FILE, EditLog

    (tmp_path / "elsewhere.jsonl").write_text("")
    (table_run / EDITS_FILE).symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(RunFolderError, match="not a plain file"):
        EditLog(table_run)
    (table_run / EDITS_FILE).unlink()
    (table_run / EDITS_FILE).mkdir()
    with pytest.raises(RunFolderError, match="not a plain file"):
        EditLog(table_run)
