"""Reading ``.npy`` arrays, alone or in a ``.npz`` zip, with their sizes checked first.

numpy's own loader allocates the array its header declares before it reads a byte of
it, so a 1 kB file declaring shape (30, 10**12) asks for terabytes. Here the header is
parsed and checked by the caller (dtype, dimensions), then the bytes the shape needs
are compared with the bytes the file (or zip entry) holds, and a zip entry may not
claim to inflate more than deflate can (:data:`MAX_RATIO`); only then are the bytes
read.
"""

from __future__ import annotations

import lzma
import math
import struct
import tokenize
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._common import TableError, show

__all__ = [
    "BAD_ZIP",
    "MAX_RATIO",
    "npy_entries",
    "open_npz",
    "read_entry",
    "read_npy_file",
    "shape_text",
]

#: a zip entry may not declare more than this many bytes per compressed byte (deflate
#: reaches about 1032; numpy's ``savez_compressed`` of zeros comes close)
MAX_RATIO = 1100
#: what zipfile and its decompressors raise on a damaged or unusual archive
BAD_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,  # a compression method zipfile does not know
    RuntimeError,  # an encrypted entry
    OverflowError,
)
#: what numpy's header parser raises on a damaged header, besides ValueError: found by
#: the model loader's fuzzing (tokenize.TokenError, the warnings) and this one's
_BAD_HEADER = (
    ValueError,
    SyntaxError,
    TypeError,
    tokenize.TokenError,
    RecursionError,
    MemoryError,
    EOFError,
    Warning,
)

#: ``check(shape, dtype)``: the caller's checks of a header, raising TableError
Check = Callable[[tuple, np.dtype], None]


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shape_text(shape: tuple) -> str:
    """A shape as shown in a message: at most 80 characters."""
    text = str(tuple(shape))
    return text if len(text) <= 80 else text[:77] + "..."


def _header(fh, path, fail: Callable[[str], TableError]) -> tuple[tuple, bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of an ``.npy`` stream at its start."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"npy format version {version} is not read here")
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        with warnings.catch_warnings():
            # numpy warns on headers it never writes (a UserWarning when it parses one
            # again as Python 2's, a DeprecationWarning for a dtype alias): faults here
            warnings.simplefilter("error")
            shape, fortran, dtype = read(fh)
    except _BAD_HEADER as exc:
        raise fail(f"bad header: {_first_line(exc)}") from None
    if dtype.hasobject:
        raise TableError(f"{path} holds Python objects, not numbers")
    if any(size < 0 for size in shape):
        raise fail(f"negative dimension in shape {shape_text(shape)}")
    return tuple(shape), bool(fortran), dtype


def _read(fh, header, held: int, where: str, what: str) -> np.ndarray:
    """The data of an ``.npy`` stream after its header; ``held``: the bytes left."""
    shape, fortran, dtype = header
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > held:
        raise TableError(
            f"{where}: {what} declares shape {shape_text(shape)} of {dtype} ({nbytes} bytes); "
            f"the file holds {held}"
        )
    if dtype.itemsize == 0:
        raise TableError(f"{where}: {what} holds {dtype} values, not numbers")
    data = fh.read(nbytes)
    if len(data) != nbytes:
        raise TableError(f"{where}: {what} is truncated ({len(data)} of {nbytes} bytes)")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def read_npy_file(path: Path, check: Check) -> np.ndarray:
    """The array of an ``.npy`` file, its header passed to ``check`` before any of its
    data is read."""

    def fail(detail: str) -> TableError:
        return TableError(f"{path} is not a valid .npy file ({detail})")

    with open(path, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise fail("no NumPy header")
        fh.seek(0)
        header = _header(fh, path, fail)
        check(*header[::2])
        held = path.stat().st_size - fh.tell()
        return _read(fh, header, held, str(path), "the array")


def open_npz(path: Path) -> zipfile.ZipFile:
    """The zip archive of an ``.npz`` file (a TableError when it is not one)."""
    try:
        # is_zipfile itself raises BadZipFile on a zip64 end record spanning disks
        # (found by benchmarks/fuzz/fuzz_table_reader.py)
        if not zipfile.is_zipfile(path):
            raise TableError(f"{path} is not a valid .npz file (not a zip archive)")
        return zipfile.ZipFile(path)
    except BAD_ZIP as exc:
        raise TableError(f"{path} is not a valid .npz file ({_first_line(exc)})") from None


def npy_entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The ``.npy`` entries of an archive by the key :func:`numpy.load` gives them (the
    name without ``.npy``); other entries are not arrays and are left out."""
    return {
        info.filename[:-4]: info
        for info in zf.infolist()
        if info.filename.endswith(".npy") and not info.is_dir()
    }


def read_entry(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, check: Check):
    """The array of the ``.npy`` entry ``info``: its declared sizes, then its header
    (passed to ``check``), checked before its data is read."""
    key = info.filename[:-4]
    what = f"array {show(key)}"

    def fail(detail: str) -> TableError:
        return TableError(f"{path} is not a valid .npz file ({what}: {detail})")

    if info.flag_bits & 0x1:
        raise fail("encrypted")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise fail(
            f"{info.file_size} bytes compressed into {info.compress_size}, "
            f"more than {MAX_RATIO} to 1"
        )
    try:
        with zf.open(info) as fh:
            header = _header(fh, path, fail)
            check(*header[::2])
            array = _read(fh, header, info.file_size - fh.tell(), str(path), what)
            fh.read(1)  # reaching the end checks the CRC
    except TableError:
        raise
    except BAD_ZIP as exc:
        raise fail(_first_line(exc)) from None
    return array
