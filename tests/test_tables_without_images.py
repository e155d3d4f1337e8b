"""Table runs need no image library: cluster, predict and report a table in a fresh
virtual environment that has every installed package but the ``images`` extra's
(Pillow, scikit-image, tqdm)."""

import json
import site
import subprocess
import sys
from pathlib import Path

import pytest

#: the top-level names of the images extra's packages (and their metadata folders)
HIDDEN = ("pil", "pillow", "skimage", "scikit_image", "tqdm")


@pytest.fixture(scope="module")
def python_without_images(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("no-images")
    packages = root / "site"
    packages.mkdir()
    for source in site.getsitepackages():
        for entry in Path(source).iterdir():
            if entry.name.lower().startswith(HIDDEN) or (packages / entry.name).exists():
                continue
            (packages / entry.name).symlink_to(entry)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    target = subprocess.run(
        [str(python), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # processes the .pth files there too (the editable install of kmeanskit)
    (Path(target) / "kmk-test.pth").write_text(f"import site; site.addsitedir({str(packages)!r})\n")
    return python


def _run(python, *args, cwd):
    return subprocess.run(
        [str(python), "-m", "kmeanskit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def test_the_images_extra_is_really_absent(python_without_images):
    for module in ("PIL", "skimage", "tqdm"):
        code = f"import importlib.util as u; print(u.find_spec({module!r}))"
        out = subprocess.run(
            [str(python_without_images), "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "None", module


def test_a_table_runs_without_the_images_extra(python_without_images, tmp_path):
    rows = ["name,a,b"] + [f"p{i},{i % 2 * 10 + i * 0.01},{i % 2 * 10}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    done = _run(
        python_without_images,
        "cluster",
        "t.csv",
        "--id-column",
        "name",
        "--k",
        "2:4",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["kind"] == "table" and summary["k"] == 2
    assert (tmp_path / "run" / "report.html").is_file()
    done = _run(python_without_images, "predict", "run", "t.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "id,cluster,distance"
    assert len(done.stdout.splitlines()) == 41
    done = _run(python_without_images, "report", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
