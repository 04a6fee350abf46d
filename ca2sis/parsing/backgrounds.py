"""Backgrounds that are not a face, for teaching the parser what to leave as background.

CelebA-HQ crops almost all have soft, out-of-focus backgrounds, so a parser trained on them alone
takes any texture it has not seen (foliage, a striped shirt behind the head, a brick wall) for hair
or hat. Training composites faces onto these instead (see :mod:`ca2sis.parsing.augment`):

* procedural textures (:data:`TEXTURE_KINDS`): flat colours, gradients, fractal noise, streaks
  (noise smeared along one direction: the closest thing to hair that is not hair), stripes and
  plaids, foliage-like heaps of leaves, and bricks;
* :class:`PhotoBackgrounds`: regions of other photos that their masks call background.

Every generator takes ``(rng, size)`` and returns a size×size×3 float32 image in [0, 1], and draws
everything from ``rng``, so a background is fixed by the generator's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import cv2
import numpy as np

Texture = Callable[[np.random.Generator, int], np.ndarray]


@lru_cache(maxsize=4)
def coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) pixel coordinate grids as float32, divided by ``size`` (shared: do not write to them)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def grain(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A random colour, often muted as real scenes are (saturation drawn low more often than high)."""
    grey = rng.uniform(0.05, 0.95)
    return np.clip(grey + rng.normal(0.0, rng.uniform(0.02, 0.3), 3), 0.0, 1.0).astype(np.float32)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-pixel blend of two colours by ``t`` (H×W in [0, 1])."""
    return a[None, None] + (b - a)[None, None] * t[..., None].astype(np.float32)


def _value_noise(rng: np.random.Generator, size: int, octaves: int = 4, base: int | None = None) -> np.ndarray:
    """Fractal noise in [0, 1]: random grids from coarse to fine, upsampled smoothly and summed."""
    cells = base or int(rng.integers(2, 8))
    total = np.zeros((size, size), np.float32)
    weight = 1.0
    for _ in range(octaves):
        grid = rng.random((cells, cells), dtype=np.float32)
        total += weight * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
        cells = min(cells * 2, size)
        weight *= rng.uniform(0.4, 0.65)
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def flat(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.clip(_colour(rng) + grain(rng, (size, size, 3), rng.uniform(0, 0.02)), 0, 1)


def gradient(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = coords(size)
    if rng.random() < 0.5:  # linear, any direction
        angle = rng.uniform(0, 2 * np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
    else:  # radial, centred anywhere near the frame
        cx, cy = rng.uniform(-0.2, 1.2, 2)
        t = np.hypot(xx - cx, yy - cy)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return _lerp(_colour(rng), _colour(rng), t)


def noise(rng: np.random.Generator, size: int) -> np.ndarray:
    t = _value_noise(rng, size, octaves=int(rng.integers(2, 6)))
    img = _lerp(_colour(rng), _colour(rng), t)
    if rng.random() < 0.5:  # a second, independent pattern in a third colour
        img = img * 0.5 + _lerp(_colour(rng), _colour(rng), _value_noise(rng, size)) * 0.5
    return img


def streaks(rng: np.random.Generator, size: int) -> np.ndarray:
    """Fine noise smeared along one direction: grass, fur, wood grain, brushed metal."""
    # Box-blur fine noise along x, on a canvas large enough to be turned to any angle and cropped.
    big = int(size * 1.42) + 2
    fine = rng.random((big, big), dtype=np.float32)
    length = int(rng.integers(size // 16, size // 3)) | 1
    smeared = cv2.blur(fine, (length, 1), borderType=cv2.BORDER_REFLECT)
    rot = cv2.getRotationMatrix2D((big / 2, big / 2), rng.uniform(0, 180), 1.0)
    rot[:, 2] -= (big - size) / 2
    t = cv2.warpAffine(smeared, rot, (size, size), flags=cv2.INTER_LINEAR)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    t = np.clip((t - 0.5) * rng.uniform(2, 6) + 0.5, 0, 1)
    img = _lerp(_colour(rng), _colour(rng), t)
    shade = 0.6 + 0.4 * _value_noise(rng, size, octaves=2)  # broad light and shadow over the grain
    return img * shade[..., None]


def stripes(rng: np.random.Generator, size: int) -> np.ndarray:
    yy, xx = coords(size)
    out = np.zeros((size, size, 3), np.float32)
    layers = 2 if rng.random() < 0.35 else 1  # two crossing layers make a plaid
    for _ in range(layers):
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(1 / 40, 1 / 4)
        wave = np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + rng.uniform(0, 2 * np.pi))
        t = (wave > rng.uniform(-0.6, 0.6)).astype(np.float32) if rng.random() < 0.6 else (wave + 1) / 2
        out += _lerp(_colour(rng), _colour(rng), t) / layers
    return out


def foliage(rng: np.random.Generator, size: int) -> np.ndarray:
    """Heaps of overlapping leaf-shaped ellipses in greens, yellows and browns over a dark ground."""
    img = np.empty((size, size, 3), np.float32)
    img[:] = np.array([0.05, 0.12, 0.04], np.float32) * rng.uniform(0.3, 2.0)
    hue = rng.uniform(0.25, 0.45)  # green, shifted towards yellow or blue-green
    for _ in range(int(rng.integers(80, 400))):
        axes = (int(rng.integers(size // 60 + 1, size // 12 + 2)), int(rng.integers(size // 150 + 1, size // 30 + 2)))
        centre = (int(rng.integers(0, size)), int(rng.integers(0, size)))
        light = rng.uniform(0.15, 0.9)
        green = np.array([hue * 0.8, 1.0, hue * 0.5]) * light + rng.normal(0, 0.05, 3)
        if rng.random() < 0.15:  # an autumn leaf or a branch
            green = np.array([0.6, 0.4, 0.15]) * light
        cv2.ellipse(img, centre, axes, rng.uniform(0, 180), 0, 360, tuple(float(v) for v in np.clip(green, 0, 1)), -1)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 2.0))


def bricks(rng: np.random.Generator, size: int) -> np.ndarray:
    """A wall of offset bricks (or tiles) in mortar, each with its own shade."""
    mortar = _colour(rng)
    img = np.broadcast_to(mortar, (size, size, 3)).copy()
    h = int(rng.integers(max(2, size // 20), max(3, size // 6)))
    w = int(h * rng.uniform(1.0, 3.0))
    gap = max(1, int(h * rng.uniform(0.05, 0.2)))
    brick = _colour(rng)
    for row, y in enumerate(range(-h, size + h, h)):
        offset = (w // 2) * (row % 2)
        for x in range(-w - offset, size + w, w):
            shade = np.clip(brick * rng.uniform(0.75, 1.25) + rng.normal(0, 0.03, 3), 0, 1)
            cv2.rectangle(img, (x + gap, y + gap), (x + w - gap, y + h - gap), tuple(float(v) for v in shade), -1)
    mottle = _value_noise(rng, size, octaves=3, base=int(rng.integers(8, 32)))
    angle = rng.uniform(-20, 20)  # walls are seldom square to the camera
    rot = cv2.getRotationMatrix2D((size / 2, size / 2), angle, 1.0)
    img = cv2.warpAffine(img, rot, (size, size), borderMode=cv2.BORDER_REFLECT)
    return img * (0.8 + 0.4 * mottle[..., None])


TEXTURE_KINDS: dict[str, Texture] = {
    "flat": flat, "gradient": gradient, "noise": noise, "streaks": streaks,
    "stripes": stripes, "foliage": foliage, "bricks": bricks,
}
# What training draws from; the benchmark adds kinds training never sees (bricks) to measure the
# rule the parser learned rather than the textures it memorised.
TRAINING_KINDS = ("flat", "gradient", "noise", "streaks", "stripes", "foliage")


def texture(rng: np.random.Generator, size: int, kinds: Sequence[str] = TRAINING_KINDS) -> np.ndarray:
    """One background of a kind drawn from ``kinds``, sometimes out of focus as portrait backgrounds are."""
    unknown = set(kinds) - set(TEXTURE_KINDS)
    if unknown:
        raise ValueError(f"unknown texture kinds {sorted(unknown)}; known: {', '.join(TEXTURE_KINDS)}")
    img = TEXTURE_KINDS[kinds[int(rng.integers(len(kinds)))]](rng, size)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1.0, max(1.0, size / 64)))
    return np.clip(img, 0.0, 1.0).astype(np.float32)


class PhotoBackgrounds:
    """Background regions of real photos: squares that a photo's mask labels (almost) all background.

    ``images`` (N×S×S×3 uint8) and ``masks`` (N×S×S class ids, 0 = background) are read, not copied.
    Candidate squares are found once with an integral image of the background, on a coarse grid.
    """

    def __init__(self, images: np.ndarray, masks: np.ndarray, min_side: float = 0.2, clean: float = 0.97) -> None:
        self.images = images
        self.boxes: list[tuple[int, int, int, int]] = []  # (image index, x, y, side)
        side_px = images.shape[1]
        for i, mask in enumerate(masks):
            bg = np.pad((mask == 0).astype(np.int64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
            for frac in (0.45, 0.3, min_side):
                side = int(side_px * frac)
                step = max(1, side // 3)
                for y in range(0, side_px - side + 1, step):
                    for x in range(0, side_px - side + 1, step):
                        inside = bg[y + side, x + side] - bg[y, x + side] - bg[y + side, x] + bg[y, x]
                        if inside >= clean * side * side:
                            self.boxes.append((i, x, y, side))

    def __len__(self) -> int:
        return len(self.boxes)

    def __call__(self, rng: np.random.Generator, size: int, exclude: int | None = None) -> np.ndarray:
        """A background at size², from any photo but the one numbered ``exclude``."""
        boxes = self.boxes if exclude is None else [b for b in self.boxes if b[0] != exclude]
        if not boxes:
            raise ValueError("no photo has a background region large enough to sample")
        i, x, y, side = boxes[int(rng.integers(len(boxes)))]
        patch = self.images[i, y : y + side, x : x + side]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        img = cv2.resize(np.ascontiguousarray(patch), (size, size), interpolation=cv2.INTER_LINEAR)
        return img.astype(np.float32) / 255.0


def composite(face: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``alpha`` · face + (1 − alpha) · background, per pixel (float32 H×W×3; alpha H×W in [0, 1])."""
    if face.shape != background.shape or alpha.shape != face.shape[:2]:
        raise ValueError(f"face {face.shape}, alpha {alpha.shape} and background {background.shape} differ in size")
    a = alpha.astype(np.float32)[..., None]
    return face.astype(np.float32) * a + background.astype(np.float32) * (1.0 - a)


def onto_background(rgb: np.ndarray, mask: np.ndarray, background: np.ndarray, feather_px: float = 1.0) -> np.ndarray:
    """An image/mask pair's person (every non-background class) in front of ``background``: uint8
    H×W×3, the mask unchanged. ``background`` is float in [0, 1] at the pair's size."""
    alpha = (mask != 0).astype(np.float32)
    if feather_px > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather_px)
    out = composite(rgb.astype(np.float32) / 255.0, alpha, background)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


# Families of backgrounds for measuring how much background a parser takes for face: kinds training
# composites onto (new draws), one it never shows (bricks), and other photos' backgrounds.
SCENE_FAMILIES = ("noise", "streaks", "stripes", "foliage", "bricks", "photo")


def background_scenes(images: np.ndarray, masks: np.ndarray, seed: int = 1234):
    """Yield (family, pair index, composited uint8 image, true mask) for every pair and family of
    :data:`SCENE_FAMILIES`: the pair's person, in its own framing, in front of a new background. The
    same scenes on every call (fixed seed); the photo family takes other pairs' backgrounds, never
    the pair's own."""
    photos = PhotoBackgrounds(images, masks)
    size = images.shape[1]
    for i in range(len(images)):
        for f, family in enumerate(SCENE_FAMILIES):
            rng = np.random.default_rng([seed, i, f])
            bg = photos(rng, size, exclude=i) if family == "photo" else np.clip(TEXTURE_KINDS[family](rng, size), 0, 1)
            yield family, i, onto_background(images[i], masks[i], bg, feather_px=0.7), masks[i]
