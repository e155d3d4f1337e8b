"""An autoencoder trained on the user's own images (PyTorch, CPU or GPU).

N2D (McConville et al. 2020) clusters images by training a dense autoencoder
(d-500-500-2000-c) on them, embedding its code with UMAP and clustering that; it reached
ACC 0.958 on USPS and 0.948 on MNIST. This is the autoencoder part, as a scikit-learn
transformer on feature rows (usually pixels); the ``'ae-umap'`` features chain it with
UMAP.

Training needs PyTorch; the trained encoder is kept as plain arrays (``weights_`` and
``biases_`` of its linear layers, ReLU between them, a linear code; the rows are taken
as given, with no scaling), and ``transform`` is numpy's forward pass through them, so a
model file holds the encoder and uses it without PyTorch.
"""

from __future__ import annotations

import logging
from itertools import pairwise
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

logger = logging.getLogger(__name__)

__all__ = ["Autoencoder"]

#: rows per block of the forward pass (its widest layer, 2000 floats a row, stays small)
_ROWS = 4096


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError(
            "the autoencoder needs PyTorch: pip install 'kmeanskit[cnn]' (CPU build)"
        ) from exc
    return torch


class Autoencoder(TransformerMixin, BaseEstimator):
    """Dense autoencoder; ``transform`` gives the code.

    Parameters
    ----------
    n_components : int, default=10
        Size of the code.
    hidden : tuple of int, default=(500, 500, 2000)
        Encoder layers (the decoder mirrors them), ReLU between, as in DEC and N2D.
    epochs : int, default=60
    batch_size : int, default=256
    learning_rate : float, default=1e-3
        Adam's.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
    random_state : int, default=0

    Attributes
    ----------
    weights_ : list of ndarray of float32
        The encoder's layers, ``(out, in)`` each (PyTorch's layout), from
        ``n_features_in_`` through ``hidden`` to ``n_components``.
    biases_ : list of ndarray of float32
        ``(out,)`` each.
    loss_curve_ : list of float
        The mean loss of each epoch.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).rand(64, 20).astype(np.float32)
    >>> Autoencoder(n_components=3, hidden=(16,), epochs=2).fit_transform(X).shape
    (64, 3)
    """

    #: what a model file may hold for each parameter (see
    #: :func:`kmeanskit.images.features.check_params`; ``hidden``'s sizes and ``device``
    #: are checked by :mod:`.model_file`)
    param_schema: ClassVar[dict] = {
        "n_components": (int, 1, 2**16),
        "hidden": (list, 0, 16),
        "epochs": (int, 1, 2**31),
        "batch_size": (int, 1, 2**31),
        "learning_rate": (float, 0.0, 1e6),
        "device": (str, 1, 8),
        "random_state": (int, -(2**63), 2**64 - 1),
    }

    def __init__(
        self,
        n_components=10,
        hidden=(500, 500, 2000),
        epochs=60,
        batch_size=256,
        learning_rate=1e-3,
        device="auto",
        random_state=0,
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.device = device
        self.random_state = random_state

    def _device(self, torch):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {self.device!r}")
        return self.device

    def fit(self, X, y=None):
        """Train on the rows of X (mean squared reconstruction error)."""
        torch = _torch()
        X = check_array(X, dtype=np.float32)
        for name in ("n_components", "epochs", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        torch.manual_seed(self.random_state)
        device = self._device(torch)
        sizes = [X.shape[1], *self.hidden, self.n_components]
        enc, dec = [], []
        for a, b in pairwise(sizes):
            enc += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        for a, b in pairwise(sizes[::-1]):
            dec += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        encoder = torch.nn.Sequential(*enc[:-1]).to(device)  # a linear code
        decoder = torch.nn.Sequential(*dec[:-1]).to(device)  # a linear reconstruction
        params = list(encoder.parameters()) + list(decoder.parameters())
        opt = torch.optim.Adam(params, lr=self.learning_rate)
        data = torch.from_numpy(X).to(device)
        gen = torch.Generator().manual_seed(self.random_state)
        self.loss_curve_ = []
        for epoch in range(self.epochs):
            order = torch.randperm(len(data), generator=gen)
            total = 0.0
            for lo in range(0, len(data), self.batch_size):
                batch = data[order[lo : lo + self.batch_size].to(device)]
                loss = torch.nn.functional.mse_loss(decoder(encoder(batch)), batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(batch)
            self.loss_curve_.append(total / len(data))
            logger.debug("autoencoder epoch %d: loss %.5f", epoch, self.loss_curve_[-1])
        layers = [m for m in encoder.cpu() if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            self.weights_ = [np.array(m.weight.numpy(), dtype=np.float32) for m in layers]
            self.biases_ = [np.array(m.bias.numpy(), dtype=np.float32) for m in layers]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """The code of every row (float32; numpy, a block of rows at a time)."""
        check_is_fitted(self, "n_features_in_")
        X = check_array(X, dtype=np.float32)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the autoencoder was trained on "
                f"{self.n_features_in_}"
            )
        if not hasattr(self, "weights_"):  # pickled before the encoder was kept as arrays
            torch = _torch()
            with torch.no_grad():
                return self.encoder_(torch.from_numpy(X)).numpy()
        out = np.empty((len(X), self.weights_[-1].shape[0]), dtype=np.float32)
        for lo in range(0, len(X), _ROWS):
            h = X[lo : lo + _ROWS]
            for i, (w, b) in enumerate(zip(self.weights_, self.biases_, strict=True)):
                h = h @ w.T
                h += b
                if i < len(self.weights_) - 1:
                    np.maximum(h, 0, out=h)
            out[lo : lo + _ROWS] = h
        return out
