"""Finding and decoding images: a folder in, float32 arrays of one size out.

Files are only ever opened for reading. What cannot be decoded (not an image, truncated,
empty, too many pixels) is reported with its reason and skipped; the rest goes on. A file
whose name has no image extension (the Yale faces: ``subject01.happy``) is identified by its
first bytes (:func:`sniff`) and decoded by the one format they announce; any other file is
listed with its reason (:func:`scan_images`), never left out silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._imagefiles import (
    MAX_PIXELS,
    _format_of,
    _open,
    has_suffix,
    open_image,
    sniff,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Failure",
    "ImageSpec",
    "decode",
    "iter_decoded",
    "list_images",
    "open_image",
    "read_image",
    "scan_images",
    "sniff",
]

HIDDEN_FILE = "not read: a hidden file (its name starts with '.')"
HIDDEN_FOLDER = "not read: a hidden folder (its name starts with '.'; nothing in it is read)"
FITS = ("fit", "pad", "crop", "stretch")
MODES = ("grey", "rgb")


#: the largest side images are brought to (``size``)
MAX_SIZE = 2048


@dataclass(frozen=True)
class ImageSpec:
    """How every image is brought to one shape.

    Parameters
    ----------
    size : (width, height)
    mode : {'grey', 'rgb'}
        Grey is Pillow's ``L`` (ITU-R 601 luma); transparency is composed on white.
    fit : {'fit', 'pad', 'crop', 'stretch'}
        ``'fit'`` and ``'pad'``: scale to fit inside, then pad with white to the size
        (``'fit'`` centres, as ``'pad'`` does; both keep the aspect ratio);
        ``'crop'``: scale to cover, then cut the centre; ``'stretch'``: resize ignoring
        the aspect ratio.
    """

    size: tuple[int, int] = (64, 64)
    mode: str = "grey"
    fit: str = "fit"

    def __post_init__(self):
        size = tuple(int(v) for v in np.atleast_1d(self.size))
        if len(size) == 1:
            size = (size[0], size[0])
        if len(size) != 2 or min(size) < 1:
            raise ValueError(
                f"size must be (width, height) of positive ints; got size={self.size!r}"
            )
        if max(size) > MAX_SIZE:
            raise ValueError(
                f"size must be at most {MAX_SIZE} pixels a side (every image of a batch is "
                f"held at that size: {MAX_SIZE} x {MAX_SIZE} RGB is 48 MiB); got size={self.size!r}"
            )
        object.__setattr__(self, "size", size)
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {self.mode!r}")
        if self.fit not in FITS:
            raise ValueError(f"fit must be one of {FITS}; got {self.fit!r}")

    @property
    def shape(self) -> tuple[int, ...]:
        w, h = self.size
        return (h, w) if self.mode == "grey" else (h, w, 3)


@dataclass(frozen=True)
class Failure:
    """A file that was skipped, and why."""

    path: str
    reason: str


def _classify(path: Path, hidden_too: bool = False) -> str | None:
    """None when ``path`` is listed as an image, else why it is left out."""
    if not hidden_too and path.name.startswith("."):
        return HIDDEN_FILE
    if has_suffix(path.name):
        return None  # decode reports what is wrong with it
    try:
        _format_of(path)
    except ValueError as exc:
        return str(exc)
    except PermissionError:
        return "cannot read: permission denied"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    return None


def scan_images(root, recursive: bool = True) -> tuple[list[Path], list[Failure]]:
    """The image files under ``root`` (or ``root`` itself when it is a file), sorted,
    and every other file with the reason it is left out.

    A file is an image when its name ends with one of ``SUFFIXES`` (what is wrong with
    it is reported by :func:`decode`) or, without such an extension, when its first bytes
    hold the signature of one of ``DECODERS`` (:func:`sniff`; only regular files are
    read). Hidden files and folders (names starting with ``.``: ``.DS_Store``, ``.git``)
    are not read but listed (a folder once, not what it holds). Symbolic links are
    followed, but a directory reached twice (a link loop, or two links to one place) is
    read once. Names are kept as the file system gives them (bytes that are not UTF-8 as
    Python's surrogate escapes). A subfolder that cannot be listed is logged and skipped
    (``root`` itself: an error).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "b.PNG").write_bytes(b""), (d / "face").write_bytes(b"GIF89a...")
    >>> _ = (d / "notes.txt").write_text("hello")
    >>> paths, skipped = scan_images(d)
    >>> [p.name for p in paths]
    ['b.PNG', 'face']
    >>> [(pathlib.Path(f.path).name, f.reason[:40]) for f in skipped]
    [('notes.txt', 'not an image: no image extension (.txt) ')]
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {str(root)!r}")
    if root.is_file():
        why = _classify(root, hidden_too=True)
        return ([root], []) if why is None else ([], [Failure(str(root), why)])
    found: list[Path] = []
    skipped: list[Failure] = []
    seen: set[str] = set()

    def unreadable(exc: OSError):
        if os.path.realpath(exc.filename) == os.path.realpath(root):
            raise type(exc)(f"cannot list {str(root)!r}: {exc.strerror}")
        logger.warning("cannot list the folder %s: %s", exc.filename, exc.strerror)

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        if not recursive:
            dirnames[:] = []
        for name in dirnames:
            if name.startswith("."):  # .git, .thumbnails, a run's staging folder: listed
                skipped.append(Failure(str(Path(dirpath) / name), HIDDEN_FOLDER))
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            why = _classify(path)
            if why is None:
                found.append(path)
            else:
                skipped.append(Failure(str(path), why))
    return found, skipped


def list_images(root, recursive: bool = True) -> list[Path]:
    """Image files under ``root`` (or ``root`` itself when it is a file), sorted: those
    of :func:`scan_images`, which also says why each other file is left out (here, a
    warning names how many and the first).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "b.PNG").write_bytes(b""); (d / "a.txt").write_bytes(b"")
    0
    0
    >>> [p.name for p in list_images(d)]
    ['b.PNG']
    """
    found, skipped = scan_images(root, recursive)
    if skipped:
        logger.warning(
            "%d files in %s are not read as images (the first: %s: %s)",
            len(skipped),
            root,
            skipped[0].path,
            skipped[0].reason,
        )
    return found


def _to_mode(img, mode: str):
    from PIL import Image

    if img.mode.startswith("I;16") or img.mode == "I":  # 16 bits (Pillow: I;16 or I)
        arr = np.asarray(img, dtype=np.float64)
        img = Image.fromarray((np.clip(arr / 65535.0, 0, 1) * 255 + 0.5).astype(np.uint8))
    if img.mode == "F":  # 32-bit float (TIFF): Pillow's convert would clip [0, 1] to black
        arr = np.asarray(img, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ValueError("cannot decode: float pixels hold NaN or infinite values")
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if lo < 0 or hi > 255:
            raise ValueError(
                f"cannot decode: float pixels from {lo:g} to {hi:g}; expected the range "
                "[0, 1] or [0, 255]"
            )
        scale = 255.0 if hi <= 1.0 else 1.0
        img = Image.fromarray((arr * scale + 0.5).astype(np.uint8))
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("L" if mode == "grey" else "RGB")


def _resize(img, spec: ImageSpec):
    from PIL import Image, ImageOps

    size = spec.size
    if spec.fit == "stretch":
        return img.resize(size, Image.Resampling.BILINEAR)
    if spec.fit == "crop":
        return ImageOps.fit(img, size, Image.Resampling.BILINEAR)
    fill = 255 if img.mode == "L" else (255, 255, 255)
    return ImageOps.pad(img, size, Image.Resampling.BILINEAR, color=fill)


def decode(path, spec: ImageSpec) -> np.ndarray:
    """One image as float32 in [0, 1] with ``spec.shape``; raises ValueError with the
    reason when it cannot be read.

    EXIF orientation is applied (``ImageOps.exif_transpose``); palette and alpha are
    composed on white; 16-bit images (Pillow's ``I;16`` and ``I``) are read on the
    0-65535 scale; 32-bit float images (``F``, float TIFF) on the [0, 1] scale when
    their values lie there, else on the 0-255 scale (other values are refused); CMYK and
    the other modes are converted by Pillow; animated files
    (GIF, WebP, APNG) give their first frame. The reasons of a refusal: ``empty file``,
    ``not an image Pillow can read``, ``cannot decode: ...`` (truncated or corrupt),
    ``refused as a decompression bomb: ...`` or ``too many pixels`` (more than
    ``MAX_PIXELS``, judged from the header, before decoding), ``cannot read: permission
    denied``, ``broken symbolic link``, ``symbolic link loop``, ``not a regular file``,
    ``not an image: ...`` (no image extension and no known signature). A file with an
    image extension may be decoded by any of ``DECODERS``; one without, only by the
    format its first bytes announce (:func:`sniff`).
    """
    arr = _read(path, spec.mode, spec)
    if arr.shape != spec.shape:  # pragma: no cover - Pillow's resize guarantees it
        raise ValueError(f"decoded to shape {arr.shape}, expected {spec.shape}")
    return arr


def read_image(path, mode: str = "rgb") -> np.ndarray:
    """One image at its own size (after the EXIF rotation), float32 in [0, 1], shape
    ``(h, w)`` or ``(h, w, 3)``; the same checks and conversions as :func:`decode`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> Image.new("RGB", (5, 3), "white").save(p)
    >>> read_image(p).shape
    (3, 5, 3)
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    return _read(path, mode, None)


def _read(path, mode: str, spec: ImageSpec | None) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with _open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError(
                    f"too many pixels ({img.width} x {img.height}; the limit is {MAX_PIXELS})"
                )
            img.load()
            img = _to_mode(ImageOps.exif_transpose(img), mode)
            if spec is not None:
                img = _resize(img, spec)
            arr = np.asarray(img, dtype=np.float32) / 255.0
    except ValueError:
        raise
    except UnidentifiedImageError:
        raise ValueError("not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"refused as a decompression bomb: {exc}") from None
    except PermissionError:
        raise ValueError("cannot read: permission denied") from None
    except (OSError, SyntaxError, EOFError) as exc:  # truncated or corrupt data
        raise ValueError(f"cannot decode: {exc}") from None
    except Exception as exc:  # a decoder's own bug on hostile data must not end the run
        raise ValueError(f"cannot decode: {type(exc).__name__}: {exc}") from None
    return arr


def _decode_or_reason(path, spec):
    try:
        return decode(path, spec), None
    except ValueError as exc:
        return None, str(exc)


def iter_decoded(
    paths, spec: ImageSpec, batch_size: int = 256, n_jobs: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, list[Failure]]]:
    """Decode ``paths`` in batches, in parallel threads (Pillow releases the GIL while
    it decodes): yields ``(indices, images, failures)`` per batch, ``images`` of shape
    ``(len(indices),) + spec.shape``; only one batch is held at a time.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (40, 20), "red").save(d / "a.png")
    >>> (d / "b.png").write_text("not an image")
    12
    >>> idx, imgs, bad = next(iter_decoded([d / "a.png", d / "b.png"], ImageSpec((8, 8))))
    >>> idx.tolist(), imgs.shape, bad[0].reason
    ([0], (1, 8, 8), 'not an image Pillow can read')
    """
    paths = list(paths)
    workers = n_jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for lo in range(0, len(paths), batch_size):
            chunk = paths[lo : lo + batch_size]
            results = list(pool.map(lambda p: _decode_or_reason(p, spec), chunk))
            good = [i for i, (arr, _) in enumerate(results) if arr is not None]
            failures = [Failure(str(chunk[i]), r) for i, (a, r) in enumerate(results) if a is None]
            for f in failures:
                logger.warning("skipped %s: %s", f.path, f.reason)
            images = np.empty((len(good), *spec.shape), dtype=np.float32)
            for j, i in enumerate(good):
                images[j] = results[i][0]
            yield np.array(good, dtype=np.int64) + lo, images, failures
