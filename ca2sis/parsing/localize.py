"""Offline face detection with the bundled parser: no detector weights needed.

1. Coarse: the parser runs on the whole photo (shrunk to 512 on its long side) and, for large
   photos, on overlapping 512² tiles of a 1024-px view; each connected region of face classes
   that holds inner parts (eyes, nose, mouth) is a candidate.
2. Fine: each candidate is cut out square around its region and parsed again; the five landmarks
   come from the parts' shapes (:func:`landmarks_from_mask`). The face is then aligned with them
   and parsed a third time in CelebA-HQ framing, which refines the landmarks.

Slower than RetinaFace (about 0.1 s per face and per tile on a CPU) and less robust to profile or
heavily occluded faces, but it ships with the install.
"""

from __future__ import annotations

import cv2
import numpy as np

from ca2sis.align import TEMPLATE_512, AlignTransform, FaceBox, face_transform, warp_to_aligned

FACE_CLASSES = (1, 2, 4, 5, 6, 7, 10, 11, 12)  # skin and the parts inside the face
INNER_CLASSES = (2, 4, 5, 10, 11, 12)  # a skin blob without any of these is a hand or a neck
MOUTH_CLASSES = (10, 11, 12)


def _centroid(mask: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(mask)
    return None if xs.size < 4 else np.array([xs.mean(), ys.mean()])


def landmarks_from_mask(mask: np.ndarray) -> np.ndarray | None:
    """Five landmarks (image order) measured from a parsed face the way :data:`TEMPLATE_512` was.

    None when the eyes (or glasses) and the mouth cannot both be found.
    """
    eyes = [_centroid(mask == c) for c in (4, 5)]
    if any(e is None for e in eyes):
        glasses = mask == 3
        if glasses.sum() < 20:
            return None
        # Eyes hidden behind (sun)glasses: the centroid of each half of the glasses.
        ys, xs = np.nonzero(glasses)
        mid = np.median(xs)
        eyes = [np.array([xs[xs < mid].mean(), ys[xs < mid].mean()]),
                np.array([xs[xs >= mid].mean(), ys[xs >= mid].mean()])]
    left_eye, right_eye = sorted(eyes, key=lambda p: p[0])
    mouth = np.isin(mask, MOUTH_CLASSES)
    ys, xs = np.nonzero(mouth)
    if xs.size < 20:
        return None
    lo = xs <= xs.min() + 2
    hi = xs >= xs.max() - 2
    m_left = np.array([xs[lo].mean(), ys[lo].mean()])
    m_right = np.array([xs[hi].mean(), ys[hi].mean()])
    ys, xs = np.nonzero(mask == 2)
    if xs.size >= 20:
        low = ys >= ys.max() - 0.25 * (ys.max() - ys.min())
        nose = np.array([xs[low].mean(), ys[low].mean()])
    else:  # no nose found: where the template puts it relative to eyes and mouth
        nose = (left_eye + right_eye) * 0.25 + (m_left + m_right) * 0.25
    return np.stack([left_eye, right_eye, nose, m_left, m_right]).astype(np.float32)


def _views(photo: np.ndarray) -> list[tuple[np.ndarray, AlignTransform]]:
    """Square 512² views of the photo: the whole of it, plus tiles of a 1024-px view when large."""
    h, w = photo.shape[:2]
    views = []
    s = 512 / max(h, w)
    m = np.array([[s, 0, (512 - w * s) / 2], [0, s, (512 - h * s) / 2]])
    views.append(AlignTransform(m, 512, (w, h)))
    if max(h, w) > 768:
        s = 1024 / max(h, w)
        vw, vh = w * s, h * s
        xs = np.arange(0, max(1.0, vw - 512) + 1, 384)
        ys = np.arange(0, max(1.0, vh - 512) + 1, 384)
        for ty in ys:
            for tx in xs:
                views.append(AlignTransform(np.array([[s, 0, -tx], [0, s, -ty]]), 512, (w, h)))
    return [(warp_to_aligned(photo, t, cv2.BORDER_CONSTANT), t) for t in views]


def _candidates(parser, photo: np.ndarray, min_px: int) -> list[tuple[np.ndarray, float]]:
    """(photo-space box x0,y0,x1,y1, score) of every face-like region in every view."""
    found = []
    for view, t in _views(photo):
        probs = parser.probabilities(view, 256)[0].numpy()
        labels = probs.argmax(0)
        face = np.isin(labels, FACE_CLASSES).astype(np.uint8)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(face, connectivity=8)
        face_prob = probs[list(FACE_CLASSES)].sum(0)
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area < 60 or not np.isin(labels[comp == i], INNER_CLASSES).any():
                continue
            corners = np.array([[x, y], [x + bw, y + bh]], np.float64) * 2.0  # 256 → 512 view
            x0, y0 = t.to_photo(corners[:1])[0]
            x1, y1 = t.to_photo(corners[1:])[0]
            if max(x1 - x0, y1 - y0) < min_px:
                continue
            found.append((np.array([x0, y0, x1, y1]), float(face_prob[comp == i].mean())))
    return found


def _merge(cands: list[tuple[np.ndarray, float]], iou: float = 0.3) -> list[tuple[np.ndarray, float]]:
    """Greedy merging of overlapping candidates from different views, biggest first."""
    cands = sorted(cands, key=lambda c: (c[0][2] - c[0][0]) * (c[0][3] - c[0][1]), reverse=True)
    kept: list[tuple[np.ndarray, float]] = []
    for box, score in cands:
        dup = False
        for kb, _ in kept:
            ix = max(0.0, min(box[2], kb[2]) - max(box[0], kb[0]))
            iy = max(0.0, min(box[3], kb[3]) - max(box[1], kb[1]))
            inter = ix * iy
            area = (box[2] - box[0]) * (box[3] - box[1])
            if inter / max(area, 1e-9) > iou:  # mostly inside a kept (larger) face
                dup = True
                break
        if not dup:
            kept.append((box, score))
    return kept


def refine(parser, photo: np.ndarray, box: np.ndarray, score: float) -> FaceBox | None:
    """Landmarks for one coarse region: parse a square crop, then the aligned face."""
    h, w = photo.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = 2.2 * max(box[2] - box[0], box[3] - box[1])  # the skin spans ~45% of a CelebA-HQ crop
    s = 512 / side
    t = AlignTransform(np.array([[s, 0, 256 - s * cx], [0, s, 256 - s * cy]]), 512, (w, h))
    lm = landmarks_from_mask(parser.parse(warp_to_aligned(photo, t)))
    if lm is None:
        return None
    face = FaceBox(tuple(box), t.to_photo(lm), score, "parsing")
    for _ in range(2):  # in CelebA-HQ framing the parser is at its best: measure again there
        t = face_transform(face, (w, h), 512)
        mask = parser.parse(warp_to_aligned(photo, t))
        lm = landmarks_from_mask(mask)
        if lm is None or not plausible(mask, lm):
            return None
        ys, xs = np.nonzero(np.isin(mask, FACE_CLASSES))
        corners = t.to_photo(np.array([[xs.min(), ys.min()], [xs.max(), ys.min()],
                                       [xs.min(), ys.max()], [xs.max(), ys.max()]], np.float64))
        face = FaceBox((*corners.min(0), *corners.max(0)), t.to_photo(lm), score, "parsing")
    return face


def plausible(aligned_mask: np.ndarray, landmarks: np.ndarray) -> bool:
    """Does an aligned crop look like a face? Its parts must sit near the template's places (the
    data's spread is about ±9 px) and face classes must cover a fair share of the crop."""
    scale = aligned_mask.shape[0] / 512
    if np.linalg.norm(landmarks / scale - TEMPLATE_512, axis=1).max() > 45:
        return False
    return bool(np.isin(aligned_mask, FACE_CLASSES).mean() > 0.12)


def localize_faces(photo: np.ndarray, parser=None, min_px: int = 20, max_faces: int = 20) -> list[FaceBox]:
    """Faces found by parsing (see the module docstring); ``parser`` defaults to the bundled one."""
    if parser is None:
        from ca2sis.parsing import load_parser

        parser = load_parser("bundled")
    faces = []
    for box, score in _merge(_candidates(parser, photo, min_px))[:max_faces]:
        face = refine(parser, photo, box, score)
        if face is not None:
            faces.append(face)
    return faces
