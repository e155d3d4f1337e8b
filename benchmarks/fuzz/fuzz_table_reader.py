"""Fuzz the table reader (``kmeanskit.tables.read_table``) with atheris (libFuzzer for
Python), or without it as a plain loop of mutated inputs (``--plain``).

The first byte of an input picks what the rest is (mod 8); the second the options
(``missing``, ``header``, ``id_column``, ``columns``):

- ``0``, ``1``, ``2``: a ``.csv``, ``.tsv`` or ``.txt`` file;
- ``3``: an ``.npy`` file; ``4``: an ``.npz`` file;
- ``5``: the ``X.npy`` entry of an ``.npz`` zipped by the harness (blindly mutated zips
  rarely get past the CRC);
- ``6``: one entry (number ``data[3]``) of a sparse matrix of ``save_npz`` (base
  matrix ``data[2]``: CSR, CSC, COO), zipped by the harness with the others;
- ``7``: a ``.parquet`` file.

The documented outcome for a bad file is a :class:`kmeanskit.tables.TableError` with a
one-line message; a table that is read must hold finite float64 values of magnitude at
most 1e150 in the shape its names and ids give, with distinct names. Anything else is
a finding (another exception, a warning, a wrong table), as are hangs (``-timeout``)
and memory blow-ups (``-rss_limit_mb``): a small file must not allocate what it only
declares.

    pip install atheris
    python benchmarks/fuzz/fuzz_table_reader.py -max_total_time=600 -timeout=20 \\
        -rss_limit_mb=4096 -max_len=16384 /tmp/kmk-fuzz/tables
    python benchmarks/fuzz/fuzz_table_reader.py --plain -max_total_time=600 \\
        -artifact_prefix=/tmp/kmk-fuzz/artifacts/table-     # no atheris needed

The corpus folder is seeded on the first run; ``python fuzz_table_reader.py crash-...``
replays one input (with ``--plain`` too).
"""

from __future__ import annotations

import atexit
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
import scipy.sparse as sp

from kmeanskit.tables import TableError, read_table

PLAIN = "--plain" in sys.argv

#: the input file, in memory where /dev/shm exists (see the README on removing it)
WORK = Path(
    tempfile.mkdtemp(
        prefix="kmk-fuzz-table-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
    )
)
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
SUFFIXES = [".csv", ".tsv", ".txt", ".npy", ".npz", ".npz", ".npz", ".parquet"]
MISSING = ("error", "mean", "median", "drop")
HEADER = ("auto", True, False)
MAX_ABS = 1e150


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _sparse_bases() -> list[dict[str, bytes]]:
    """The ``.npy`` entries of ``save_npz`` files of a small matrix in each format."""
    matrix = sp.random(6, 4, density=0.4, format="csr", random_state=0)
    bases = []
    for fmt in ("csr", "csc", "coo"):
        buf = io.BytesIO()
        sp.save_npz(buf, matrix.asformat(fmt), compressed=False)
        with zipfile.ZipFile(buf) as zf:
            bases.append({name: zf.read(name) for name in sorted(zf.namelist())})
    return bases


SPARSE = _sparse_bases()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return buf.getvalue()


def options(byte: int) -> dict:
    return {
        "missing": MISSING[byte & 3],
        "header": HEADER[(byte >> 2) % 3],
        "id_column": 0 if byte & 16 else None,
        "columns": "1" if byte & 32 else None,
    }


def to_file(data: bytes) -> tuple[Path, dict]:
    """Write the file an input stands for; returns its path and the options."""
    mode = data[0] % 8 if data else 0
    kwargs = options(data[1] if len(data) > 1 else 0)
    payload = data[2:]
    if mode == 5:
        payload = _zip({"X.npy": payload})
    elif mode == 6:
        base = dict(SPARSE[payload[0] % len(SPARSE)] if payload else SPARSE[0])
        names = sorted(base)
        base[names[payload[1] % len(names)] if len(payload) > 1 else names[0]] = payload[2:]
        payload = _zip(base)
    path = WORK / f"input{SUFFIXES[mode]}"
    path.write_bytes(payload)
    return path, kwargs


def _check_table(table) -> None:
    X = table.X
    values = X.data if sp.issparse(X) else X
    assert X.dtype == np.float64 and X.ndim == 2, (X.dtype, X.shape)
    assert X.shape == (table.n_rows, len(table.feature_names)) == (len(table.ids), X.shape[1])
    assert np.isfinite(values).all(), "a value that is not finite"
    assert (np.abs(values) <= MAX_ABS).all(), "a value too large"
    names = table.feature_names
    assert len(set(names)) == len(names), f"names repeated: {names[:10]}"
    assert all(isinstance(name, str) for name in [*names, *table.ids, *table.dropped])


def check(data: bytes) -> None:
    path, kwargs = to_file(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a bad table is an error, not a warning
            table = read_table(path, **kwargs)
    except TableError as exc:  # the documented outcome: one line
        text = str(exc)
        if not text or any(c in text for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            raise AssertionError(f"the message is not one line: {text!r}") from None
        return
    _check_table(table)


def seeds() -> dict[str, bytes]:
    """Small valid inputs of every mode (with a settings byte)."""
    out = {}

    def add(name, mode, content, opts=0):
        out[name] = bytes([mode, opts]) + content

    fruit = "name,weight,length\napple,150,8\npear,180,NA\nplum,40,4\n"
    add("fruit.csv", 0, fruit.encode(), 16 | 1)
    add("numbers.csv", 0, b"1,2,3\n4,5,6\n7,8,9\n")
    add("quoted.csv", 0, b'"id","x"\r\n"Smith, J",1e3\r\n"=cmd",-2\r\n', 16)
    add("fruit.tsv", 1, fruit.replace(",", "\t").encode(), 16 | 2)
    add("s1.txt", 2, b"    157138    565993\n    139601    914203\n   -5  6e1\n")
    add("eu.txt", 2, b"a;b;c\n1;2;3\n4;5;?\n", 3)
    rng = np.random.RandomState(0)
    add("float.npy", 3, _npy(rng.rand(5, 3)))
    add("int8.npy", 3, _npy(rng.randint(-9, 9, (4, 2)).astype(np.int8)), 16)
    add("bool.npy", 3, _npy(rng.rand(3, 2) > 0.5))
    add("half.npy", 3, _npy(rng.rand(3, 2).astype(np.float16)))
    add("fortran.npy", 3, _npy(np.asfortranarray(rng.rand(3, 4).astype(">f4"))))
    buf = io.BytesIO()
    np.savez(buf, X=rng.rand(4, 2), labels=np.arange(4))
    add("dense.npz", 4, buf.getvalue())
    buf = io.BytesIO()
    np.savez_compressed(buf, data=rng.rand(4, 2))
    add("compressed.npz", 4, buf.getvalue())
    add("entry.npz", 5, _npy(rng.rand(3, 3)))
    for i, base in enumerate(SPARSE):
        for j, name in enumerate(sorted(base)):
            add(f"sparse{i}-{name}", 6, bytes([i, j]) + base[name])
    try:
        import pandas as pd

        frame = pd.DataFrame(
            {"id": ["a", "b", "c"], "x": [1.5, None, 2.0], "n": pd.array([1, 2, 3], "Int64")}
        )
        buf = io.BytesIO()
        frame.to_parquet(buf)
        add("frame.parquet", 7, buf.getvalue(), 16 | 1)
    except ImportError:  # no pandas or pyarrow: no Parquet seed
        pass
    return out


# ---------------------------------------------------------------- without atheris

#: text a plain mutation may splice in: numbers at the edges, tokens, names
_TOKENS = [
    b"1e400",
    b"-1e200",
    b"inf",
    b"nan",
    b"NA",
    b"?",
    b"",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r",
    b'"',
    b'"a\nb"',
    b"=cmd",
    b"@x",
    b"1_000",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"0x10",
    b"9" * 400,
    b"a" * 300,
    b"(30, 1000000000000)",
    b"(0,)",
    b"'<c16'",
    b"'|O'",
    b"'<M8[D]'",
]


def plain() -> None:
    """The plain mutation loop (:mod:`_plain`) over this harness's seeds."""
    import _plain

    def mutate(data, rnd):
        return _plain.mutate(data, rnd, _TOKENS, header=2, max_len=16384)

    _plain.run(check, seeds, mutate)


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)  # "dropped 1 of 3 rows...": not findings
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
        (
            "kmeanskit",
            "zipfile",
            "csv",
            "numpy.lib._format_impl",
            "scipy.sparse._compressed",
            "scipy.sparse._coo",
        ),
        exclude=("kmeanskit._engine",),
    )
    folders = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isdir(a)]
    for folder in folders:
        if not any(Path(folder).iterdir()):
            for name, data in seeds().items():
                (Path(folder) / name).write_bytes(data)
    atheris.Setup([a for a in sys.argv if a != "--plain"], check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
