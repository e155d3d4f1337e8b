"""Files without an image extension: identified by their first bytes, decoded by the one
format those announce (never by Pillow's other decoders: EPS, PSD, ICO, ...), or listed
with the reason; nothing is left out silently (issue 24)."""

import csv
import io
import json
import os

import numpy as np
import pytest

pytest.importorskip("PIL")  # the 'images' extra; installed in CI
from PIL import Image

from kmeanskit._imagefiles import DECODERS
from kmeanskit.cli import main
from kmeanskit.images import io as kio
from kmeanskit.images.io import ImageSpec, decode, list_images, scan_images, sniff

NO_SIGNATURE = "no PNG/JPEG/GIF/BMP/TIFF/WebP/PGM signature"
#: Pillow's format, the saving options, and the format sniff() must name
SAVED = {
    "png": ("PNG", {}, "PNG"),
    "gif": ("GIF", {}, "GIF"),
    "jpeg": ("JPEG", {"quality": 90}, "JPEG"),
    "bmp": ("BMP", {}, "BMP"),
    "tiff": ("TIFF", {}, "TIFF"),
    "webp": ("WEBP", {"lossless": True}, "WEBP"),
    "pgm": ("PPM", {}, "PPM"),
}
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n0 0 moveto 10 10 lineto stroke\n"
PSD = b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x01\x00\x00\x00\x08\x00\x00\x00\x08\x00\x08\x00\x01"


def _bytes(fmt: str, mode: str = "L", value=90, **options) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (12, 10), value).save(buf, format=fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(SAVED))
def test_sniff_names_each_signature(name):
    fmt, options, expected = SAVED[name]
    assert sniff(_bytes(fmt, **options)[:32]) == expected
    assert sniff(_bytes(fmt, "RGB", (200, 10, 10), **options)[:32]) == expected


@pytest.mark.parametrize(
    "head, expected",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF87a\x01\x00", "GIF"),
        (b"II*\x00\x08\x00", "TIFF"),
        (b"MM\x00*\x00\x00\x00\x08", "TIFF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8L", "WEBP"),
        (b"P1\n2 2\n0 1 1 0\n", "PPM"),
        (b"P3 1 1 255 0 0 0", "PPM"),
        (b"P6\t1\t1\t255\n", "PPM"),
        (b"BM" + b"\x00" * 8 + (54).to_bytes(4, "little") + (40).to_bytes(4, "little"), "BMP"),
        # look-alikes
        (b"BMW is a car maker\n", None),  # "BM" and no plausible header
        (b"BM" + b"\x00" * 8 + (54).to_bytes(4, "little") + (99).to_bytes(4, "little"), None),
        (b"P7\nWIDTH 2\n", None),  # PAM: not among the formats read
        (b"P5", None),
        (b"Photo of a cat\n", None),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
        (b"GIF90a", None),
        (EPS, None),
        (PSD, None),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10", None),  # ICO
        (b"%PDF-1.7\n", None),
        (b"", None),
    ],
)
def test_sniff_reads_signatures_only(head, expected):
    assert sniff(head) == expected


def test_scan_lists_every_file_once_with_a_reason(tmp_path):
    (tmp_path / "face").write_bytes(_bytes("GIF"))
    (tmp_path / "a.png").write_bytes(_bytes("PNG"))
    (tmp_path / "notes.txt").write_text("a note\n")
    (tmp_path / "README").write_text("read me\n")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    os.symlink("nowhere", tmp_path / "broken")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")  # never opened: reading it would block
    paths, skipped = scan_images(tmp_path)
    assert [p.name for p in paths] == ["a.png", "face"]
    reasons = {os.path.basename(f.path): f.reason for f in skipped}
    assert reasons["notes.txt"] == f"not an image: no image extension (.txt) and {NO_SIGNATURE}"
    assert reasons["README"] == f"not an image: no image extension (none) and {NO_SIGNATURE}"
    assert reasons["empty"] == "not an image: empty file"
    assert "hidden file" in reasons[".DS_Store"]
    assert reasons["broken"].startswith("broken symbolic link")
    if hasattr(os, "mkfifo"):
        assert reasons["fifo"] == "not a regular file"
    # a file named on its own: judged the same way
    assert scan_images(tmp_path / "face") == ([tmp_path / "face"], [])
    assert scan_images(tmp_path / "README")[1][0].reason.startswith("not an image")


def test_list_images_warns_of_what_it_leaves_out(tmp_path, caplog):
    (tmp_path / "face").write_bytes(_bytes("PNG"))
    (tmp_path / "notes.txt").write_text("a note\n")
    with caplog.at_level("WARNING", logger="kmeanskit.images.io"):
        assert [p.name for p in list_images(tmp_path)] == ["face"]
    assert "1 files" in caplog.text and "notes.txt" in caplog.text


def test_decode_uses_only_the_format_of_the_signature(tmp_path, monkeypatch):
    import PIL.Image

    calls = []
    real_open = PIL.Image.open

    def spy(fp, mode="r", formats=None):
        calls.append((os.path.basename(fp), tuple(formats)))
        return real_open(fp, mode, formats)

    monkeypatch.setattr(PIL.Image, "open", spy)
    spec = ImageSpec((8, 8), fit="stretch")
    for name, (fmt, options, expected) in SAVED.items():
        path = tmp_path / f"face_{name}"
        path.write_bytes(_bytes(fmt, **options))
        assert np.allclose(decode(path, spec), 90 / 255, atol=0.03), name
        assert calls[-1] == (path.name, (expected,))
    (tmp_path / "b.png").write_bytes(_bytes("PNG"))
    decode(tmp_path / "b.png", spec)
    assert calls[-1] == ("b.png", DECODERS)  # an image extension: the allowed decoders
    n = len(calls)
    for name, data in {"drawing": EPS, "layers": PSD, "drawing.eps": EPS}.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=f"not an image: .*{NO_SIGNATURE}"):
            decode(tmp_path / name, spec)
    assert len(calls) == n  # never handed to Pillow
    # a PNG signature over other content: tried as a PNG only
    (tmp_path / "fake").write_bytes(b"\x89PNG\r\n\x1a\n" + EPS)
    with pytest.raises(ValueError, match=r"cannot decode|not an image Pillow can read"):
        decode(tmp_path / "fake", spec)
    assert calls[-1] == ("fake", ("PNG",))
    # replaced by text after it was listed: judged again when decoded
    (tmp_path / "face_png").write_text("now text")
    with pytest.raises(ValueError, match="not an image: no image extension"):
        decode(tmp_path / "face_png", spec)


def _cluster(folder, out, capsys):
    args = ["cluster", str(folder), "--k", "2", "--features", "pixels", "--size", "8"]
    code = main([*args, "--out", str(out)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured


def _clustered(out) -> set:
    with open(out / "assignments.csv", newline="") as fh:
        return {os.path.basename(r["path"]) for r in csv.DictReader(fh)}


def test_a_mixed_folder_reads_every_image_and_lists_every_other_file(tmp_path, capsys):
    import PIL.Image

    photos = tmp_path / "photos"
    photos.mkdir()
    images = set()
    for i, (name, (fmt, options, _)) in enumerate(sorted(SAVED.items())):
        level = 30 if i % 2 else 220
        path = photos / f"{name}_face.{name}"
        Image.new("L", (12, 10), level).save(path, format=fmt, **options)
        path.rename(photos / f"face_{name}")  # saved, then the extension taken away
        images.add(f"face_{name}")
    for i in range(4):
        Image.new("L", (12, 10), 30 if i % 2 else 220).save(photos / f"normal_{i}.png")
        images.add(f"normal_{i}.png")
    (photos / "sub").mkdir()
    (photos / "sub" / "subject01.happy").write_bytes(_bytes("GIF", value=40))
    (photos / "sub" / "subject02.sad").write_bytes(_bytes("JPEG", value=210))
    images |= {"subject01.happy", "subject02.sad"}
    others = {
        "README": "not an image: no image extension (none)",
        "notes.txt": "not an image: no image extension (.txt)",
        "subject01.txt": "not an image: no image extension (.txt)",
        "empty": "not an image: empty file",
        "fake.png": "not an image Pillow can read",
        "drawing": NO_SIGNATURE,  # EPS: Pillow would run Ghostscript
        "layers": NO_SIGNATURE,  # PSD
        ".DS_Store": "hidden file",
    }
    (photos / "README").write_text("Faces, one folder per person.\n")
    (photos / "notes.txt").write_text("light and dark\n")
    (photos / "sub" / "subject01.txt").write_text("subject 1\n")
    (photos / "empty").write_bytes(b"")
    (photos / "fake.png").write_text("text named .png\n")
    (photos / "drawing").write_bytes(EPS)
    (photos / "layers").write_bytes(PSD)
    (photos / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\x00")

    calls = []
    real_open = PIL.Image.open

    def spy(fp, mode="r", formats=None):
        calls.append((os.path.basename(fp), formats))
        return real_open(fp, mode, formats)

    PIL.Image.open, restore = spy, real_open  # threads decode: patched for the run
    try:
        code, captured = _cluster(photos, tmp_path / "run", capsys)
    finally:
        PIL.Image.open = restore
    assert code == 0, captured.err
    assert not {name for name, _ in calls} & {"README", "drawing", "layers", "empty"}
    decoded = {name: formats for name, formats in calls if formats is not None}
    assert decoded["face_gif"] == ("GIF",) and decoded["subject02.sad"] == ("JPEG",)
    assert decoded["normal_0.png"] == DECODERS
    out = tmp_path / "run"
    assert _clustered(out) == images  # every image read
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_images"] == len(images)
    reasons = {os.path.basename(f["path"]): f["reason"] for f in summary["failures"]}
    assert set(reasons) == set(others)  # every other file listed, none twice
    for name, why in others.items():
        assert why in reasons[name], (name, reasons[name])
    assert f"{len(others)} files skipped" in captured.out
    assert [f["path"] for f in summary["failures"]] == sorted(
        f["path"] for f in summary["failures"]
    )


def test_yale_like_faces_without_extensions_are_clustered(tmp_path, capsys):
    photos = tmp_path / "yalefaces"
    photos.mkdir()
    moods = ("happy", "sad", "sleepy", "surprised", "wink", "glasses")
    for s in range(1, 4):
        for j, mood in enumerate(moods):
            level = 40 if j % 2 else 210
            noise = np.random.RandomState(s * 10 + j).randint(0, 20, (10, 12))
            pixels = np.clip(level + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(photos / f"subject{s:02d}.{mood}", format="GIF")
    code, captured = _cluster(photos, tmp_path / "run", capsys)
    assert code == 0, captured.err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_images"] == 18 and summary["failures"] == []
    assert sorted(summary["cluster_sizes"]) == [9, 9]
    assert "files skipped" not in captured.out


def test_no_image_says_what_was_looked_at(tmp_path, capsys):
    photos = tmp_path / "texts"
    photos.mkdir()
    (photos / "a.txt").write_text("one\n")
    (photos / "b").write_text("two\n")
    code, captured = _cluster(photos, tmp_path / "run", capsys)
    assert code != 0
    message = captured.err
    assert "no image files found" in message and "looked at 2 files" in message
    assert "a.txt: not an image: no image extension (.txt)" in message
    assert not (tmp_path / "run" / "summary.json").exists()
    (photos / "a.txt").unlink(), (photos / "b").unlink()
    code, captured = _cluster(photos, tmp_path / "run2", capsys)
    assert code != 0 and "holds no files" in captured.err


def test_the_signature_is_read_from_regular_files_only(tmp_path, monkeypatch):
    opened = []
    real = os.open

    def spy(path, flags, *args, **kwargs):
        opened.append(os.path.basename(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(kio.os, "open", spy)
    (tmp_path / "face").write_bytes(_bytes("PNG"))
    os.symlink("face", tmp_path / "link")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
    paths, _ = scan_images(tmp_path)
    assert [p.name for p in paths] == ["face", "link"]  # links are followed
    assert sorted(opened) == ["face", "link"]  # the FIFO is never opened


def test_hidden_folders_are_listed_once_and_not_read(tmp_path):
    (tmp_path / "a.png").write_bytes(_bytes("PNG"))
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "ab12").write_bytes(b"x\x01blob")
    (tmp_path / ".thumbnails").mkdir()
    (tmp_path / ".thumbnails" / "a.png").write_bytes(_bytes("PNG"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "._b.jpg").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    paths, skipped = scan_images(tmp_path)
    assert paths == [tmp_path / "a.png"]
    reasons = {os.path.relpath(f.path, tmp_path): f.reason for f in skipped}
    assert set(reasons) == {".git", ".thumbnails", os.path.join("sub", "._b.jpg")}
    assert reasons[".git"] == kio.HIDDEN_FOLDER and "hidden file" in reasons["sub/._b.jpg"]
    assert scan_images(tmp_path, recursive=False) == ([tmp_path / "a.png"], [])


def test_a_run_inside_the_input_is_neither_read_nor_listed(tmp_path, capsys):
    for name in ("run", ".run"):
        photos = tmp_path / name / "photos"
        photos.mkdir(parents=True)
        for i in range(6):
            (photos / f"face{i}").write_bytes(_bytes("PNG", value=30 if i % 2 else 220))
        (photos / "notes.txt").write_text("x\n")
        out = photos / name
        for again in range(2):  # the second time over the first run's outputs
            args = ["cluster", str(photos), "--k", "2", "--features", "pixels"]
            code = main([*args, "--size", "8", "--out", str(out), *(["--force"] * again)])
            assert code == 0, capsys.readouterr().err
            summary = json.loads((out / "summary.json").read_text())
            assert summary["n_images"] == 6
            skipped = [os.path.relpath(f["path"], photos) for f in summary["failures"]]
            assert skipped == ["notes.txt"]
