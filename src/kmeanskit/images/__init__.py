"""Images: from a folder to features, clusters, cluster folders and a model.

Needs the ``images`` extra (Pillow, scikit-image, joblib); nothing here is imported by
``import kmeanskit``.
"""

from .export import labels_from_paths, load_model, write_outputs
from .extractors import EXTRACTORS, register
from .features import HOG, ColorHistogram, Extractor, Pixels
from .io import Failure, ImageSpec, decode, iter_decoded, list_images, open_image, scan_images
from .pipeline import ImageClusters, ImageModel, cluster_images

__all__ = [
    "EXTRACTORS",
    "HOG",
    "ColorHistogram",
    "Extractor",
    "Failure",
    "ImageClusters",
    "ImageModel",
    "ImageSpec",
    "Pixels",
    "cluster_images",
    "decode",
    "iter_decoded",
    "labels_from_paths",
    "list_images",
    "load_model",
    "open_image",
    "register",
    "scan_images",
    "write_outputs",
]
