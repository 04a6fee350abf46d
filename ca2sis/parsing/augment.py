"""Training views of an image/mask pair for the bundled parser.

One view = a horizontal flip (left/right classes swapped), a similarity transform from one of three
families, optionally a new background behind the person and things in front of the face, then
camera-like colour changes. The three framings:

* the data's own (CelebA-HQ) framing, untouched: what the held-out pairs and an exact alignment give;
* near it, as a face detector's 5-point alignment leaves a face: scale, rotation and shift around
  the framing (``aligned_*``);
* wide: zoomed out and rotated further, which the parser-based face localiser's coarse pass needs.

Backgrounds are replaced using the mask (every non-background class is the person) with a feathered
edge; the image below the crop's bottom edge continues (mirrored, then drawn on), since a body goes on
below a portrait while the sides and top are where a background shows. Occluders are labelled
background (see :mod:`ca2sis.parsing.occluders` for why).

Every random choice is drawn from the generator passed in; :func:`sample_rng` makes one per
(seed, epoch, sample), so a view does not depend on which views came before it, and a resumed run
sees exactly the views an uninterrupted one would.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ca2sis.classes import CELEBAMASK_HQ, ClassTable
from ca2sis.parsing.backgrounds import TRAINING_KINDS, PhotoBackgrounds, composite, grain, texture
from ca2sis.parsing.occluders import add_occluders


@dataclass(frozen=True)
class AugmentConfig:
    out_size: int = 256
    scale: tuple[float, float] = (0.55, 1.25)  # wide views: face size relative to a full-frame crop
    rotate_deg: float = 25.0
    shift: float = 0.08  # fraction of the side
    flip: float = 0.5
    gray: float = 0.08
    blur: float = 0.15
    noise: float = 0.0  # share of views with sensor noise
    label_stride: int = 2  # labels come out at out_size / label_stride, the net's output resolution
    # Shares of the framings (the rest are wide views).
    framing_share: float = 0.0  # exactly the data's own framing
    aligned_share: float = 0.0  # near it, as a detector aligns
    aligned_scale: tuple[float, float] = (0.9, 1.12)
    aligned_rotate_deg: float = 8.0
    # Share of views whose background is replaced, and of those, the share taken from other photos
    # (when a photo source is given; procedural textures otherwise).
    background_share: float = 0.0
    photo_share: float = 0.3
    feather_px: tuple[float, float] = (0.3, 1.2)  # blur of the person's edge when composited, output px
    occluder_share: float = 0.0  # share of views with one or two occluders
    max_occluders: int = 2


def sample_rng(seed: int, epoch: int, sample: int) -> np.random.Generator:
    """The generator for one training sample: a pure function of (seed, epoch, sample number)."""
    return np.random.default_rng([seed, epoch, sample])


def _view_matrix(cfg: AugmentConfig, src: int, rng: np.random.Generator) -> np.ndarray:
    out = cfg.out_size
    family = rng.random()
    if family < cfg.framing_share:
        return np.array([[out / src, 0, 0], [0, out / src, 0]], np.float64)
    near = family < cfg.framing_share + cfg.aligned_share
    lo, hi = cfg.aligned_scale if near else cfg.scale
    scale = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) * out / src  # log-uniform: as often ×0.8 as ×1.25
    max_angle = cfg.aligned_rotate_deg if near else cfg.rotate_deg
    m = cv2.getRotationMatrix2D((src / 2, src / 2), rng.uniform(-max_angle, max_angle), scale)
    m[:, 2] += (out - src) / 2 + rng.uniform(-cfg.shift, cfg.shift, size=2) * out
    return m


def _skin_colour(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    skin = mask == 1
    if skin.sum() < 16:
        return np.array([0.8, 0.6, 0.5], np.float32)
    return (rgb[skin].mean(0) / 255.0).astype(np.float32)


def augment(
    rgb: np.ndarray,
    mask: np.ndarray,
    cfg: AugmentConfig,
    rng: np.random.Generator,
    classes: ClassTable = CELEBAMASK_HQ,
    photos: PhotoBackgrounds | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One random view of a pair: (S×S×3 float32 in [0, 1], (S/label_stride)² uint8 labels)."""
    src = rgb.shape[0]
    out = cfg.out_size
    if rng.random() < cfg.flip:
        # A mirrored face's left eye is the subject's right eye: the labels must swap too.
        rgb = rgb[:, ::-1]
        mask = classes.flip_lut()[mask[:, ::-1]]
    m = _view_matrix(cfg, src, rng)
    replace_bg = rng.random() < cfg.background_share
    if replace_bg:
        # The body continues below the crop: mirrored for a fifth of the side (beyond that the mirror
        # would reach the chin), then its last row drawn on. The other sides are background.
        mirror, rest = ((0, src // 5), (0, 0)), ((0, src // 2 - src // 5), (0, 0))
        rgb = np.pad(np.pad(rgb, (*mirror, (0, 0)), mode="reflect"), (*rest, (0, 0)), mode="edge")
        mask = np.pad(np.pad(mask, mirror, mode="reflect"), rest, mode="edge")
        fill = (0, 0, 0)
    else:
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
    img = cv2.warpAffine(np.ascontiguousarray(rgb), m, (out, out), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=fill).astype(np.float32) / 255.0
    # Labels are warped straight to the coarser grid (pixel centres kept aligned), which makes the
    # loss 4× cheaper than scoring upsampled logits.
    k = cfg.label_stride
    ml = m / k
    ml[:, 2] -= 0.5 - 0.5 / k
    lab = cv2.warpAffine(np.ascontiguousarray(mask), ml, (out // k, out // k), flags=cv2.INTER_NEAREST,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if replace_bg:
        person = cv2.warpAffine((mask != 0).astype(np.float32), m, (out, out), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        sigma = rng.uniform(*cfg.feather_px)
        if sigma > 0:
            person = cv2.GaussianBlur(person, (0, 0), sigma)
        if photos is not None and len(photos) and rng.random() < cfg.photo_share:
            background = photos(rng, out)
        else:
            background = texture(rng, out, TRAINING_KINDS)
        img = composite(img, person, background)
    if rng.random() < cfg.occluder_share:
        count = int(rng.integers(1, cfg.max_occluders + 1))
        img, lab = add_occluders(img, lab, rng, _skin_colour(rgb, mask), count)
    # Colour: brightness, contrast, saturation, per-channel gain (white balance).
    img = img * rng.uniform(0.7, 1.3)
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.7, 1.3) + mean
    gray = img.mean(axis=2, keepdims=True)
    img = gray + (img - gray) * (0.0 if rng.random() < cfg.gray else rng.uniform(0.6, 1.4))
    img = img * rng.uniform(0.9, 1.1, size=3).astype(np.float32)
    if rng.random() < cfg.blur:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < cfg.noise:
        img = img + grain(rng, img.shape, rng.uniform(0.005, 0.04))
    return np.clip(img, 0.0, 1.0).astype(np.float32), lab


def augmented_batch(
    images: np.ndarray,
    masks: np.ndarray,
    indices: np.ndarray,
    cfg: AugmentConfig,
    rngs: list[np.random.Generator],
    photos: PhotoBackgrounds | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """N×3×S×S float32 in [0, 1] and N×S'×S' int64 labels; sample ``j`` is drawn with ``rngs[j]``."""
    imgs, labs = [], []
    for i, rng in zip(indices, rngs, strict=True):
        img, lab = augment(images[i], masks[i], cfg, rng, photos=photos)
        imgs.append(img.transpose(2, 0, 1))
        labs.append(lab)
    return np.stack(imgs), np.stack(labs).astype(np.int64)
