from __future__ import annotations

import numpy as np
import pytest
import torch

from ca2sis.config import preset
from ca2sis.model import CA2SIS


@pytest.fixture
def tiny_config():
    return preset("tiny")


@pytest.fixture
def tiny_model(tiny_config):
    torch.manual_seed(0)
    model = CA2SIS(tiny_config).eval()
    # Zero-initialised output convolutions make a fresh model ignore its styles; give them weights so
    # tests can see styles and shapes act.
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0, 0.2)
    return model


def face_like_mask(size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """A crude face layout: background, skin ellipse, hair cap, eyes, nose, lips."""
    rng = rng or np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    mask = np.zeros((size, size), np.uint8)
    mask[yy > 0.85] = 18
    mask[((xx - 0.5) / 0.33) ** 2 + ((yy - 0.5) / 0.42) ** 2 < 1] = 1
    mask[(((xx - 0.5) / 0.36) ** 2 + ((yy - 0.38) / 0.32) ** 2 < 1) & (yy < 0.3)] = 13
    mask[((xx - 0.38) / 0.06) ** 2 + ((yy - 0.45) / 0.03) ** 2 < 1] = 5
    mask[((xx - 0.62) / 0.06) ** 2 + ((yy - 0.45) / 0.03) ** 2 < 1] = 4
    mask[(abs(xx - 0.5) < 0.04) & (yy > 0.48) & (yy < 0.6)] = 2
    mask[(abs(xx - 0.5) < 0.1) & (yy > 0.66) & (yy < 0.69)] = 11
    mask[(abs(xx - 0.5) < 0.1) & (yy >= 0.69) & (yy < 0.72)] = 12
    return mask


def photo_like(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(1, 1, 3))
    noise = rng.integers(-40, 40, size=(size, size, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)
