"""Things in front of a face: hands, held objects, bars. Training draws them over faces.

An occluder's pixels are labelled **background**, whatever they cover. That is CelebAMask-HQ's own
rule (a hand or a microphone in front of the face is left unlabelled, i.e. background), and it is
what the editor needs: paste-back keeps the photo's own pixels wherever the mask says background, so
a hand on a forehead stays a hand after a hair or hat edit instead of being repainted as the class
it covers (labelled "hat", it would be replaced by the reference's hat).

Each maker returns (coverage H×W float32 in [0, 1], colour H×W×3 float32) and draws everything from
``rng``; :func:`add_occluders` pastes a few onto an image and clears their labels.
"""

from __future__ import annotations

import cv2
import numpy as np

from ca2sis.parsing.backgrounds import TRAINING_KINDS, coords, grain, texture

Occluder = tuple[np.ndarray, np.ndarray]


def _shaded(rng: np.random.Generator, size: int, colour: np.ndarray) -> np.ndarray:
    """A colour lit from one side: a linear shading ramp and a little grain."""
    yy, xx = coords(size)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = 0.75 + 0.5 * ((xx * np.cos(angle) + yy * np.sin(angle)) % 1.0) * np.float32(rng.uniform(0.2, 0.8))
    img = colour.astype(np.float32)[None, None] * ramp[..., None]
    return np.clip(img + grain(rng, img.shape, 0.015), 0, 1)


def _entry_point(rng: np.random.Generator, size: int) -> tuple[np.ndarray, float]:
    """A point near a random edge of the frame and the direction pointing inwards (radians)."""
    edge = int(rng.integers(4))
    t = rng.uniform(0.1, 0.9) * size
    point = [np.array([t, size * 1.02]), np.array([-size * 0.02, t]), np.array([size * 1.02, t]),
             np.array([t, -size * 0.02])][edge]
    inward = [-np.pi / 2, 0.0, np.pi, np.pi / 2][edge] + rng.uniform(-0.6, 0.6)
    return point, inward


def hand(rng: np.random.Generator, size: int, skin: np.ndarray) -> Occluder:
    """A palm and fingers reaching in from an edge, in (near) the face's own skin colour: the hardest
    case, since colour alone then says "skin"."""
    cover = np.zeros((size, size), np.float32)
    wrist, direction = _entry_point(rng, size)
    reach = rng.uniform(0.25, 0.6) * size
    palm_len = rng.uniform(0.12, 0.2) * size
    centre = wrist + reach * np.array([np.cos(direction), np.sin(direction)])
    axis = np.array([np.cos(direction), np.sin(direction)])
    # The forearm from the frame's edge to the palm, then the palm.
    width = palm_len * rng.uniform(0.8, 1.0)
    cv2.line(cover, tuple(int(v) for v in wrist), tuple(int(v) for v in centre), 1.0, int(width), cv2.LINE_AA)
    cv2.ellipse(cover, tuple(int(v) for v in centre), (int(palm_len * 0.6), int(palm_len * 0.5)),
                float(np.degrees(direction)), 0, 360, 1.0, -1, cv2.LINE_AA)
    # Four fingers fanned around the palm's far side, a thumb off to one side.
    spread = rng.uniform(0.15, 0.35)
    side = np.array([-axis[1], axis[0]])
    for k in range(4):
        a = direction + (k - 1.5) * spread
        base = centre + axis * palm_len * 0.4 + side * (k - 1.5) * palm_len * 0.22
        tip = base + palm_len * rng.uniform(0.7, 1.0) * np.array([np.cos(a), np.sin(a)])
        cv2.line(cover, tuple(int(v) for v in base), tuple(int(v) for v in tip), 1.0,
                 max(2, int(palm_len * 0.24)), cv2.LINE_AA)
    thumb_dir = direction + rng.choice([-1, 1]) * rng.uniform(0.8, 1.3)
    tip = centre + palm_len * 0.9 * np.array([np.cos(thumb_dir), np.sin(thumb_dir)])
    cv2.line(cover, tuple(int(v) for v in centre), tuple(int(v) for v in tip), 1.0, max(2, int(palm_len * 0.26)),
             cv2.LINE_AA)
    tone = np.clip(skin * rng.uniform(0.85, 1.15) + rng.normal(0, 0.03, 3), 0, 1).astype(np.float32)
    return cover, _shaded(rng, size, tone)


def held_object(rng: np.random.Generator, size: int) -> Occluder:
    """A phone, cup, microphone or anything: a convex shape filled with a texture."""
    cover = np.zeros((size, size), np.float32)
    centre = rng.uniform(0.1, 0.9, 2) * size
    radius = rng.uniform(0.06, 0.2) * size
    if rng.random() < 0.5:
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 9))))
        radii = radius * rng.uniform(0.6, 1.0, angles.size)
        pts = centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], 1)
        cv2.fillConvexPoly(cover, cv2.convexHull(pts.astype(np.int32)), 1.0, cv2.LINE_AA)
    else:
        axes = (int(radius), int(radius * rng.uniform(0.3, 1.0)))
        cv2.ellipse(cover, tuple(int(v) for v in centre), axes, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    return cover, texture(rng, size, TRAINING_KINDS)


def bar(rng: np.random.Generator, size: int) -> Occluder:
    """A straight bar right across the frame: a railing, a pole, a strap, a microphone stand."""
    cover = np.zeros((size, size), np.float32)
    point = rng.uniform(0.1, 0.9, 2) * size
    angle = rng.uniform(0, np.pi)
    far = 2 * size * np.array([np.cos(angle), np.sin(angle)])
    thickness = int(rng.uniform(0.02, 0.1) * size) + 1
    cv2.line(cover, tuple(int(v) for v in point - far), tuple(int(v) for v in point + far), 1.0, thickness, cv2.LINE_AA)
    return cover, _shaded(rng, size, np.clip(rng.uniform(0, 1, 3), 0, 1).astype(np.float32))


def add_occluders(
    img: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    skin: np.ndarray,
    count: int = 1,
    max_face_cover: float = 0.35,
) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``count`` occluders onto ``img`` (S×S×3 float32) and set their pixels to background in
    ``labels`` (a square grid of any side; coverage is area-averaged onto it, a cell is cleared when
    the occluder covers at least half of it). An occluder that would hide more than ``max_face_cover``
    of the face's labelled pixels is drawn again, smaller faces of evidence being unlearnable."""
    size = img.shape[0]
    img, labels = img.copy(), labels.copy()
    grid = labels.shape[0]
    for _ in range(count):
        for _attempt in range(4):
            kind = rng.random()
            cover, colour = hand(rng, size, skin) if kind < 0.45 else held_object(rng, size) if kind < 0.8 \
                else bar(rng, size)
            cells = cover if grid == size else cv2.resize(cover, (grid, grid), interpolation=cv2.INTER_AREA)
            hit = cells >= 0.5
            face = labels > 0
            if face.sum() == 0 or (hit & face).sum() <= max_face_cover * face.sum():
                break
        else:
            continue
        img = img * (1 - cover[..., None]) + colour * cover[..., None]
        labels[hit] = 0
    return img, labels
