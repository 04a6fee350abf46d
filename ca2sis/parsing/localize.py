"""Face localisation with the bundled parser: the last resort when no detector weights are usable.

Photos go through RetinaFace (:mod:`ca2sis.photo.detection`); this localiser is used only when the bundled
detector file is missing or damaged, or when asked for by name (``--detector parsing``). It finds
fewer faces, more slowly, and textured backgrounds fool it (see ``docs/photos.md``). Its
:func:`landmarks_from_mask` also measures the five points on any parsed or true mask.

1. Coarse: the parser runs on the whole photo (shrunk to 512 on its long side) and on overlapping
   512² tiles of a 1024-px view (and of a 2048-px one when nothing was found, for small faces);
   each connected region of face classes that holds inner parts (eyes, nose, mouth) is a candidate.
2. Fine: each candidate is cut out square around its region and parsed again; the five landmarks
   come from the parts' shapes (:func:`landmarks_from_mask`). The face is then aligned with them
   and parsed a third time in CelebA-HQ framing, which refines the landmarks.

About 0.1 s per face and per tile on a CPU.
"""

from __future__ import annotations

import cv2
import numpy as np

from ca2sis.photo.align import TEMPLATE_512, AlignTransform, FaceBox, face_transform, warp_to_aligned

FACE_CLASSES = (1, 2, 4, 5, 6, 7, 10, 11, 12)  # skin and the parts inside the face
INNER_CLASSES = (2, 4, 5, 10, 11, 12)  # a skin blob without any of these is a hand or a neck
MOUTH_CLASSES = (10, 11, 12)


def _centroid(mask: np.ndarray) -> np.ndarray | None:
    ys, xs = np.nonzero(mask)
    return None if xs.size < 4 else np.array([xs.mean(), ys.mean()])


# Eye centroid = brow centroid + this fraction of the brow-to-brow distance, perpendicular to the
# brow line towards the mouth (CelebAMask-HQ masks: median 0.23, quartiles 0.20-0.27; along the
# brow line the median offset is 0.00).
BROW_TO_EYE = 0.23


def _eyes_from_brows(mask: np.ndarray, eyes: list[np.ndarray | None], mouth: np.ndarray) -> list | None:
    """Missing eyes placed under their brows: squinting, shadowed or small eyes often parse as skin
    while the brows above them are still found."""
    brows = [_centroid(mask == c) for c in (6, 7)]  # l_brow above l_eye (4), r_brow above r_eye (5)
    if brows[0] is None or brows[1] is None:
        return None
    along = brows[0] - brows[1]
    dist = float(np.linalg.norm(along))
    if dist < 4:
        return None
    down = np.array([-along[1], along[0]]) / dist
    if down @ (mouth - (brows[0] + brows[1]) / 2) < 0:  # the side of the brow line the mouth is on
        down = -down
    return [e if e is not None else b + BROW_TO_EYE * dist * down for e, b in zip(eyes, brows, strict=True)]


def landmarks_from_mask(mask: np.ndarray) -> np.ndarray | None:
    """Five landmarks (image order) measured from a parsed face the way :data:`TEMPLATE_512` was.

    None when the eyes (or glasses, or both brows) and the mouth cannot be found.
    """
    mouth = np.isin(mask, MOUTH_CLASSES)
    ys, xs = np.nonzero(mouth)
    if xs.size < 20:
        return None
    mouth_centre = np.array([xs.mean(), ys.mean()])
    eyes = [_centroid(mask == c) for c in (4, 5)]
    if any(e is None for e in eyes):
        glasses = mask == 3
        if glasses.sum() >= 20:
            # Eyes hidden behind (sun)glasses: the centroid of each half of the glasses.
            gy, gx = np.nonzero(glasses)
            mid = np.median(gx)
            eyes = [np.array([gx[gx < mid].mean(), gy[gx < mid].mean()]),
                    np.array([gx[gx >= mid].mean(), gy[gx >= mid].mean()])]
        else:
            eyes = _eyes_from_brows(mask, eyes, mouth_centre)
            if eyes is None:
                return None
    left_eye, right_eye = sorted(eyes, key=lambda p: p[0])
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


def _tile_starts(length: float, tile: int = 512, stride: int = 384) -> list[float]:
    if length <= tile:
        return [(length - tile) / 2]  # one tile, centred (the warp pads the outside)
    starts = list(np.arange(0, length - tile, stride))
    return [float(v) for v in starts] + [length - tile]


def _views(photo: np.ndarray, long_side: int) -> list[tuple[np.ndarray, AlignTransform]]:
    """512² views covering the photo scaled to ``long_side`` on its long side."""
    h, w = photo.shape[:2]
    s = long_side / max(h, w)
    views = []
    for ty in _tile_starts(h * s):
        for tx in _tile_starts(w * s):
            views.append(AlignTransform(np.array([[s, 0, -tx], [0, s, -ty]]), 512, (w, h)))
    return [(warp_to_aligned(photo, t, cv2.BORDER_CONSTANT), t) for t in views]


def _candidates(parser, photo: np.ndarray, min_px: int) -> list[tuple[np.ndarray, float]]:
    """(photo-space box x0,y0,x1,y1, score) of every face-like region in every view.

    Levels: the photo at 512 and 1024 px on its long side; when neither finds a face, 2048 px
    (at most twice the photo's own size) for faces too small for the coarser views.
    """
    long = max(photo.shape[:2])
    levels = [512] + ([1024] if 2 * long >= 1024 else [])
    fine = min(2048, 2 * long)  # the small-face level: only when the coarse ones found nothing
    if fine > 1024:
        levels.append(fine)
    found: list[tuple[np.ndarray, float]] = []
    for level in levels:
        if level > 1024 and found:
            break
        for view, t in _views(photo, level):
            found += _regions(parser, view, t, min_px)
    return found


def _regions(parser, view: np.ndarray, t: AlignTransform, min_px: int) -> list[tuple[np.ndarray, float]]:
    probs = parser.probabilities(view, 256)[0].numpy()
    labels = probs.argmax(0)
    face = np.isin(labels, FACE_CLASSES).astype(np.uint8)
    n, comp, stats, _ = cv2.connectedComponentsWithStats(face, connectivity=8)
    face_prob = probs[list(FACE_CLASSES)].sum(0)
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 60 or not np.isin(labels[comp == i], INNER_CLASSES).any():
            continue
        corners = np.array([[x, y], [x + bw, y + bh]], np.float64) * 2.0  # 256 → 512 view
        x0, y0 = t.to_photo(corners[:1])[0]
        x1, y1 = t.to_photo(corners[1:])[0]
        if max(x1 - x0, y1 - y0) < min_px:
            continue
        out.append((np.array([x0, y0, x1, y1]), float(face_prob[comp == i].mean())))
    return out


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


def _square(cx: float, cy: float, side: float, photo_size: tuple[int, int]) -> AlignTransform:
    s = 512 / side
    return AlignTransform(np.array([[s, 0, 256 - s * cx], [0, s, 256 - s * cy]]), 512, photo_size)


def refine(parser, photo: np.ndarray, box: np.ndarray, score: float) -> FaceBox | None:
    """Landmarks for one coarse region: parse square crops around it until the parts are found,
    then parse the aligned face (where the parser is at its best) until the landmarks settle."""
    h, w = photo.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = 2.2 * max(box[2] - box[0], box[3] - box[1])  # the skin spans ~45% of a CelebA-HQ crop
    lm = None
    for _ in range(3):
        t = _square(cx, cy, side, (w, h))
        mask = parser.parse(warp_to_aligned(photo, t))
        lm = landmarks_from_mask(mask)
        if lm is not None:
            break
        # Re-centre on the inner parts (eyes, nose, mouth span ~180 px of a 512² face crop).
        ys, xs = np.nonzero(np.isin(mask, INNER_CLASSES))
        if xs.size < 20:
            return None
        corners = t.to_photo(np.array([[xs.min(), ys.min()], [xs.max(), ys.max()]], np.float64))
        (cx, cy), size = corners.mean(0), (corners[1] - corners[0]).max()
        side = max(2.8 * size, 24.0)
    if lm is None:
        return None
    face = FaceBox(tuple(box), t.to_photo(lm), score, "parsing")
    for _ in range(3):
        t = face_transform(face, (w, h), 512)
        mask = parser.parse(warp_to_aligned(photo, t))
        lm = landmarks_from_mask(mask)
        if lm is None:
            return None
        ys, xs = np.nonzero(np.isin(mask, FACE_CLASSES))
        corners = t.to_photo(np.array([[xs.min(), ys.min()], [xs.max(), ys.min()],
                                       [xs.min(), ys.max()], [xs.max(), ys.max()]], np.float64))
        moved = np.abs(lm - TEMPLATE_512).max()  # how far the parts are from where alignment put them
        face = FaceBox((*corners.min(0), *corners.max(0)), t.to_photo(lm), score, "parsing")
        if moved < 4:
            break
    return face if plausible(mask, lm) else None


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
