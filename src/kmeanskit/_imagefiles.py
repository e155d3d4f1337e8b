"""What an image file is: the names read as images, the decoders allowed, the signatures
that identify a file without an image extension, and opening one with those checks.

A leaf of the package (no kmeanskit imports; Pillow imported only when a file is opened),
shared by the image reader (:mod:`kmeanskit.images.io`), the report's thumbnails and the
review server, so that every place that opens a user's file opens it the same way: a
regular file only (never a FIFO or a device), only Pillow's decoders of ``DECODERS`` (never
EPS, which runs Ghostscript, nor the dozens of rarer formats), a file without an image
extension only by the one format its first bytes name, and Pillow's decompression-bomb
warning made an error.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import warnings
from pathlib import Path

__all__ = [
    "DECODERS",
    "MAX_PIXELS",
    "SUFFIXES",
    "has_suffix",
    "jpeg_thumbnail",
    "open_image",
    "sniff",
]

#: file name endings read as images (case-insensitive)
SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".webp",
    ".pgm",
    ".ppm",
    ".pbm",
    ".pnm",
)
#: the decoders Pillow may use, whatever a file is called: those of SUFFIXES only (no
#: EPS, which Pillow renders by running Ghostscript, nor the dozens of rarer formats)
DECODERS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
#: how many first bytes of a file without an image extension are read to identify it
HEAD_BYTES = 32
#: the BMP information-header sizes Pillow reads (a "BM" file with another is not a BMP)
_BMP_HEADERS = (12, 40, 52, 56, 64, 108, 124)
_NO_SIGNATURE = "no PNG/JPEG/GIF/BMP/TIFF/WebP/PGM signature"
#: images with more pixels are refused (Pillow's decompression-bomb guard, made an error)
MAX_PIXELS = 89_478_485


def sniff(head: bytes) -> str | None:
    """The format (Pillow's name, one of ``DECODERS``) whose signature a file's first
    bytes ``head`` start with, or None.

    PNG, JPEG (``FF D8 FF``), GIF87a/GIF89a, BMP (``BM`` and an information-header size
    Pillow reads), TIFF (and BigTIFF), WebP (``RIFF....WEBP``) and PBM/PGM/PPM (``P1`` to
    ``P6`` then white space, Pillow's ``PPM``); nothing else.

    Examples
    --------
    >>> sniff(b"GIF89a"), sniff(b"P5 8 8 255 "), sniff(b"%!PS-Adobe-3.0 EPSF")
    ('GIF', 'PPM', None)
    """
    head = bytes(head[:HEAD_BYTES])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if len(head) >= 3 and head[0:1] == b"P" and head[1] in b"123456" and head[2] in b" \t\n\r\v\f":
        return "PPM"
    if head[:2] == b"BM" and len(head) >= 18:
        offset = int.from_bytes(head[10:14], "little")
        header = int.from_bytes(head[14:18], "little")
        if header in _BMP_HEADERS and offset >= 14 + header:
            return "BMP"
    return None


def has_suffix(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def _regular(path: Path) -> os.stat_result:
    """``path``'s status (links followed); ValueError with the reason unless it is a
    regular file (a FIFO or a device would block or never end)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ValueError(f"broken symbolic link (to {os.readlink(path)!r})") from None
        raise ValueError("no such file (removed while the run went on?)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("symbolic link loop") from None
        raise
    if not stat.S_ISREG(st.st_mode):
        raise ValueError("not a regular file")
    return st


def _head(path: Path) -> bytes:
    """The first ``HEAD_BYTES`` bytes of the regular file ``path`` (checked again once
    open, without blocking: it may have been replaced by a FIFO meanwhile)."""
    _regular(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        return os.read(fd, HEAD_BYTES)
    finally:
        os.close(fd)


def _format_of(path: Path) -> str:
    """The one decoder for ``path``, a file without an image extension, from its first
    bytes; ValueError with the reason when it is not an image."""
    head = _head(path)
    kind = sniff(head)
    if kind is None:
        if not head:
            raise ValueError("not an image: empty file")
        ext = f"({path.suffix})" if path.suffix else "(none)"
        raise ValueError(f"not an image: no image extension {ext} and {_NO_SIGNATURE}")
    return kind


#: Pillow's bomb check warns through the warnings filters, which threads share: one open
#: at a time (reading the header only; decoding runs in parallel)
_OPEN_LOCK = threading.Lock()


def _open(path: Path):
    """``Image.open`` with the decompression-bomb warning made an error, after checking
    that ``path`` is a regular file (a FIFO or a device would block or never end); a
    file without an image extension is opened by the one decoder its signature names."""
    from PIL import Image

    st = _regular(path)
    if st.st_size == 0:
        raise ValueError("empty file")
    formats = DECODERS if has_suffix(path.name) else (_format_of(path),)
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(path, formats=formats)


def open_image(path):
    """``path`` opened by Pillow as :func:`kmeanskit.images.io.decode` opens it (for
    thumbnails and the like): a regular file only, the decompression-bomb warning an
    error, and only the decoders of ``DECODERS`` (for a file without an image extension:
    the one its first bytes name). Raises ValueError with the reason (``empty file``,
    ``not an image: ...``, ...), or Pillow's and the file system's own errors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "face"
    >>> Image.new("L", (5, 3)).save(p, format="GIF")
    >>> with open_image(p) as img:
    ...     img.format, img.size
    ('GIF', (5, 3))
    """
    return _open(Path(path))


def jpeg_thumbnail(path, side: int, quality: int = 80) -> bytes:
    """The image ``path`` (opened by :func:`open_image`, EXIF orientation applied) as a
    JPEG of at most ``side`` pixels a side: the report's thumbnails and the review
    page's images. Raises what :func:`open_image` raises, and ValueError for an image of
    more than ``MAX_PIXELS``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from PIL import Image
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> Image.new("RGB", (300, 100)).save(p)
    >>> jpeg_thumbnail(p, 64)[:2]
    b'\\xff\\xd8'
    """
    import io

    from PIL import ImageOps

    with open_image(path) as img:
        if img.width * img.height > MAX_PIXELS:
            raise ValueError(f"too many pixels ({img.width} x {img.height})")
        img.draft("RGB", (side, side))  # JPEG: decoded at a fraction of its size
        img = ImageOps.exif_transpose(img)
        img.thumbnail((side, side))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
