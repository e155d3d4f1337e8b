"""Fuzz the image decoder of kmeanskit (``kmeanskit.images.io.decode`` and ``read_image``)
with atheris (libFuzzer for Python).

Every input is written to a file and decoded, as ``kmeanskit cluster`` and ``quantize``
decode a photo. The first byte picks the settings (grey or RGB, the fit, the reader);
the rest is the file. The documented outcome for a bad file is a ``ValueError`` with
the reason (the file is listed and skipped); a good one gives float32 pixels in [0, 1]
of the asked shape. Anything else is a finding: another exception, a wrong array, a
hang (``-timeout``) or a memory blow-up (``-rss_limit_mb``).

    pip install atheris
    python benchmarks/fuzz/fuzz_image_loader.py -max_total_time=600 -timeout=20 \\
        -rss_limit_mb=4096 -max_len=16384 /tmp/kmk-fuzz/images

The corpus folder is seeded on the first run with small valid PNG, JPEG, GIF, TIFF,
BMP, WebP and PNM files made with Pillow. ``python fuzz_image_loader.py crash-...``
replays one input (libFuzzer's behaviour for file arguments).
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

try:
    import atheris
except ImportError:  # pragma: no cover - a benchmark script
    sys.exit("the fuzz harnesses need atheris: pip install atheris (see benchmarks/fuzz)")

import numpy as np
from _common import instrument_modules
from PIL import Image, ImageOps

from kmeanskit.images.io import ImageSpec, decode, read_image

Image.init()  # every format plugin imported now, so that it is instrumented

#: the settings the first byte picks from
SPECS = [
    ImageSpec(size, mode, fit)
    for size in ((16, 16), (7, 12))
    for mode in ("grey", "rgb")
    for fit in ("fit", "pad", "crop", "stretch")
]
#: the input file, in memory where /dev/shm exists (see the README on removing it)
WORK = Path(
    tempfile.mkdtemp(prefix="kmk-fuzz-img-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
)
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
TARGET = WORK / "input"


def seeds() -> dict[str, bytes]:
    """Small valid images in every format the loader reads (with a settings byte)."""
    rng = np.random.RandomState(0)
    rgb = Image.fromarray(rng.randint(0, 256, (9, 13, 3), dtype=np.uint8))
    grey = rgb.convert("L")
    out = {}

    def add(name, img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        out[name] = bytes([len(out) % 256]) + buf.getvalue()

    add("rgb.png", rgb, "PNG")
    add("grey.png", grey, "PNG")
    add("rgba.png", rgb.convert("RGBA"), "PNG")
    add("palette.png", rgb.convert("P"), "PNG", transparency=0)
    add("16bit.png", Image.fromarray((rng.rand(8, 8) * 65535).astype(np.uint16)), "PNG")
    add("bilevel.png", grey.convert("1"), "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate
    add("exif.jpg", rgb, "JPEG", exif=exif.tobytes())
    add("grey.jpg", grey, "JPEG", quality=50)
    add("cmyk.jpg", rgb.convert("CMYK"), "JPEG")
    add("progressive.jpg", rgb, "JPEG", progressive=True)
    add(
        "anim.gif",
        rgb.convert("P"),
        "GIF",
        save_all=True,
        append_images=[grey.convert("P")],
        duration=10,
    )
    add("raw.tif", rgb, "TIFF")
    add("lzw.tif", grey, "TIFF", compression="tiff_lzw")
    add("deflate.tif", rgb, "TIFF", compression="tiff_adobe_deflate")
    add("bmp.bmp", rgb, "BMP")
    add("webp.webp", rgb, "WEBP", quality=50)
    add("lossless.webp", rgb.convert("RGBA"), "WEBP", lossless=True)
    add("grey.pgm", grey, "PPM")
    add("rgb.ppm", rgb, "PPM")
    return out


def check(data: bytes) -> None:
    """One input: decoded, or refused with a ValueError."""
    spec = SPECS[data[0] % len(SPECS)] if data else SPECS[0]
    TARGET.write_bytes(data[1:])
    try:
        if data and data[0] >= 128:
            arr = read_image(TARGET, spec.mode)
            shape = arr.shape
            expected = (shape[0], shape[1]) + (() if spec.mode == "grey" else (3,))
        else:
            arr = decode(TARGET, spec)
            expected = spec.shape
    except ValueError:
        return  # the documented outcome: the reason, and the file skipped
    assert arr.dtype == np.float32 and arr.shape == expected, (arr.dtype, arr.shape, expected)
    assert np.isfinite(arr).all() and 0.0 <= arr.min() and arr.max() <= 1.0


def main() -> None:
    warnings.simplefilter("ignore")  # Pillow's notes on odd files are not findings
    assert ImageOps  # imported for its instrumentation (exif_transpose, pad, fit)
    instrument_modules(("PIL", "kmeanskit.images"))
    folders = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isdir(a)]
    for folder in folders:
        if not any(Path(folder).iterdir()):
            for name, data in seeds().items():
                (Path(folder) / name).write_bytes(data)
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
