"""Pure numpy operations on index masks: the painting tools' arithmetic.

Every tool works in two steps. A *footprint* function says which pixels a gesture covers, as a
bounding box (a pair of slices) plus a boolean array of that box's size. :func:`apply_label` then
writes a class into the covered pixels, skipping locked classes. Keeping the two apart makes the
tools testable without Qt and keeps each undo diff as small as the gesture's bounding box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

Box = tuple[slice, slice]
Footprint = tuple[Box, np.ndarray]  # (bounding box, boolean array of the box's shape)


def _clip_box(shape: tuple[int, int], y0: int, y1: int, x0: int, x1: int) -> Box | None:
    """Half-open box clipped to the image; None when nothing is left."""
    h, w = shape
    y0, y1, x0, x1 = max(0, y0), min(h, y1), max(0, x0), min(w, x1)
    if y0 >= y1 or x0 >= x1:
        return None
    return slice(y0, y1), slice(x0, x1)


def segment_footprint(
    shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float], radius: float
) -> Footprint | None:
    """The pixels within ``radius`` of the segment p0→p1 (points as (x, y)): one brush dab or drag step.

    A capsule rather than a chain of disks, so fast mouse moves leave no gaps.
    """
    (xa, ya), (xb, yb) = p0, p1
    r = max(float(radius), 0.5)
    box = _clip_box(
        shape,
        int(np.floor(min(ya, yb) - r)),
        int(np.ceil(max(ya, yb) + r)) + 1,
        int(np.floor(min(xa, xb) - r)),
        int(np.ceil(max(xa, xb) + r)) + 1,
    )
    if box is None:
        return None
    ys = np.arange(box[0].start, box[0].stop, dtype=np.float32)[:, None]
    xs = np.arange(box[1].start, box[1].stop, dtype=np.float32)[None, :]
    dx, dy = xb - xa, yb - ya
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        t = np.zeros((1, 1), dtype=np.float32)
    else:  # projection of every pixel onto the segment, clamped to its ends
        t = np.clip(((xs - xa) * dx + (ys - ya) * dy) / length2, 0.0, 1.0)
    dist2 = (xs - (xa + t * dx)) ** 2 + (ys - (ya + t * dy)) ** 2
    return box, dist2 <= r * r


def rect_footprint(shape: tuple[int, int], p0: tuple[float, float], p1: tuple[float, float]) -> Footprint | None:
    """A filled axis-aligned rectangle between two corners (x, y), both included."""
    x0, x1 = sorted((int(np.floor(p0[0])), int(np.floor(p1[0]))))  # the pixels the corners fall in
    y0, y1 = sorted((int(np.floor(p0[1])), int(np.floor(p1[1]))))
    box = _clip_box(shape, y0, y1 + 1, x0, x1 + 1)
    if box is None:
        return None
    return box, np.ones((box[0].stop - box[0].start, box[1].stop - box[1].start), dtype=bool)


def polygon_footprint(shape: tuple[int, int], points: Sequence[tuple[float, float]]) -> Footprint | None:
    """The inside of a closed polygon (the lasso), points as (x, y)."""
    if len(points) < 3:
        return None
    pts = np.asarray(points, dtype=np.float64)
    box = _clip_box(
        shape,
        int(np.floor(pts[:, 1].min())),
        int(np.ceil(pts[:, 1].max())) + 1,
        int(np.floor(pts[:, 0].min())),
        int(np.ceil(pts[:, 0].max())) + 1,
    )
    if box is None:
        return None
    h, w = box[0].stop - box[0].start, box[1].stop - box[1].start
    # PIL rasterises polygons exactly and fast; drawing relative to the box keeps the image small.
    canvas = Image.new("1", (w, h), 0)
    rel = [(float(x) - box[1].start, float(y) - box[0].start) for x, y in pts]
    ImageDraw.Draw(canvas).polygon(rel, fill=1, outline=1)
    return box, np.asarray(canvas, dtype=bool)


def flood_footprint(mask: np.ndarray, x: int, y: int) -> Footprint | None:
    """The 4-connected region of the clicked pixel's class (a true flood fill, not a contour fill)."""
    h, w = mask.shape
    if not (0 <= x < w and 0 <= y < h):
        return None
    labels, _ = ndimage.label(mask == mask[y, x])  # default structure: 4-connectivity
    region = labels == labels[y, x]
    ys, xs = np.nonzero(region)
    box = (slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1))
    return box, region[box]


def apply_label(
    mask: np.ndarray,
    footprint: Footprint | None,
    value: int | np.ndarray,
    locked: Iterable[int] = (),
) -> Box | None:
    """Write ``value`` into the footprint's pixels, in place, leaving locked classes untouched.

    ``value`` is a class id, or an array of the mask's shape to copy from (the eraser's "restore the
    class underneath" mode). Returns the box actually changed, or None when nothing changed.
    """
    if footprint is None:
        return None
    box, covered = footprint
    region = mask[box]
    writable = covered.copy()
    locked = list(locked)
    if locked:
        writable &= ~np.isin(region, locked)
    new = value[box] if isinstance(value, np.ndarray) else np.uint8(value)
    if isinstance(new, np.ndarray):
        changed = writable & (region != new)
        region[changed] = new[changed]
    else:
        changed = writable & (region != new)
        region[changed] = new
    return box if changed.any() else None


def pick_label(mask: np.ndarray, x: int, y: int) -> int | None:
    """The eyedropper: the class under (x, y), or None outside the mask."""
    h, w = mask.shape
    if 0 <= x < w and 0 <= y < h:
        return int(mask[y, x])
    return None


def pixel_counts(mask: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(mask.ravel(), minlength=num_classes)[:num_classes]


def changed_box(before: np.ndarray, after: np.ndarray) -> Box | None:
    """The bounding box of the pixels that differ (None when identical): one undo diff's extent."""
    diff = before != after
    if not diff.any():
        return None
    rows = np.flatnonzero(diff.any(axis=1))
    cols = np.flatnonzero(diff.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
