"""Image/mask pairs for training the bundled parser: listing, a fixed validation split, an in-memory cache.

The folder layout is CelebAMask-HQ's mini release: ``images/<name>.jpg`` and ``masks/<name>.png``
(index PNG, pixel = class id). Everything is decoded once into memory at a reduced size, since the
whole set is small and JPEG decoding would otherwise dominate a CPU training step. The random
training views are made by :mod:`ca2sis.parsing.augment`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
# Rare classes (glasses, hat, earring, necklace) get their images drawn more often.
RARE_CLASSES = (3, 14, 15, 16)


def list_pairs(root: str | Path) -> list[tuple[str, Path, Path]]:
    """(name, image path, mask path) for every image that has a mask, sorted by name."""
    root = Path(root)
    images, masks = root / "images", root / "masks"
    if not images.is_dir() or not masks.is_dir():
        raise FileNotFoundError(f"{root}: expected the sub-folders images/ and masks/")
    pairs = []
    for img in sorted(images.iterdir()):
        if img.suffix.lower() in IMAGE_SUFFIXES and (masks / f"{img.stem}.png").is_file():
            pairs.append((img.stem, img, masks / f"{img.stem}.png"))
    if not pairs:
        raise FileNotFoundError(f"{root}: no image in images/ has a matching masks/<name>.png")
    return pairs


def split_names(names: list[str], num_val: int) -> tuple[list[str], list[str]]:
    """A fixed train/validation split: order by a hash of the name, the first ``num_val`` validate.

    Hashing (not shuffling) keeps a name on the same side when pairs are added to the folder.
    """
    def key(n: str) -> str:
        return hashlib.blake2b(n.encode(), digest_size=8).hexdigest()

    ordered = sorted(names, key=key)
    val = set(ordered[:num_val])
    return [n for n in names if n not in val], [n for n in names if n in val]


def read_pair(image_path: Path, mask_path: Path, size: int | None) -> tuple[np.ndarray, np.ndarray]:
    from ca2sis.photo import load_image, load_mask  # photo decoding rules apply to training data too

    rgb = load_image(image_path)
    mask = load_mask(mask_path)
    if mask.shape != rgb.shape[:2]:
        mask = cv2.resize(mask, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)
    if size is not None and rgb.shape[0] != size:
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_NEAREST)
    return rgb, mask


class PairCache:
    """All pairs decoded at ``size``² in memory (``None``: at their own size)."""

    def __init__(self, pairs: list[tuple[str, Path, Path]], size: int | None, desc: str = "decoding") -> None:
        self.names = [n for n, _, _ in pairs]
        imgs, masks = [], []
        for _, ip, mp in tqdm(pairs, desc=desc, unit="img", leave=False):
            rgb, mask = read_pair(ip, mp, size)
            imgs.append(rgb)
            masks.append(mask)
        self.images = np.stack(imgs)
        self.masks = np.stack(masks)

    def __len__(self) -> int:
        return len(self.names)

    def sampling_weights(self) -> np.ndarray:
        has_rare = np.array([np.isin(m, RARE_CLASSES).any() for m in self.masks])
        w = np.where(has_rare, 3.0, 1.0)
        return w / w.sum()
