"""Generated image/label pairs for tests and smoke runs: ellipses of random classes on noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_synthetic_pairs(
    root: Path, count: int = 8, size: int = 40, num_classes: int = 19, seed: int = 0, split: str | None = None
) -> Path:
    """Write ``count`` pairs to ``root[/split]/{images,labels}``; colours follow the class so G can learn."""
    rng = np.random.default_rng(seed)
    base = Path(root) / split if split else Path(root)
    (base / "images").mkdir(parents=True, exist_ok=True)
    (base / "labels").mkdir(parents=True, exist_ok=True)
    colours = rng.integers(0, 256, size=(num_classes, 3))
    yy, xx = np.mgrid[0:size, 0:size]
    for n in range(count):
        label = np.zeros((size, size), dtype=np.uint8)
        for _ in range(4):
            cy, cx = rng.integers(0, size, 2)
            ry, rx = rng.integers(size // 8, size // 3, 2)
            label[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = rng.integers(1, num_classes)
        image = colours[label] + rng.integers(-20, 21, size=(size, size, 3))
        rgb = np.clip(image, 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(base / "images" / f"{n}.jpg", quality=95)
        Image.fromarray(label).save(base / "labels" / f"{n}.png")
    return base
