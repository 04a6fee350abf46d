"""Photos made from aligned face pairs, with the truth known: for detection and paste-back tests.

A scene is a background (procedural texture, or a mosaic of other photos' backgrounds) with
CelebA-HQ-framed faces composited onto it through their masks, each scaled, rotated and placed by a
known similarity transform, so every face's landmarks in the photo are the aligned landmarks mapped
through it. Faces may be cut by the photo's edge. Everything is drawn from a seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ca2sis.photo.align import TEMPLATE_512

ALIGNED = 512
# The face proper in a 512² CelebA-HQ crop (skin, brows to chin, ears): centre and radius.
FACE_CENTRE = np.array([256.0, 290.0])
FACE_RADIUS = 150.0


@dataclass
class PlacedFace:
    matrix: np.ndarray  # 2×3: aligned 512² pixel → photo pixel
    landmarks: np.ndarray  # 5×2 ground truth in photo pixels, image order
    name: str = ""
    cut: bool = False  # placed partly outside the photo

    @property
    def inter_ocular(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    @property
    def centre(self) -> np.ndarray:
        return FACE_CENTRE @ self.matrix[:, :2].T + self.matrix[:, 2]


@dataclass
class Scene:
    photo: np.ndarray  # H×W×3 uint8 RGB
    faces: list[PlacedFace] = field(default_factory=list)
    background: str = ""


def _smooth_noise(rng: np.random.Generator, size: tuple[int, int], cells: int, channels: int = 3) -> np.ndarray:
    """Value noise in [0, 1]: a random grid of ``cells`` across, bicubically enlarged."""
    w, h = size
    gw, gh = max(2, cells), max(2, round(cells * h / w))
    grid = rng.random((gh, gw, channels)).astype(np.float32)
    return np.clip(cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC), 0, 1).reshape(h, w, channels)


def procedural_texture(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A busy, photo-sized (``size`` = (w, h)) texture: fractal noise, stripes, tiles or clutter."""
    w, h = size
    kind = rng.integers(4)
    palette = rng.integers(0, 256, (4, 3)).astype(np.float32)
    if kind == 0:  # fractal value noise, coloured through a random palette
        n = sum(_smooth_noise(rng, size, c, 1) / (i + 1) for i, c in enumerate((4, 16, 64, 200)))
        t = (n - n.min()) / (np.ptp(n) + 1e-6)
        img = palette[0] * (1 - t) + palette[1] * t
    elif kind == 1:  # stripes or plaid, bent by noise (fabric, wood)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.zeros((h, w, 3), np.float32)
        for k in range(rng.integers(1, 3)):
            a = rng.uniform(0, np.pi)
            period = rng.uniform(8, 90)
            warp = _smooth_noise(rng, size, 6, 1)[..., 0] * rng.uniform(0, 60)
            wave = 0.5 + 0.5 * np.sin((xx * np.cos(a) + yy * np.sin(a) + warp) * 2 * np.pi / period)
            img += wave[..., None] * (palette[k + 1] - palette[0]) / (k + 1)
        img += palette[0]
    elif kind == 2:  # tiles or bricks with mortar
        img = np.empty((h, w, 3), np.float32)
        tw, th = int(rng.integers(30, 160)), int(rng.integers(20, 120))
        for r, y in enumerate(range(0, h, th)):
            off = (tw // 2) * (r % 2) * int(rng.integers(2))
            for x in range(-off, w, tw):
                img[y : y + th, max(0, x) : x + tw] = palette[rng.integers(3)] + rng.normal(0, 12, 3)
        img[:: th] = palette[3]
        img = cv2.GaussianBlur(img, (0, 0), 1.0)
    else:  # clutter: overlapping shapes, like objects on shelves or out-of-focus lights
        img = np.full((h, w, 3), palette[0], np.float32)
        for _ in range(int(rng.integers(40, 160))):
            colour = tuple(float(v) for v in rng.integers(0, 256, 3))
            cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
            if rng.random() < 0.5:
                axes = (int(rng.integers(5, 120)), int(rng.integers(5, 120)))
                cv2.ellipse(img, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
            else:
                corner = (cx + int(rng.integers(5, 200)), cy + int(rng.integers(5, 200)))
                cv2.rectangle(img, (cx, cy), corner, colour, -1)
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.5, 4)))
    img += rng.normal(0, rng.uniform(2, 10), img.shape).astype(np.float32)  # sensor grain
    return np.clip(img, 0, 255).astype(np.uint8)


def without_person(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A photo's background alone: its person (every non-background class) filled in from around it."""
    small = cv2.resize(image, (128, 128), interpolation=cv2.INTER_AREA)
    hole = cv2.resize(cv2.dilate((mask != 0).astype(np.uint8), np.ones((9, 9), np.uint8)), (128, 128),
                      interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, hole, 9, cv2.INPAINT_TELEA)
    up = cv2.resize(filled, image.shape[1::-1], interpolation=cv2.INTER_CUBIC).astype(np.float32)
    soft = cv2.GaussianBlur(cv2.resize(hole, image.shape[1::-1]).astype(np.float32), (0, 0), 4)[..., None]
    return np.clip(image * (1 - soft) + up * soft + 0.5, 0, 255).astype(np.uint8)


def photo_background(rng: np.random.Generator, size: tuple[int, int], sources: Sequence[np.ndarray]) -> np.ndarray:
    """A background made of real photos' backgrounds (see :func:`without_person`): a 2×2 mosaic of
    them, each enlarged, mirrored at random and overlapped with the next through soft edges."""
    if not sources:
        raise ValueError("no photos to build a photographic background from")
    w, h = size
    tile = int(max(w, h) * rng.uniform(0.6, 0.8))
    ramp = np.minimum(np.linspace(0, 1, tile), np.linspace(1, 0, tile)) * 2
    soft = np.clip(np.minimum.outer(ramp, ramp) * 3, 1e-3, 1)[..., None].astype(np.float32)
    canvas = np.zeros((h, w, 3), np.float32)
    weight = np.zeros((h, w, 1), np.float32)
    for y in np.linspace(-tile * 0.1, h - tile * 0.9, 2).astype(int):
        for x in np.linspace(-tile * 0.1, w - tile * 0.9, 2).astype(int):
            piece = sources[rng.integers(len(sources))]
            if rng.random() < 0.5:
                piece = piece[:, ::-1]
            big = cv2.resize(piece, (tile, tile), interpolation=cv2.INTER_CUBIC).astype(np.float32)
            ys, xs = slice(max(0, y), min(h, y + tile)), slice(max(0, x), min(w, x + tile))
            src = (slice(ys.start - y, ys.stop - y), slice(xs.start - x, xs.stop - x))
            canvas[ys, xs] += big[src] * soft[src]
            weight[ys, xs] += soft[src]
    img = canvas / np.maximum(weight, 1e-6)
    img += rng.normal(0, 3, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def placement(scale: float, angle: float, centre: tuple[float, float]) -> np.ndarray:
    """2×3 aligned → photo: ``scale`` and ``angle`` (degrees, counter-clockwise) about the face's centre,
    which lands on ``centre``."""
    m = cv2.getRotationMatrix2D((float(FACE_CENTRE[0]), float(FACE_CENTRE[1])), angle, scale)
    m[:, 2] += np.asarray(centre, np.float64) - FACE_CENTRE
    return m


def composite(photo: np.ndarray, image: np.ndarray, mask: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``photo`` with the person of an aligned ``image`` (every non-background class) warped onto it."""
    h, w = photo.shape[:2]
    alpha = cv2.GaussianBlur((mask != 0).astype(np.float32), (0, 0), 1.5)
    flags = cv2.INTER_AREA if abs(np.linalg.det(matrix[:, :2])) < 1 else cv2.INTER_LINEAR
    face = cv2.warpAffine(image, matrix, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    a = cv2.warpAffine(alpha, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    return np.clip(photo * (1 - a) + face * a + 0.5, 0, 255).astype(np.uint8)


def scatter(
    rng: np.random.Generator,
    size: tuple[int, int],
    count: int,
    scale: tuple[float, float] = (0.2, 1.0),
    max_angle: float = 30.0,
    cut_chance: float = 0.0,
    tries: int = 200,
) -> list[tuple[np.ndarray, bool]]:
    """Up to ``count`` non-overlapping placements (matrix, cut) of faces in a photo of ``size``.

    A cut face has 15–35% of its width outside the photo on one side (sometimes an eye with it).
    """
    w, h = size
    placed: list[tuple[np.ndarray, bool]] = []
    circles: list[tuple[np.ndarray, float]] = []
    for _ in range(tries):
        if len(placed) == count:
            break
        s = float(np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]))))
        r = FACE_RADIUS * s
        cut = rng.random() < cut_chance
        if cut:  # the face's centre sits this close to a side, so part of it is outside
            inset = r * (1 - 2 * rng.uniform(0.15, 0.35))
            side = rng.integers(4)
            along = rng.uniform(r, (h if side < 2 else w) - r)  # along the chosen side
            c = [(inset, along), (w - inset, along), (along, inset), (along, h - inset)][side]
        else:
            if 2 * r >= min(w, h):
                continue
            c = (rng.uniform(r, w - r), rng.uniform(r, h - r))
        c = np.array(c, np.float64)
        if any(np.linalg.norm(c - oc) < 1.15 * (r + orad) for oc, orad in circles):
            continue
        circles.append((c, r))
        placed.append((placement(s, float(rng.uniform(-max_angle, max_angle)), tuple(c)), bool(cut)))
    return placed


def jpeg(rng: np.random.Generator, rgb: np.ndarray, quality: tuple[int, int] = (80, 95)) -> np.ndarray:
    """The photo as a camera or a web page would store it."""
    ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*quality))])
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]) if ok else rgb


def make_scene(
    background: np.ndarray,
    faces: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]],
    placements: Sequence[tuple[np.ndarray, bool]],
) -> Scene:
    """Composite ``faces`` (name, aligned image, mask, aligned landmarks or None for the template)
    onto ``background`` at ``placements``; the largest first, so small faces are never hidden."""
    photo = background.copy()
    scene = Scene(photo)
    order = sorted(zip(faces, placements, strict=False), key=lambda fp: -abs(np.linalg.det(fp[1][0][:, :2])))
    for (name, image, mask, landmarks), (matrix, cut) in order:
        photo = composite(photo, image, mask, matrix)
        points = TEMPLATE_512 if landmarks is None else np.asarray(landmarks, np.float64)
        scene.faces.append(PlacedFace(matrix, points @ matrix[:, :2].T + matrix[:, 2], name, cut))
    scene.photo = photo
    return scene
