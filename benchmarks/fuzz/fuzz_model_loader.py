"""Fuzz the pickle-free model loader (``kmeanskit.load_model`` and
``kmeanskit.images.model_file.load_image_model``) with atheris (libFuzzer for Python).

Bytes mutated blindly rarely get past a zip's CRC, so the first byte of an input picks
what the rest is:

- ``0`` (mod 3): a whole model file;
- ``1``: ``model.json`` of base model ``data[1]``, put in a well-formed zip with that
  model's arrays (the description's checks);
- ``2``: one ``.npy`` entry (number ``data[2]``) of base model ``data[1]`` (the array
  header and shape checks).

The base models (KMeans, MiniBatchKMeans, SphericalKMeans, PCA, image models with the
svd, hog and color features) are fitted at start; the corpus folder is seeded with all
three views of each. The documented outcome for a bad file is
:class:`kmeanskit.ModelFileError`; a file that loads must then predict (or transform)
without error. Anything else is a finding, as are hangs and memory blow-ups.

    pip install atheris
    python benchmarks/fuzz/fuzz_model_loader.py -max_total_time=600 -timeout=20 \\
        -rss_limit_mb=4096 -max_len=65536 /tmp/kmk-fuzz/models
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

try:
    import atheris
except ImportError:  # pragma: no cover - a benchmark script
    sys.exit("the fuzz harnesses need atheris: pip install atheris (see benchmarks/fuzz)")

import numpy as np
from _common import instrument_modules
from PIL import Image

from kmeanskit import KMeans, MiniBatchKMeans, ModelFileError, SphericalKMeans, save_model
from kmeanskit import load_model as load_estimator
from kmeanskit._model_zip import HEADER
from kmeanskit.images import cluster_images
from kmeanskit.images.cnn import CNNEmbedding
from kmeanskit.images.model_file import load_image_model, save_image_model

WORK = Path(
    tempfile.mkdtemp(
        prefix="kmk-fuzz-model-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
    )
)
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
TARGET = WORK / "input.kmk"


def _bases() -> list[tuple[str, dict, dict]]:
    """(loader, header, {array name: npy bytes}) of every base model."""
    from sklearn.decomposition import PCA

    rng = np.random.RandomState(0)
    X = rng.rand(60, 5)
    files = []
    for i, est in enumerate(
        [
            KMeans(3, random_state=0).fit(X),
            KMeans(3, init=X[:3], n_init=1, frozen=[0], transform_mode="soft").fit(X),
            MiniBatchKMeans(3, batch_size=20, random_state=0).fit(X),
            SphericalKMeans(2, random_state=0).fit(X.astype(np.float32)),
            PCA(2, whiten=True).fit(X),
        ]
    ):
        files.append(("estimator", save_model(est, WORK / f"base{i}.kmk")))
    photos = WORK / "photos"
    photos.mkdir()
    for i in range(8):
        Image.fromarray(rng.randint(0, 256, (12, 12, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    for features in ("svd", "hog", "color"):
        size = 16 if features == "hog" else 12
        result = cluster_images(photos, k=2, features=features, size=size, n_components=3, n_jobs=1)
        files.append(("image", save_image_model(result.model, WORK / f"{features}.kmk")))
    bases = []
    for loader, path in files:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read(HEADER))
            arrays = {n: zf.read(f"{n}.npy") for n in header["arrays"]}
        bases.append((loader, header, arrays))
    return bases


BASES = _bases()
IMAGE = WORK / "photos" / "0.png"


def _zip(header_text: bytes, arrays: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(HEADER, header_text)
        for name, data in arrays.items():
            zf.writestr(f"{name}.npy", data)
    return buf.getvalue()


def to_file(data: bytes) -> tuple[bytes, str]:
    """The model file an input stands for, and which loader to use."""
    mode = data[0] % 3 if data else 0
    if mode == 0 or len(data) < 3:
        return data[1:], "both"
    loader, header, arrays = BASES[data[1] % len(BASES)]
    if mode == 1:
        return _zip(data[2:], arrays), loader
    arrays = dict(arrays)
    names = sorted(arrays)
    arrays[names[data[2] % len(names)]] = data[3:]
    return _zip(json.dumps(header).encode(), arrays), loader


def _use(model) -> None:
    """A loaded model must work."""
    if hasattr(model, "spec"):  # an image model
        w, h = model.spec.size
        if isinstance(model.extractor, CNNEmbedding) or w * h > 4096:
            return  # the CNN runs a network; big images only take time
        model.predict([IMAGE], n_jobs=1)
        return
    X = np.random.RandomState(0).rand(3, model.n_features_in_)
    model.transform(X)
    if hasattr(model, "predict"):
        model.predict(X)
        model.score(X)
    if hasattr(model, "partial_fit"):  # MiniBatchKMeans goes on from its saved state
        model.partial_fit(X)


def check(data: bytes) -> None:
    content, loader = to_file(data)
    TARGET.write_bytes(content)
    for load in {"estimator": [load_estimator], "image": [load_image_model]}.get(
        loader, [load_estimator, load_image_model]
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a bad file is an error, not a warning
                model = load(TARGET)
        except ModelFileError:
            continue  # the documented outcome
        _use(model)


def seeds() -> dict[str, bytes]:
    out = {}
    for i, (_, header, arrays) in enumerate(BASES):
        out[f"base{i}-file"] = b"\x00" + _zip(json.dumps(header).encode(), arrays)
        out[f"base{i}-json"] = b"\x01" + bytes([i]) + json.dumps(header, indent=1).encode()
        for j, name in enumerate(sorted(arrays)):
            out[f"base{i}-array{j}"] = b"\x02" + bytes([i, j]) + arrays[name]
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    instrument_modules(
        (
            "kmeanskit",
            "zipfile",
            "json",
            "numpy.lib._format_impl",
            "sklearn.utils._param_validation",
        ),
        exclude=("kmeanskit._engine",),
    )
    folders = [a for a in sys.argv[1:] if not a.startswith("-") and os.path.isdir(a)]
    for folder in folders:
        if not any(Path(folder).iterdir()):
            for name, data in seeds().items():
                (Path(folder) / name).write_bytes(data)
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
