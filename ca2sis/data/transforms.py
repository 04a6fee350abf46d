"""Paired image/label transforms: the recipe's resize → random crop → horizontal flip.

The image and its label always receive the same geometry. Sizes follow the model's resolution with
the recipe's 286/256 ratio (256 → 286, 128 → 143, 32 → 36). On a flip, left/right classes are
swapped through the class table's ``flip_lut`` so that a mirrored left eye is labelled a right eye;
the authors' loader does not do this, and ``swap_left_right=False`` reproduces their behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

LOAD_RATIO = 286 / 256  # the recipe's resize-before-crop margin


def load_size_for(resolution: int) -> int:
    """Side length images are resized to before the random crop."""
    return int(round(resolution * LOAD_RATIO))


@dataclass(frozen=True)
class AugmentConfig:
    resolution: int = 256
    train: bool = True  # False: plain resize to the resolution, no crop, no flip
    flip: bool = True
    swap_left_right: bool = True

    @property
    def load_size(self) -> int:
        return load_size_for(self.resolution) if self.train else self.resolution


class PairTransform:
    """(PIL image, index label array) → (3×H×W float in [-1, 1], H×W int64)."""

    def __init__(self, config: AugmentConfig, flip_lut: np.ndarray | None = None) -> None:
        self.config = config
        self.flip_lut = flip_lut

    def __call__(
        self, image: Image.Image, label: np.ndarray, rng: np.random.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        size = cfg.load_size
        image = image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
        label_img = Image.fromarray(label.astype(np.uint8 if label.max(initial=0) < 256 else np.int32))
        label = np.asarray(label_img.resize((size, size), Image.Resampling.NEAREST))
        img = np.asarray(image)
        if cfg.train:
            # One draw order for every sample keeps augmentation a pure function of the rng seed.
            top = int(rng.integers(0, size - cfg.resolution + 1))
            left = int(rng.integers(0, size - cfg.resolution + 1))
            flip = bool(rng.random() < 0.5) and cfg.flip
            img = img[top : top + cfg.resolution, left : left + cfg.resolution]
            label = label[top : top + cfg.resolution, left : left + cfg.resolution]
            if flip:
                img = img[:, ::-1]
                label = label[:, ::-1]
                if cfg.swap_left_right and self.flip_lut is not None:
                    label = self.flip_lut[label]
        x = torch.from_numpy(np.array(img, copy=True)).permute(2, 0, 1).float() / 127.5 - 1.0
        y = torch.from_numpy(np.array(label, dtype=np.int64, copy=True))
        return x, y
