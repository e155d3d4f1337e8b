"""A corpus of bad inputs, made here: every file gets a clear reason or a documented,
tested behaviour, and the command line never shows a traceback.

Decisions tested here (see also ``kmeanskit.images.io.decode``):

- skipped, with the reason in summary.json and on stdout: empty files, truncated JPEG and
  PNG, text named ``.png``, decompression bombs (a header that claims 30000 x 30000, or
  10000 x 10000, which only makes Pillow warn: both refused from the header, before any
  pixel is decoded), unreadable files, broken symbolic links, symbolic link loops and
  FIFOs (never opened: a FIFO would block);
- read: 16-bit PNG (on the 0-65535 scale), CMYK JPEG, palette PNG with transparency
  (composed on white), animated GIF (the first frame), EXIF-rotated JPEG (rotated as
  the orientation says);
- a folder linking to its parent is listed once;
- a name that is not UTF-8: clustered and copied under its own bytes; written to
  assignments.csv as its own bytes (so the CSV path opens the file), to JSON as
  ``\\udcXX`` escapes (``json.loads`` gives Python's path back), to the HTML page with
  U+FFFD for the undecodable bytes, and to stdout as its own bytes;
- an output folder inside the input folder: never read as input; ``--out`` that is or
  holds the input: refused; an output folder that cannot be written: refused before the
  work, naming ``--out``.
"""

import builtins
import csv
import io
import json
import os
import struct
import zlib

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from conftest import write_levels
from kmeanskit.cli import main
from kmeanskit.images.io import ImageSpec, decode

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _cli_without_privileges(args):
    """``kmeanskit ARGS`` in a subprocess that the file system's permissions apply to:
    as root (CI), with every capability dropped by util-linux's setpriv, so that a
    chmod'ed file or folder refuses root too. Returns (exit code, stdout, stderr)."""
    import shutil
    import subprocess
    import sys

    prefix = []
    if IS_ROOT:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root needs util-linux's setpriv to drop capabilities"
        prefix = [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"]
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "kmeanskit", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout, done.stderr


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (8-bit grey) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _encoded(img, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _noise(seed: int, side: int = 48) -> Image.Image:
    return Image.fromarray(np.random.RandomState(seed).randint(0, 255, (side, side), np.uint8))


def _non_utf8(folder, name: bytes, content: bytes) -> str | None:
    """Write ``folder/name`` under a bytes name; its str path (surrogate escapes), or None
    when the file system refuses names that are not UTF-8."""
    path = os.fsencode(folder) + b"/" + name
    try:
        with open(path, "wb") as fh:
            fh.write(content)
    except OSError:
        return None
    return os.fsdecode(path)


def _exif_rotated() -> Image.Image:
    """40 x 20: left half black, right half white; EXIF orientation 6 (turn 90 degrees
    clockwise to show it), so shown 20 wide, 40 high: black on top, white below."""
    img = Image.new("L", (40, 20), 255)
    img.paste(0, (0, 0, 20, 20))
    return img


def _two_frames() -> list:
    return [Image.new("L", (16, 16), 0), Image.new("L", (16, 16), 255)]


def _palette_with_transparency() -> Image.Image:
    """Index 0 is transparent (left half), index 1 red (right half)."""
    img = Image.new("P", (16, 16), 0)
    img.putpalette([0, 0, 255, 255, 0, 0] + [0] * 762)
    img.paste(1, (8, 0, 16, 16))
    img.info["transparency"] = 0
    return img


# basename -> the reason (a part of it) of a file that must be skipped
SKIPPED = {
    "empty.png": "empty file",
    "cut.jpg": "cannot decode: image file is truncated",
    "cut.png": "cannot decode",
    "text.png": "not an image Pillow can read",
    "bomb.png": "refused as a decompression bomb",
    "bomb-warning.png": "refused as a decompression bomb",
    "broken.png": "broken symbolic link (to 'nowhere.png')",
    "loop_a.png": "symbolic link loop",
    "loop_b.png": "symbolic link loop",
}
READ = ["sixteen.png", "cmyk.jpg", "palette.png", "anim.gif", "exif.jpg"]


@pytest.fixture()
def corpus(tmp_path):
    """12 good pictures in two grey levels, the files of READ, the bad files of SKIPPED,
    a FIFO, a folder linking to its parent and two names that are not UTF-8."""
    root = write_levels(tmp_path / "photos", 12, (40, 200), side=16, noise=6, seed=0)
    skipped = dict(SKIPPED)
    good_jpg = _encoded(_noise(1).convert("RGB"), "JPEG")
    good_png = _encoded(_noise(2), "PNG")
    (root / "empty.png").write_bytes(b"")
    (root / "cut.jpg").write_bytes(good_jpg[: len(good_jpg) // 2])
    (root / "cut.png").write_bytes(good_png[: len(good_png) // 2])
    (root / "text.png").write_text("just some text, not an image\n")
    (root / "bomb.png").write_bytes(_png_header(30000, 30000))
    (root / "bomb-warning.png").write_bytes(_png_header(10000, 10000))
    os.symlink("nowhere.png", root / "broken.png")
    os.symlink("loop_b.png", root / "loop_a.png")
    os.symlink("loop_a.png", root / "loop_b.png")
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.png")
        skipped["fifo.png"] = "not a regular file"
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")  # a folder linking to its parent
    Image.fromarray(np.full((16, 16), 1000, np.uint16)).save(root / "sixteen.png")
    Image.new("CMYK", (16, 16), (0, 0, 0, 255)).save(root / "cmyk.jpg")
    _palette_with_transparency().save(root / "palette.png")
    first, *rest = _two_frames()
    first.save(root / "anim.gif", save_all=True, append_images=rest, duration=100)
    exif = Image.Exif()
    exif[0x0112] = 6
    _exif_rotated().save(root / "exif.jpg", exif=exif.tobytes())
    names = {}
    good = _non_utf8(root, b"caf\xe9.png", (root / "0.png").read_bytes())
    bad = _non_utf8(root, b"bad\xff.png", b"text, named .png")
    if good is not None and bad is not None:
        names = {"good": good, "bad": bad}
        skipped[os.path.basename(bad)] = "not an image Pillow can read"
    return root, skipped, names


def test_every_bad_file_is_skipped_with_its_reason(corpus, tmp_path, capsysbinary):
    root, skipped, names = corpus
    out = tmp_path / "out"
    code = main(
        [
            "cluster",
            str(root),
            "--k",
            "2",
            "--features",
            "pixels",
            "--size",
            "16",
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(out),
        ]
    )
    captured = capsysbinary.readouterr()
    assert code == 0, captured.err
    assert b"Traceback" not in captured.err
    summary = json.loads((out / "summary.json").read_text(encoding="ascii"))
    reasons = {os.path.basename(f["path"]): f["reason"] for f in summary["failures"]}
    assert set(reasons) == set(skipped)  # nothing else skipped, nothing read twice
    for name, why in skipped.items():
        assert why in reasons[name], (name, reasons[name])
    n_read = 12 + len(READ) + bool(names)
    assert summary["n_images"] == n_read  # the files of sub/up (the parent) not again
    assert f"{n_read} images in 2 clusters".encode() in captured.out
    assert f"{len(skipped)} files skipped".encode() in captured.out
    with open(
        out / "assignments.csv", newline="", encoding="utf-8", errors="surrogateescape"
    ) as fh:
        clustered = {os.path.basename(r["path"]) for r in csv.DictReader(fh)}
    assert set(READ) <= clustered and not clustered & set(skipped)
    copies = {os.path.basename(p) for p in os.listdir(out) if p.startswith("cluster_")}
    assert len(copies) == 2


@pytest.mark.parametrize("how", ["chmod", "patched"])
def test_an_unreadable_file_is_skipped(tmp_path, monkeypatch, capsys, how):
    root = write_levels(tmp_path / "photos", 8, (40, 200), side=16, noise=6, seed=0)
    locked = root / "locked.png"
    _noise(3, 16).save(locked)
    out = tmp_path / "out"
    args = [
        "cluster",
        str(root),
        "--k",
        "2",
        "--features",
        "pixels",
        "--size",
        "8",
        "--cache",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    if how == "chmod":
        locked.chmod(0)
        code, printed, _ = _cli_without_privileges(args)
    else:  # what the file system does: open fails with EACCES
        real_open = builtins.open

        def no_read(file, *args, **kwargs):
            if os.fspath(file) == str(locked):
                raise PermissionError(13, "Permission denied", str(locked))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", no_read)
        code, printed = main(args), capsys.readouterr().out
    assert code == 0
    assert "1 files skipped" in printed
    failures = json.loads((out / "summary.json").read_text())["failures"]
    assert failures == [{"path": str(locked), "reason": "cannot read: permission denied"}]


def test_names_that_are_not_utf8(corpus, tmp_path, capsysbinary):
    root, _, names = corpus
    if not names:
        pytest.skip("this file system refuses names that are not UTF-8")
    out = tmp_path / "out"
    code = main(
        [
            "cluster",
            str(root),
            "--k",
            "2",
            "--features",
            "pixels",
            "--size",
            "16",
            "--out",
            str(out),
        ]
    )
    printed = capsysbinary.readouterr().out
    assert code == 0
    assert b"bad\xff.png: not an image" in printed  # stdout: the name's own bytes
    # the copy in its cluster folder has the same bytes as its name
    copies = [
        c
        for d in os.listdir(os.fsencode(out))
        if d.startswith(b"cluster_")
        for c in os.listdir(os.fsencode(out) + b"/" + d)
    ]
    assert b"caf\xe9.png" in copies
    # CSV: the name's own bytes, so the path column opens the file
    raw = (out / "assignments.csv").read_bytes()
    assert os.fsencode(names["good"]) in raw
    with open(
        out / "assignments.csv", newline="", encoding="utf-8", errors="surrogateescape"
    ) as fh:
        paths = [r["path"] for r in csv.DictReader(fh)]
    assert names["good"] in paths and os.path.isfile(paths[paths.index(names["good"])])
    # JSON: ASCII with \udcXX escapes; json.loads gives the same str path back
    text = (out / "summary.json").read_text(encoding="ascii")
    assert "bad\\udcff.png" in text
    assert names["bad"] in [f["path"] for f in json.loads(text)["failures"]]
    # HTML: valid UTF-8, undecodable bytes shown as U+FFFD
    page = (out / "report.html").read_bytes().decode("utf-8")
    assert "bad\ufffd.png" in page


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sixteen-dark", 1000 / 65535),
        ("sixteen-bright", 1.0),
        ("cmyk-white", 1.0),
        ("cmyk-black", 0.0),
    ],
)
def test_sixteen_bit_and_cmyk_pixels(tmp_path, name, expected):
    if name.startswith("sixteen"):
        value = 1000 if name.endswith("dark") else 65535
        img, path = Image.fromarray(np.full((8, 8), value, np.uint16)), tmp_path / "a.png"
        assert img.mode == "I;16"
    else:
        ink = (0, 0, 0, 0) if name.endswith("white") else (0, 0, 0, 255)
        img, path = Image.new("CMYK", (8, 8), ink), tmp_path / "a.jpg"
    img.save(path)
    arr = decode(path, ImageSpec((8, 8), mode="rgb"))
    assert np.allclose(arr, expected, atol=0.03 if name.startswith("cmyk") else 0.5 / 255)


def test_palette_transparency_gif_frames_and_exif(tmp_path):
    _palette_with_transparency().save(tmp_path / "p.png")
    arr = decode(tmp_path / "p.png", ImageSpec((16, 16), mode="rgb", fit="stretch"))
    assert np.allclose(arr[:, :8], 1.0) and np.allclose(arr[:, 8:], [1.0, 0.0, 0.0])
    first, *rest = _two_frames()
    first.save(tmp_path / "a.gif", save_all=True, append_images=rest, duration=100)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 2
    assert np.allclose(decode(tmp_path / "a.gif", ImageSpec((16, 16))), 0.0)  # frame 1
    exif = Image.Exif()
    exif[0x0112] = 6
    _exif_rotated().save(tmp_path / "e.jpg", exif=exif.tobytes(), quality=95)
    arr = decode(tmp_path / "e.jpg", ImageSpec((20, 40), fit="stretch"))
    assert arr.shape == (40, 20)
    assert arr[:16].mean() < 0.05 and arr[24:].mean() > 0.95  # black on top, white below


def test_bombs_are_refused_from_the_header(tmp_path):
    for side in (30000, 10000):
        path = tmp_path / f"{side}.png"
        path.write_bytes(_png_header(side, side))
        with pytest.raises(ValueError, match=f"decompression bomb: Image size \\({side**2} "):
            decode(path, ImageSpec((8, 8)))


def test_output_folder_inside_the_input_is_never_input(tmp_path, capsys):
    root = write_levels(tmp_path / "photos", 10, (40, 200), side=16, noise=6, seed=0)
    args = ["cluster", str(root), "--k", "2", "--features", "pixels", "--size", "8", "--json"]
    out = root / "clusters"
    assert main([*args, "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["n_images"] == 10
    assert main([*args, "--out", str(out), "--force"]) == 0  # its copies are not input
    assert json.loads(capsys.readouterr().out)["n_images"] == 10
    for where in (root, tmp_path):  # --out that is the input, or holds it
        assert main(["cluster", str(root), "--k", "2", "--out", str(where), "--force"]) == 1
        err = capsys.readouterr().err
        assert f"--out {str(where)!r} is or holds the input" in err and err.count("\n") == 1
    # clustering a cluster folder of an earlier run back into that run: refused
    assert main(["cluster", str(out / "cluster_00"), "--k", "2", "--out", str(out), "--force"]) == 1
    assert "is or holds the input" in capsys.readouterr().err
    assert len(list((out / "cluster_00").iterdir())) == 5


@pytest.mark.parametrize("how", ["chmod", "patched"])
def test_an_output_folder_that_cannot_be_written(tmp_path, monkeypatch, capsys, how):
    from kmeanskit.images import pipeline

    root = write_levels(tmp_path / "photos", 6, (40, 200), side=16, noise=6, seed=0)
    out = tmp_path / "readonly"
    out.mkdir()
    if how == "chmod":
        out.chmod(0o555)
        try:
            code, _, err = _cli_without_privileges(
                ["cluster", str(root), "--k", "2", "--out", str(out)]
            )
        finally:
            out.chmod(0o755)
        assert code == 1
        assert err == f"kmeanskit: error: cannot write into --out {str(out)!r}: Permission denied\n"
        assert list(out.iterdir()) == []
        return
    # what the file system does: no new entry in the folder
    real_mkdir = os.mkdir

    def no_mkdir(path, *args, **kwargs):
        if os.path.dirname(os.fspath(path)) == str(out):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", no_mkdir)
    called = []
    monkeypatch.setattr(pipeline, "extract_features", lambda *a, **k: called.append(1))
    assert main(["cluster", str(root), "--k", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"kmeanskit: error: cannot write into --out {str(out)!r}: Permission denied\n"
    assert not called  # refused before the work
    assert list(out.iterdir()) == []


def test_only_the_listed_decoders_run(tmp_path):
    """An EPS file (which Pillow would render by running Ghostscript) named .png is not
    decoded: only the decoders of the image suffixes kmeanskit lists may run."""
    eps = tmp_path / "x.png"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ValueError, match="not an image Pillow can read"):
        decode(eps, ImageSpec(size=8))
    pgm = tmp_path / "y.pgm"
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(pgm)
    assert decode(pgm, ImageSpec(size=8)).shape == (8, 8)
