"""The container of kmeanskit's model files: a zip of ``.npy`` arrays and ``model.json``.

The layout is numpy's ``.npz`` (``np.load(path, allow_pickle=False)`` opens it), read
here entry by entry so that nothing is taken on trust: the JSON is parsed by :mod:`json`,
every array's header is read and checked (a plain number dtype, a shape that agrees with
the bytes that follow) before its bytes are, and the bytes become an array through
``np.frombuffer``. Nothing is unpickled or executed, and whatever is wrong with a file
(not a zip, truncated, tampered with, from a newer format version) is a
:class:`ModelFileError` naming the file and the fault. What the description *means* is
checked by the caller (:mod:`kmeanskit.model_io`).

What a file may make the reader allocate is capped from what it declares, before a
byte of an array is inflated (a zip entry of a few MB can inflate to GBs):

- a central directory of at most :data:`MAX_DIRECTORY_BYTES`, at most
  :data:`MAX_ENTRIES` entries, and ``model.json`` of at most :data:`MAX_HEADER_BYTES`;
- each ``.npy`` header at most :data:`MAX_NPY_HEADER` bytes (numpy's own limit);
- each array (its header's shape x item size, which must also be what its zip entry
  declares) at most :data:`MAX_ARRAY_BYTES`, all of them together at most
  :data:`MAX_TOTAL_BYTES`; with ``expect`` (the shapes ``model.json``'s parameters
  give), each array's declared shape must be the expected one;
- an archive declaring more than :data:`RATIO_FLOOR` bytes of arrays at most
  :data:`MAX_RATIO` times the size of the file (numbers compress a few times; a run of
  zeros a thousand times).

The caps are far above real models: 10,000 centres of 4,096 float64 features are
328 MB, and their file is about as large. Only arrays that compress more than
:data:`MAX_RATIO` times and total over :data:`RATIO_FLOOR` would be refused, such as the
``labels_`` of over 32 million rows sorted by cluster (save such a model without them,
or with joblib).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import tokenize
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._atomic import atomic_path
from .errors import KmeanskitError

__all__ = ["FORMAT", "VERSION", "Array", "ModelFileError", "UnsupportedModelError"]

FORMAT = "kmeanskit-model"
#: the format version written, and the newest one read
VERSION = 1
HEADER = "model.json"
#: model.json larger than this is refused (a description is a few kB)
MAX_HEADER_BYTES = 4 * 2**20
#: the most entries a model file holds (an image model has about a dozen)
MAX_ENTRIES = 64
#: the largest central directory read (its entries, before they are counted)
MAX_DIRECTORY_BYTES = MAX_ENTRIES * 1024
#: the longest ``.npy`` header read (numpy refuses longer ones as unsafe)
MAX_NPY_HEADER = 10_000
#: the most bytes one array may declare
MAX_ARRAY_BYTES = 2 * 2**30
#: the most bytes all the arrays of a file may declare together
MAX_TOTAL_BYTES = 4 * 2**30
#: above this many declared bytes, the arrays may be at most MAX_RATIO x the file's size
RATIO_FLOOR = 256 * 2**20
MAX_RATIO = 200
#: arrays are inflated into their final memory this many bytes at a time
_CHUNK = 16 * 2**20
#: array names: letters, digits, '_' and '.', as written by :mod:`kmeanskit.model_io`
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,199}\Z")
#: the only dtypes a model file may hold (little-endian numbers and booleans)
NUMBERS = ("|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8")
DTYPES = frozenset(np.dtype(c) for c in NUMBERS)
_TOP_KEYS = {"format", "version", "kind", "params", "arrays"}
_OPTIONAL_KEYS = {"kmeanskit_version", "attributes"}
#: what the zip, zlib and npy readers raise on damaged bytes
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    struct.error,
    zlib.error,
    NotImplementedError,
    OverflowError,
)


class ModelFileError(KmeanskitError, ValueError):
    """A model file that cannot be loaded: not a model file, damaged, tampered with,
    or written by a newer kmeanskit. The message names the file and what is wrong."""


class UnsupportedModelError(KmeanskitError, ValueError):
    """A model that the pickle-free format cannot hold (the message says which part);
    such a model can still be saved with joblib, from trusted code to trusted code."""


def write(path, kind: str, params: dict, attributes: dict, arrays: dict, *, overwrite=False):
    """Write a model file atomically (:func:`kmeanskit._atomic.atomic_path`: a temporary
    file in the same folder, then renamed): an interrupted write never leaves a half file
    under ``path``, and without ``overwrite`` a file that appears meanwhile is not
    replaced. Returns the path."""
    from ._version import __version__

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    for name in arrays:
        if not NAME.match(name):  # pragma: no cover - the names are ours
            raise ValueError(f"bad array name {name!r}")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "kmeanskit_version": __version__,
        "params": params,
        "attributes": attributes,
        "arrays": sorted(arrays),
    }
    try:
        text = json.dumps(header, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UnsupportedModelError(f"cannot describe the {kind} in JSON: {exc}") from None
    with atomic_path(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(HEADER, text)
            for name in sorted(arrays):
                arr = np.asarray(arrays[name])  # an F-ordered array stays F-ordered
                if arr.dtype not in DTYPES:  # pragma: no cover - the arrays are ours
                    raise UnsupportedModelError(f"array {name!r} has dtype {arr.dtype}")
                with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
    return path


def read(path, expect=None) -> tuple[dict, dict]:
    """``(header, arrays)`` of a model file, the container checked (see the module's
    docstring).

    Parameters
    ----------
    path : str or Path
    expect : callable, optional
        ``expect(header)`` -> ``{array name: ((dimension name, size or None), ...)}``,
        called once ``model.json`` is read (see
        :func:`kmeanskit.model_io.expected_shapes`): an array whose ``.npy`` header
        declares another shape is refused before it is read.

    Returns
    -------
    (dict, dict)
        ``model.json`` and the arrays by name.

    Raises
    ------
    ModelFileError
        Whatever is wrong with the file, or a cap of the module's docstring exceeded.
    FileNotFoundError, PermissionError
        For a file that cannot be opened at all.
    """
    path = Path(path)
    where = f"model file {str(path)!r}"
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder, not a model file")
    if path.exists() and not path.is_file():  # a FIFO would block, a device never end
        raise ModelFileError(f"{where} is not a regular file")
    with open(path, "rb") as fh:  # a missing or unreadable file keeps its own error
        start = fh.read(4)
        fh.seek(0)
        if start[:1] == b"\x80":
            raise ModelFileError(
                f"{where} is a pickle (joblib) file, not a kmeanskit model file; it runs code "
                "when loaded: open it with joblib only if you trust where it came from"
            )
        if start != b"PK\x03\x04":
            raise ModelFileError(f"{where} is not a kmeanskit model file (not a zip archive)")
        size = os.fstat(fh.fileno()).st_size
        _check_directory(fh, where)
        try:
            with zipfile.ZipFile(fh) as zf:
                return _read_zip(zf, where, size, expect)
        except ModelFileError:
            raise
        except RecursionError:
            raise ModelFileError(f"{where}: {HEADER} is nested too deeply") from None
        except MemoryError:  # below the caps, but more than this machine has
            raise ModelFileError(f"{where}: its arrays do not fit in memory") from None
        except _DAMAGE as exc:
            raise ModelFileError(
                f"{where} is damaged (truncated or altered): {type(exc).__name__}: {exc}"
            ) from None


def _fail(where: str, what: str):
    raise ModelFileError(f"{where}: {what}")


def _check_directory(fh, where: str) -> None:
    """Refuse a central directory over :data:`MAX_DIRECTORY_BYTES` before zipfile makes
    an object of each of its entries (millions fit in a file of a few MB). Its size is
    read from the end record by zipfile's own reader; what that cannot read is left to
    :class:`zipfile.ZipFile` to refuse."""
    find = getattr(zipfile, "_EndRecData", None)
    try:
        end = find(fh) if find is not None else None
    except (OSError, ValueError, struct.error, zipfile.BadZipFile):
        end = None
    finally:
        fh.seek(0)
    if end is not None and end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        _fail(
            where,
            f"its central directory declares {end[zipfile._ECD_SIZE]} bytes of entries; "
            f"the limit is {MAX_DIRECTORY_BYTES}",
        )


def _read_zip(zf: zipfile.ZipFile, where: str, size: int, expect) -> tuple[dict, dict]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        _fail(where, f"the archive holds {len(infos)} entries; the limit is {MAX_ENTRIES}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        _fail(where, "two entries of the same name")
    if HEADER not in names:
        _fail(where, f"no {HEADER} in the archive (not a kmeanskit model file)")
    for info in infos:
        if info.flag_bits & 0x1:
            _fail(where, f"entry {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _fail(where, f"entry {info.filename!r} uses compression method {info.compress_type}")
    info = zf.getinfo(HEADER)
    if info.file_size > MAX_HEADER_BYTES:
        _fail(where, f"{HEADER} is {info.file_size} bytes; the limit is {MAX_HEADER_BYTES}")
    with zf.open(info) as fh:
        raw = fh.read(MAX_HEADER_BYTES + 1)
    if len(raw) > MAX_HEADER_BYTES:
        _fail(where, f"{HEADER} is over {MAX_HEADER_BYTES} bytes")
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, huge integers
        _fail(where, f"{HEADER} is not valid JSON ({exc})")
    _check_header(header, where)
    expected = {f"{name}.npy" for name in header["arrays"]} | {HEADER}
    if set(names) != expected:
        missing = sorted(expected - set(names))
        extra = sorted(set(names) - expected)
        _fail(where, f"the arrays do not match {HEADER}: missing {missing}, unexpected {extra}")
    shapes = expect(header) if expect is not None else {}
    # every header first: the sizes are checked before any array is inflated
    plans = {
        name: _plan(zf, zf.getinfo(f"{name}.npy"), where, name, shapes.get(name))
        for name in header["arrays"]
    }
    total = sum(plan[3] for plan in plans.values())
    if total > MAX_TOTAL_BYTES:
        _fail(
            where,
            f"its arrays declare {total} bytes together; the limit is {MAX_TOTAL_BYTES} "
            "(MAX_TOTAL_BYTES)",
        )
    if total > RATIO_FLOOR and total > MAX_RATIO * size:
        _fail(
            where,
            f"its arrays declare {total} bytes, {total // max(size, 1)} times the file's "
            f"{size} bytes; the limit is {MAX_RATIO} times (a zip bomb?)",
        )
    arrays = {
        name: _read_array(zf, zf.getinfo(f"{name}.npy"), where, name, plans[name])
        for name in header["arrays"]
    }
    return header, arrays


def _no_constant(name):
    raise ValueError(f"{name} is not a number here")


def _check_header(header, where: str) -> None:
    if not isinstance(header, dict):
        _fail(where, f"{HEADER} must be a JSON object; got {type(header).__name__}")
    if header.get("format") != FORMAT:
        _fail(
            where,
            f"not a kmeanskit model file (format {header.get('format')!r}, expected {FORMAT!r})",
        )
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(where, f"version must be a positive integer; got {version!r}")
    if version > VERSION:
        _fail(
            where,
            f"made by a newer kmeanskit (format version {version}; this one reads "
            f"up to {VERSION}); upgrade kmeanskit to load it",
        )
    keys = set(header)
    if not _TOP_KEYS <= keys or not keys <= _TOP_KEYS | _OPTIONAL_KEYS:
        _fail(
            where,
            f"{HEADER} keys: missing {sorted(_TOP_KEYS - keys)}, "
            f"unexpected {sorted(keys - _TOP_KEYS - _OPTIONAL_KEYS)}",
        )
    if not isinstance(header["kind"], str):
        _fail(where, f"kind must be a string; got {header['kind']!r:.80}")
    for key in ("params", "attributes"):
        if not isinstance(header.get(key, {}), dict):
            _fail(where, f"{key} must be a JSON object; got {header[key]!r:.80}")
    header.setdefault("attributes", {})
    arrays = header["arrays"]
    if not isinstance(arrays, list) or not all(isinstance(n, str) for n in arrays):
        _fail(where, f"arrays must be a list of names; got {arrays!r:.80}")
    bad = [n for n in arrays if not NAME.match(n)]
    if bad or len(set(arrays)) != len(arrays):
        _fail(where, f"bad or repeated array names in {arrays!r:.200}")


def _npy_header(fh, where: str, name: str):
    """``(shape, fortran_order, dtype)`` of an ``.npy`` entry (format 1.0 or 2.0), its
    header's length checked before the header is read."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"npy format version {version} is not read here")
        width = 2 if version == (1, 0) else 4
        field = fh.read(width)
        length = int.from_bytes(field, "little")
        if len(field) != width or length > MAX_NPY_HEADER:
            _fail(
                where,
                f"array {name!r}: its npy header declares {length} bytes; the limit is "
                f"{MAX_NPY_HEADER}",
            )
        prefix = io.BytesIO(field + fh.read(length))
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        with warnings.catch_warnings():
            # numpy warns on headers we never write (a UserWarning when it parses one
            # again as Python 2's, a DeprecationWarning for a dtype alias such as 'a'):
            # in a model file they are faults
            warnings.simplefilter("error")
            return read(prefix)
    except ModelFileError:
        raise
    # numpy's header parser raises more than ValueError on a damaged header (found by
    # benchmarks/fuzz/fuzz_model_loader.py: tokenize.TokenError, the warnings)
    except (ValueError, SyntaxError, TypeError, tokenize.TokenError, Warning) as exc:
        _fail(where, f"array {name!r}: bad npy header ({type(exc).__name__}: {exc})")


def _plan(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, name: str, expected):
    """``(shape, fortran_order, dtype, nbytes)`` of one ``.npy`` entry, from its header
    alone: the dtype, the declared size (against the caps, the zip entry's declared size
    and ``expected``, the shape model.json gives) checked before anything is inflated."""
    with zf.open(info) as fh:
        shape, fortran, dtype = _npy_header(fh, where, name)
        offset = fh.tell()
    if dtype.hasobject:
        _fail(where, f"array {name!r} holds Python objects (pickled data); refused")
    if dtype not in DTYPES:
        _fail(
            where,
            f"array {name!r} has dtype {dtype}; a model file holds only "
            "little-endian numbers and booleans",
        )
    if any(s < 0 for s in shape):
        _fail(where, f"array {name!r} has a negative dimension in {shape}")
    if max(shape, default=0) > MAX_ARRAY_BYTES:  # even with another dimension 0
        _fail(where, f"array {name!r} declares shape {shape}: a dimension beyond the limit")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_ARRAY_BYTES:
        _fail(
            where,
            f"array {name!r} declares shape {shape} of {dtype}: {nbytes} bytes; the limit "
            f"is {MAX_ARRAY_BYTES} (MAX_ARRAY_BYTES)",
        )
    if expected is not None:
        declared = f"array {name!r} declares shape {shape} ({nbytes} bytes)"
        if len(expected) != len(shape):
            _fail(where, f"{declared}; expected {len(expected)} dimensions")
        for (sym, want), n in zip(expected, shape, strict=True):
            if want is not None and n != want:
                _fail(where, f"{declared}; dimension {sym} should be {want}")
    held = info.file_size - offset
    if held != nbytes:
        _fail(
            where,
            f"array {name!r} of shape {shape} needs {nbytes} bytes; the file holds {held}",
        )
    return shape, fortran, dtype, nbytes


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, name: str, plan):
    """One ``.npy`` entry, planned by :func:`_plan`: inflated straight into its array."""
    shape, fortran, dtype, nbytes = plan
    arr = np.empty(math.prod(shape), dtype=dtype)
    out = arr.view(np.uint8)
    with zf.open(info) as fh:
        _npy_header(fh, where, name)
        done = 0
        while done < nbytes:
            data = fh.read(min(_CHUNK, nbytes - done))
            if not data:
                break
            out[done : done + len(data)] = np.frombuffer(data, dtype=np.uint8)
            done += len(data)
        if done != nbytes or fh.read(1):  # the last read also checks the CRC
            _fail(where, f"array {name!r} is truncated")
    arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=False)


# -- checks of the description, shared by the kinds --------------------------------------
@dataclass(frozen=True)
class Array:
    """A fitted array: allowed dtypes, shape (names bind dimensions across arrays)."""

    dtypes: tuple
    shape: tuple
    required: bool = True
    check: str = "finite"  # or 'labels' (0 <= v < k), 'any'


def check_keys(obj, required, optional, what: str, where: str) -> dict:
    """``obj`` must be a JSON object with the ``required`` keys and no key beyond
    ``optional``; returns it."""
    if not isinstance(obj, dict):
        raise ModelFileError(f"{where}: {what} must be a JSON object; got {obj!r:.80}")
    keys = set(obj)
    if not set(required) <= keys or not keys <= set(required) | set(optional):
        raise ModelFileError(
            f"{where}: {what} keys: missing {sorted(set(required) - keys)}, "
            f"unexpected {sorted(keys - set(required) - set(optional))}"
        )
    return obj


def scalar_ok(value, rule) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(rule, tuple):
        return isinstance(value, str) and value in rule
    if rule.startswith("int"):
        return isinstance(value, int) and not isinstance(value, bool) and value >= int(rule[-1])
    if not number or not math.isfinite(value):
        return False
    return rule == "float" or (value > 0 if rule == "float>0" else value >= 0)


def check_array(arr, spec: Array, sizes: dict, key: str, where: str):
    if arr.dtype not in [np.dtype(d) for d in spec.dtypes]:
        raise ModelFileError(
            f"{where}: array {key!r} has dtype {arr.dtype}; expected "
            f"{' or '.join(str(np.dtype(d)) for d in spec.dtypes)}"
        )
    if arr.ndim != len(spec.shape):
        raise ModelFileError(
            f"{where}: array {key!r} has shape {arr.shape}; expected {len(spec.shape)} dimensions"
        )
    for sym, n in zip(spec.shape, arr.shape, strict=True):
        want = sizes.setdefault(sym, n) if isinstance(sym, str) else sym
        if n != want:
            raise ModelFileError(
                f"{where}: array {key!r} has shape {arr.shape}; dimension {sym} should be {want}"
            )
    if spec.check == "finite" and not np.isfinite(arr).all():
        raise ModelFileError(f"{where}: array {key!r} holds NaN or infinite values")
    if spec.check == "labels" and arr.size and not (0 <= arr.min() and arr.max() < sizes["k"]):
        raise ModelFileError(f"{where}: array {key!r} holds labels outside 0..{sizes['k'] - 1}")
    return arr
