"""Fuzz what reads a table run folder back (``kmeanskit.report.build_report``,
``kmeanskit.report.figures.plot_run`` and ``kmeanskit.runs.tables.predict_table``) with
atheris (libFuzzer for Python), or without it as a plain seeded loop of mutated inputs
(``--plain``).

Two small valid table runs are made at start (``cluster_table``: one on columns with k
chosen in 2:4, so with ``k_scores.json``; one on a precomputed distance table). Every
input replaces one file of one of them, then the report is built, the figures drawn and
the run's own data predicted (the figures only for inputs whose first byte is 128 or
more: matplotlib takes most of a second). The first byte picks the file (mod 8), the
second the run (even: columns, odd: distances):

- ``0`` ``summary.json``, ``1`` ``k_scores.json``, ``2`` ``assignments.csv``,
  ``3`` ``map.npy``, ``4`` ``table.json``, ``5`` ``model.kmk`` (the whole file);
- ``6``: ``model.json`` of ``model.kmk``, zipped with the run's arrays, and ``7``: one
  ``.npy`` entry of it (number ``data[2]``), zipped with the others (blindly mutated
  zips rarely get past the CRC). Modes 5 to 7 use the run on columns.

The documented outcomes are :class:`kmeanskit.errors.KmeanskitError` (its subclasses
``ModelFileError``, ``TableError``, ``RunFolderError``, ``InputError``...) or another
``ValueError`` with a one-line message, and ``OSError`` for files. Anything else is a
finding (another exception, a warning, a message over several lines, a prediction that
is not a cluster), as are hangs (``-timeout``) and memory blow-ups (``-rss_limit_mb``).

    pip install atheris
    python benchmarks/fuzz/fuzz_run_folder.py -max_total_time=600 -timeout=20 \\
        -rss_limit_mb=4096 -max_len=65536 /tmp/kmk-fuzz/runs
    python benchmarks/fuzz/fuzz_run_folder.py --plain -max_total_time=600 \\
        -artifact_prefix=/tmp/kmk-fuzz/artifacts/run-     # no atheris needed

``--modes=4567`` fuzzes only the files ``predict`` reads (libFuzzer stops at the first
finding, and the report's readers may have their own). The corpus folder is seeded on
the first run; ``python fuzz_run_folder.py crash-...`` replays one input (with
``--plain`` too).
"""

from __future__ import annotations

import atexit
import csv
import io
import logging
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

try:
    import atheris
except ImportError:  # pragma: no cover - a benchmark script; --plain needs no atheris
    atheris = None

import numpy as np

from kmeanskit.errors import KmeanskitError
from kmeanskit.report import build_report
from kmeanskit.report.figures import plot_run
from kmeanskit.runs.tables import cluster_table, predict_table

PLAIN = "--plain" in sys.argv
#: ``--modes=4567``: only those modes (here the files ``predict`` reads); default all
MODES = next(
    ([int(c) % 8 for c in a.split("=", 1)[1]] for a in sys.argv if a.startswith("--modes=")),
    list(range(8)),
)

#: the run folders, in memory where /dev/shm exists (see the README on removing it)
WORK = Path(
    tempfile.mkdtemp(prefix="kmk-fuzz-run-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
)
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
FILES = ("summary.json", "k_scores.json", "assignments.csv", "map.npy", "table.json", "model.kmk")
HEADER = "model.json"
#: characters that end a line for str.splitlines: a message holds none
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _bases() -> list[tuple[dict, Path]]:
    """({file name: bytes}, data file) of the two base runs."""
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(c, 0.5, (8, 2)) for c in (0.0, 5.0, 10.0)])
    items = _write_csv(
        WORK / "items.csv", ["id", "weight", "length"], [[f"r{i}", *x] for i, x in enumerate(X)]
    )
    D = np.linalg.norm(X[:10, None] - X[None, :10], axis=2)
    names = [f"p{i}" for i in range(10)]
    dist = _write_csv(
        WORK / "dist.csv", ["name", *names], [[n, *d] for n, d in zip(names, D, strict=True)]
    )
    bases = []
    for name, data, options in [
        ("columns", items, {"k": "2:4", "id_column": "id", "scale": "standard"}),
        ("distances", dist, {"k": 2, "id_column": "name", "metric": "precomputed"}),
    ]:
        run = WORK / f"base-{name}"
        cluster_table(data, run, **options)
        files = {f: (run / f).read_bytes() for f in FILES if (run / f).is_file()}
        bases.append((files, data))
    return bases


BASES = _bases()
RUN = WORK / "run"
OUT = WORK / "out"


def _zip(header: bytes, arrays: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(HEADER, header)
        for name, content in arrays.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _model_parts(model: bytes) -> tuple[bytes, dict]:
    with zipfile.ZipFile(io.BytesIO(model)) as zf:
        return zf.read(HEADER), {n: zf.read(n) for n in sorted(zf.namelist()) if n != HEADER}


def to_run(data: bytes) -> Path:
    """Write the run folder an input stands for; returns the data file to predict."""
    mode = data[0] % 8 if data else 0
    if mode not in MODES:
        mode = MODES[mode % len(MODES)]
    files, table = BASES[data[1] % 2 if len(data) > 1 and mode < 5 else 0]
    files = dict(files)
    payload = data[2:]
    if mode < 6:
        files[FILES[mode]] = payload
    else:
        header, arrays = _model_parts(files["model.kmk"])
        if mode == 6:
            header = payload
        else:
            names = sorted(arrays)
            arrays[names[payload[0] % len(names)] if payload else names[0]] = payload[1:]
        files["model.kmk"] = _zip(header, arrays)
    shutil.rmtree(RUN, ignore_errors=True)
    RUN.mkdir()
    for name, content in files.items():
        (RUN / name).write_bytes(content)
    return table


def _documented(exc: BaseException) -> bool:
    """Whether ``exc`` is a documented outcome (see the module's docstring)."""
    if isinstance(exc, OSError) and not isinstance(exc, KmeanskitError):
        return True
    if not isinstance(exc, KmeanskitError | ValueError):
        return False
    text = str(exc)
    if not text or any(c in text for c in BREAKS):
        raise AssertionError(f"the message is not one line: {text!r:.300}") from exc
    return True


def check(data: bytes) -> None:
    table = to_run(data)
    steps = (
        lambda: build_report(RUN, OUT),
        # matplotlib takes most of a second: only inputs whose first byte is >= 128
        *([lambda: plot_run(RUN, OUT, force=True)] if data and data[0] >= 128 else []),
        lambda: predict_table(RUN, [table]),
    )
    for step in steps:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a damaged file is an error, not a warning
                result = step()
        except Exception as exc:
            if not _documented(exc):
                raise
            continue
        if step is steps[-1]:  # the predictions
            for row in result:
                assert isinstance(row["cluster"], int) and row["cluster"] >= 0, row
                assert isinstance(row["distance"], float), row


def seeds() -> dict[str, bytes]:
    """Every file of both base runs, and the parts of the model file."""
    out = {}
    for b, (files, _) in enumerate(BASES):
        for mode, name in enumerate(FILES):
            if name in files and (mode < 5 or b == 0):
                out[f"run{b}-{name}"] = bytes([mode, b]) + files[name]
                out[f"run{b}-{name}-plot"] = bytes([mode + 128, b]) + files[name]
    header, arrays = _model_parts(BASES[0][0]["model.kmk"])
    out["run0-model.json"] = bytes([6, 0]) + header
    for j, name in enumerate(arrays):
        out[f"run0-{name}"] = bytes([7, 0, j]) + arrays[name]
    return out


# ---------------------------------------------------------------- without atheris

#: text a plain mutation may splice in: numbers at the edges, JSON, paths, npy headers
_TOKENS = [
    b"1e400",
    b"-1",
    b"0",
    b"NaN",
    b"Infinity",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b'""',
    b"[" * 2000,
    b"9" * 400,
    b'"../../etc/passwd"',
    b'"/etc/passwd"',
    b'"model.joblib"',
    b'"precomputed"',
    b'"images"',
    b"\x00",
    b"\xff",
    b"\n",
    b",",
    b'"',
    b"(30, 1000000000000)",
    b"(0,)",
    b"'<c16'",
    b"'|O'",
    b"'<f2'",
    b"True",
    b"a" * 300,
]


def plain() -> None:
    """The plain mutation loop (:mod:`_plain`) over this harness's seeds."""
    import _plain

    def mutate(data, rnd):
        return _plain.mutate(data, rnd, _TOKENS, header=3, max_len=65536, replace=True)

    _plain.run(check, seeds, mutate)


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    if PLAIN:
        plain()
        return
    if atheris is None:
        sys.exit(
            "the fuzz harnesses need atheris: pip install atheris (see benchmarks/fuzz), "
            "or run this one with --plain"
        )
    from _common import instrument_modules

    instrument_modules(
        ("kmeanskit", "json", "csv", "zipfile", "numpy.lib._format_impl"),
        exclude=("kmeanskit._engine",),
    )
    folders = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isdir(a)]
    for folder in folders:
        if not any(Path(folder).iterdir()):
            for name, data in seeds().items():
                (Path(folder) / name).write_bytes(data)
    atheris.Setup([a for a in sys.argv if not a.startswith("--")], check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
