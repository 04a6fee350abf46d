"""Image/mask pairs for training the bundled parser: listing, a fixed validation split, augmentation.

The folder layout is CelebAMask-HQ's mini release: ``images/<name>.jpg`` and ``masks/<name>.png``
(index PNG, pixel = class id). Everything is decoded once into memory at a reduced size, since the
whole set is small and JPEG decoding would otherwise dominate a CPU training step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ca2sis.classes import CELEBAMASK_HQ, ClassTable

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


@dataclass(frozen=True)
class AugmentConfig:
    out_size: int = 256
    scale: tuple[float, float] = (0.55, 1.25)  # face size relative to a full-frame crop; < 1 zooms out
    rotate_deg: float = 25.0
    shift: float = 0.08  # fraction of the side
    flip: float = 0.5
    gray: float = 0.08
    blur: float = 0.15
    label_stride: int = 2  # labels come out at out_size / label_stride, the net's output resolution
    # Share of views kept near the CelebA-HQ framing (the parser always gets aligned faces once a face
    # is found); the rest use the wide ranges above, which the offline detector's coarse pass needs.
    aligned_share: float = 0.0
    aligned_scale: tuple[float, float] = (0.9, 1.12)
    aligned_rotate_deg: float = 8.0


class PairCache:
    """All pairs decoded at ``size``² in memory, with random augmented batches drawn from them."""

    def __init__(self, pairs: list[tuple[str, Path, Path]], size: int, desc: str = "decoding") -> None:
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


def augment(
    rgb: np.ndarray,
    mask: np.ndarray,
    cfg: AugmentConfig,
    rng: np.random.Generator,
    classes: ClassTable = CELEBAMASK_HQ,
) -> tuple[np.ndarray, np.ndarray]:
    """One random view of a pair: flip (swapping left/right classes), scale/rotate/shift, colour."""
    src = rgb.shape[0]
    out = cfg.out_size
    if rng.random() < cfg.flip:
        # A mirrored face's left eye is the subject's right eye: the labels must swap too.
        rgb = rgb[:, ::-1]
        mask = classes.flip_lut()[mask[:, ::-1]]
    near = rng.random() < cfg.aligned_share
    scale = rng.uniform(*(cfg.aligned_scale if near else cfg.scale)) * out / src
    max_angle = cfg.aligned_rotate_deg if near else cfg.rotate_deg
    angle = rng.uniform(-max_angle, max_angle)
    m = cv2.getRotationMatrix2D((src / 2, src / 2), angle, scale)
    m[:, 2] += (out - src) / 2 + rng.uniform(-cfg.shift, cfg.shift, size=2) * out
    fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
    img = cv2.warpAffine(np.ascontiguousarray(rgb), m, (out, out), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    # Labels are warped straight to the coarser grid (pixel centres kept aligned), which makes the
    # loss 4× cheaper than scoring upsampled logits.
    k = cfg.label_stride
    ml = m / k
    ml[:, 2] -= 0.5 - 0.5 / k
    lab = cv2.warpAffine(np.ascontiguousarray(mask), ml, (out // k, out // k), flags=cv2.INTER_NEAREST,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    img = img.astype(np.float32) / 255.0
    # Colour: brightness, contrast, saturation, per-channel gain (white balance).
    img = img * rng.uniform(0.7, 1.3)
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.7, 1.3) + mean
    gray = img.mean(axis=2, keepdims=True)
    img = gray + (img - gray) * (0.0 if rng.random() < cfg.gray else rng.uniform(0.6, 1.4))
    img = img * rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    if rng.random() < cfg.blur:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(img, 0.0, 1.0), lab


def augmented_batch(
    cache: PairCache, indices: np.ndarray, cfg: AugmentConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """N×3×S×S float32 in [0, 1] and N×S×S int64 labels."""
    imgs, labs = [], []
    for i in indices:
        img, lab = augment(cache.images[i], cache.masks[i], cfg, rng)
        imgs.append(img.transpose(2, 0, 1))
        labs.append(lab)
    return np.stack(imgs), np.stack(labs).astype(np.int64)
