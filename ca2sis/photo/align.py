"""Finding faces in a photo, cutting them out in CelebA-HQ framing, and putting results back.

Landmark convention (:class:`FaceBox`): five points in *image* order, as RetinaFace gives them:
the eye on the image's left, the eye on the image's right, the nose tip, the mouth corner on the
image's left, the one on the image's right. (CelebAMask-HQ's class names are the other way round:
its ``l_eye`` is the subject's left eye, on the image's right.)

Alignment is a similarity transform (rotation, uniform scale, shift) fitted to those five points and
:data:`TEMPLATE_512`; it keeps the 2×3 matrix so that :func:`paste_back` can warp an edited face,
at any square size, back into the full-resolution photo. :func:`paste_edit` pastes only what belongs
to the person (:func:`paste_region`), so the generated background never replaces the photo's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

import ca2sis.photo.io  # noqa: F401  (first cv2 import: drops its Qt plugin path, see there)
from ca2sis.classes import CELEBAMASK_HQ, ClassTable

# Where the five points sit in a 512² CelebA-HQ crop. Measured on the 900 CelebAMask-HQ mini masks
# (aligned 512² crops): medians over the 865 faces that show both eyes, the nose and the mouth, of
# each eye region's centroid (eyes ordered by x), the centroid of the lowest quarter of the nose
# region (its tip), and the outermost pixels of mouth ∪ lips. Spread: eyes ±4 px, the rest ±9 px.
TEMPLATE_512 = np.array(
    [[193.1, 244.6], [318.4, 244.6], [255.5, 326.5], [202.2, 376.3], [309.7, 376.3]], dtype=np.float64
)
# The nose tip moves with head yaw more than eyes and mouth corners do: trust it less in the fit.
TEMPLATE_WEIGHTS = np.array([1.0, 1.0, 0.5, 1.0, 1.0])
TINY_FACE_PX = 64  # faces narrower than this (eye-to-eye based estimate) get a warning
# The five points' names, in :class:`FaceBox` order: left and right as seen in the image.
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


class NoFaceError(ValueError):
    """No face was found; the message suggests using the whole image instead."""


@dataclass
class FaceBox:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels
    landmarks: np.ndarray  # 5×2 float32, image order (see the module docstring)
    score: float = 1.0
    detector: str = ""

    def __post_init__(self) -> None:
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(5, 2)
        self.box = tuple(float(v) for v in self.box)  # type: ignore[assignment]

    def to_dict(self) -> dict:
        """Plain JSON-ready numbers in photo pixels: box, score, named landmarks, framed size."""
        return {
            "box": [round(v, 2) for v in self.box],
            "score": round(self.score, 4),
            "landmarks": {n: [round(float(x), 2), round(float(y), 2)]
                          for n, (x, y) in zip(LANDMARK_NAMES, self.landmarks, strict=True)},
            "crop_side": round(self.crop_side, 1),
            "detector": self.detector,
        }

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    @property
    def face_size(self) -> float:
        """The face's width in photo pixels as the aligned crop sees it (from the eye distance)."""
        # In the template the skin region is about 1.9× the eye distance wide.
        return max(self.eye_distance * 1.9, min(self.width, self.height))

    @property
    def crop_side(self) -> float:
        """The side, in photo pixels, of this face's CelebA-HQ-framed square (what the model sees)."""
        m = similarity_transform(self.landmarks, TEMPLATE_512, TEMPLATE_WEIGHTS)
        return 512.0 / max(float(np.sqrt(abs(np.linalg.det(m[:, :2])))), 1e-9)


@dataclass
class AlignTransform:
    matrix: np.ndarray  # 2×3, photo pixel → aligned pixel (for a ``size``² crop)
    size: int
    photo_size: tuple[int, int]  # (w, h)

    def for_size(self, size: int) -> AlignTransform:
        """The same framing for a crop of another side (e.g. 256² model output)."""
        s = size / self.size
        m = self.matrix * s
        m[:, 2] += 0.5 * s - 0.5  # pixel centres: x_new = s * (x_old + 0.5) - 0.5
        return AlignTransform(m, size, self.photo_size)

    def inverse(self) -> np.ndarray:
        """2×3, aligned pixel → photo pixel."""
        return cv2.invertAffineTransform(self.matrix)

    @property
    def scale(self) -> float:
        """Aligned pixels per photo pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def to_aligned(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return p @ self.matrix[:, :2].T + self.matrix[:, 2]

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        inv = self.inverse()
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return p @ inv[:, :2].T + inv[:, 2]


@dataclass
class _Roi:
    x0: int
    y0: int
    x1: int
    y1: int
    slices: tuple[slice, slice] = field(init=False)

    def __post_init__(self) -> None:
        self.slices = (slice(self.y0, self.y1), slice(self.x0, self.x1))

    @property
    def empty(self) -> bool:
        return self.x1 <= self.x0 or self.y1 <= self.y0


def similarity_transform(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted least-squares similarity (no reflection) mapping ``src`` points onto ``dst``: 2×3."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, np.float64)
    w = w / w.sum()
    mu_s, mu_d = w @ src, w @ dst
    s, d = src - mu_s, dst - mu_d
    cov = (d * w[:, None]).T @ s
    u, sig, vt = np.linalg.svd(cov)
    fix = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ fix @ vt
    var = (w * (s**2).sum(1)).sum()
    scale = (sig * np.diag(fix)).sum() / var if var > 0 else 1.0
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def template(size: int = 512) -> np.ndarray:
    return TEMPLATE_512 * (size / 512.0)


def face_transform(face: FaceBox, photo_size: tuple[int, int], size: int = 512) -> AlignTransform:
    m = similarity_transform(face.landmarks, template(size), TEMPLATE_WEIGHTS)
    return AlignTransform(m, size, photo_size)


def _bounds(points: np.ndarray, w: int, h: int, pad: int) -> _Roi:
    x0, y0 = np.floor(points.min(0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(0)).astype(int) + pad
    return _Roi(max(0, x0), max(0, y0), min(w, x1), min(h, y1))


def _square_corners(size: int) -> np.ndarray:
    return np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)


def warp_to_aligned(photo: np.ndarray, transform: AlignTransform, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """Cut the aligned square out of ``photo`` (any size; only the face's neighbourhood is touched).

    When the face is much larger than the crop, its neighbourhood is first shrunk with area
    averaging, so the bilinear warp does not alias (a 4000-px face in a camera photo would).
    """
    h, w = photo.shape[:2]
    m = transform.matrix.copy()
    roi = _bounds(transform.to_photo(_square_corners(transform.size)), w, h, pad=4)
    if roi.empty:  # the crop lies wholly outside the photo: replicate the nearest edge
        roi = _Roi(0, 0, w, h)
    src = photo[roi.slices]
    m[:, 2] += m[:, :2] @ np.array([roi.x0, roi.y0], np.float64)
    shrink = transform.scale
    if shrink < 0.5:
        f = min(1.0, shrink * 1.5)
        small = (max(1, round(src.shape[1] * f)), max(1, round(src.shape[0] * f)))
        fx, fy = small[0] / src.shape[1], small[1] / src.shape[0]
        src = cv2.resize(src, small, interpolation=cv2.INTER_AREA)
        # Resized pixel centres: x_small = (x + 0.5) * fx - 0.5.
        pre = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])
        m = m @ np.linalg.inv(pre)
    return cv2.warpAffine(
        np.ascontiguousarray(src), m[:2], (transform.size, transform.size), flags=cv2.INTER_LINEAR, borderMode=border
    )


def align_face(photo: np.ndarray, face: FaceBox, size: int = 512) -> tuple[np.ndarray, AlignTransform]:
    """The face cut out at ``size``² in CelebA-HQ framing, and the transform that did it."""
    transform = face_transform(face, (photo.shape[1], photo.shape[0]), size)
    return warp_to_aligned(photo, transform), transform


def _edge_ramp(size: int, width: float) -> np.ndarray:
    """``size``² weights rising smoothly from 0 at the square's edge to 1 at ``width`` px inside it."""
    d = np.minimum(np.arange(size) + 0.5, size - 0.5 - np.arange(size)).astype(np.float32)
    t = np.clip(np.minimum.outer(d, d) / max(width, 1.0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def blend_weights(size: int, face_mask: np.ndarray | None = None, feather: float | None = None) -> np.ndarray:
    """Soft ``size``² paste weights in [0, 1]: 1 inside, fading to 0 over about ``2 × feather`` px.

    ``face_mask`` (any square size; bool, 0–1 float or 0–255) limits the paste to a region, e.g. the
    person's classes (:func:`paste_region`); without it the whole square is pasted with soft edges.
    The fade lies inside the region, so nothing outside it changes; where the region reaches the
    square's edge (a neck, long hair) it also fades out over the outer 6% of the square, so the
    pasted face meets the photo's person gradually instead of along the crop's straight border.
    """
    if face_mask is None:
        feather = max(1.0, 0.04 * size if feather is None else feather)
        region = np.ones((size, size), np.float32)
    else:
        feather = max(1.0, 0.015 * size if feather is None else feather)  # a region's edge follows the face
        region = np.asarray(face_mask, dtype=np.float32)
        if region.max(initial=0) > 1.0:
            region = region / 255.0
        if region.shape != (size, size):
            region = cv2.resize(region, (size, size), interpolation=cv2.INTER_LINEAR)
    region = region.copy()
    region[[0, -1], :] = 0.0
    region[:, [0, -1]] = 0.0
    # Erode first so the fade happens inside the region, then blur for the fade itself.
    r = int(round(feather))
    region = cv2.erode(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    weights = np.clip(cv2.GaussianBlur(region, (0, 0), feather / 2), 0.0, 1.0)
    return weights if face_mask is None else weights * _edge_ramp(size, 0.06 * size)


def _to_photo(image: np.ndarray, transform: AlignTransform, roi: _Roi, flags: int, border: int) -> np.ndarray:
    """A square aligned image (any side) warped into the photo's ``roi``."""
    t = transform.for_size(image.shape[0])
    m = t.matrix.copy()
    m[:, 2] += m[:, :2] @ np.array([roi.x0, roi.y0], np.float64)
    return cv2.warpAffine(image, m, (roi.x1 - roi.x0, roi.y1 - roi.y0), flags=flags | cv2.WARP_INVERSE_MAP,
                          borderMode=border, borderValue=0)


def paste_back(
    photo: np.ndarray,
    aligned_result: np.ndarray,
    transform: AlignTransform,
    face_mask: np.ndarray | None = None,
    feather: float | None = None,
    colour_match: bool = True,
    match_mask: np.ndarray | None = None,
) -> np.ndarray:
    """The photo with ``aligned_result`` warped back into place, at the photo's full resolution.

    ``aligned_result`` may be any square size (a 256² model output for a 512² transform); so may
    ``face_mask``, the region to paste (see :func:`blend_weights`). The seam is feathered; with
    ``colour_match`` the result's median colour along the seam is matched to the photo's, so a
    generator's slight colour drift does not show as a ring. ``match_mask`` (a square of any side)
    limits that measurement to where the result is meant to keep the photo's colours: a restyled
    class must not be pulled back to its old colour. Only the face's bounding box is processed, so
    a 50-megapixel photo costs little more than a small one.
    """
    photo = np.asarray(photo)
    res = np.asarray(aligned_result)
    if res.ndim != 3 or res.shape[0] != res.shape[1] or res.shape[2] != 3:
        raise ValueError(f"the aligned result must be a square H×W×3 image, got {res.shape}")
    if (photo.shape[1], photo.shape[0]) != tuple(transform.photo_size):
        raise ValueError(
            f"this transform belongs to a {transform.photo_size[0]}×{transform.photo_size[1]} photo, "
            f"not {photo.shape[1]}×{photo.shape[0]}"
        )
    h, w = photo.shape[:2]
    t = transform.for_size(res.shape[0])
    roi = _bounds(t.to_photo(_square_corners(t.size)), w, h, pad=2)
    out = photo.copy()
    if roi.empty:
        return out
    smooth = cv2.INTER_CUBIC if t.scale < 1.0 else cv2.INTER_LINEAR
    warped = _to_photo(res, transform, roi, smooth, cv2.BORDER_REPLICATE).astype(np.float32)
    # Weights at the region's own resolution (a 512² mask stays sharp around a 128² result).
    size = res.shape[0] if face_mask is None else np.asarray(face_mask).shape[0]
    weights = _to_photo(blend_weights(size, face_mask, feather), transform, roi, cv2.INTER_LINEAR,
                        cv2.BORDER_CONSTANT)[..., None]
    base = out[roi.slices].astype(np.float32)
    if colour_match:
        seam = (weights[..., 0] > 0.05) & (weights[..., 0] < 0.6)
        if match_mask is not None:
            steady = np.asarray(match_mask, np.uint8)
            seam &= _to_photo(steady, transform, roi, cv2.INTER_NEAREST, cv2.BORDER_CONSTANT) > 0
        if seam.sum() > 50:
            # The median difference along the seam, capped: corrects drift, never repaints the face.
            shift = np.clip(np.median(base[seam] - warped[seam], axis=0), -40, 40)
            warped += shift
    blended = base * (1.0 - weights) + warped * weights
    out[roi.slices] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def paste_region(
    original: np.ndarray,
    edited: np.ndarray,
    classes: ClassTable = CELEBAMASK_HQ,
    restyled: Iterable[int] = (),
    reshaped: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(region, steady): where an edited face may replace the photo, and where it should keep its colours.

    ``original`` is the face's mask as parsed, ``edited`` the mask it was rendered from (same size).
    The region is what belongs to the person in either mask (the classes of the face, hair, neck and
    accessory groups; for a label set without groups every class but the background), every pixel
    whose class the user changed, and ``reshaped`` (where a shape morph may move a class); the
    whole square when the background itself was given another style (``restyled`` holds its id).
    ``steady``: region pixels whose class is unchanged and not restyled, for colour matching.
    """
    original, edited = np.asarray(original), np.asarray(edited)
    if original.shape != edited.shape:
        raise ValueError(f"the original mask is {original.shape} but the edited one {edited.shape}")
    person = classes.person()
    changed = original != edited
    region = np.isin(original, person) | np.isin(edited, person) | changed
    if reshaped is not None:
        region |= np.asarray(reshaped, bool)
    restyled = set(restyled)
    if classes.background is not None and classes.background in restyled:
        region[:] = True
    steady = region & ~changed & ~np.isin(edited, list(restyled))
    if reshaped is not None:
        steady &= ~np.asarray(reshaped, bool)
    return region, steady


def paste_edit(
    photo: np.ndarray,
    result: np.ndarray,
    transform: AlignTransform,
    original: np.ndarray,
    edited: np.ndarray,
    classes: ClassTable = CELEBAMASK_HQ,
    restyled: Iterable[int] = (),
    reshaped: np.ndarray | None = None,
) -> np.ndarray:
    """An edited face pasted into its photo without a seam: only the :func:`paste_region` of the
    edit, feathered, its edge colour-matched where the edit kept the colours; the photo's own
    background stays unless the background class was restyled."""
    region, steady = paste_region(original, edited, classes, restyled, reshaped)
    return paste_back(photo, result, transform, region, match_mask=steady)


def detect_faces(photo: np.ndarray, detector: str = "auto", device: str = "cpu") -> list[FaceBox]:
    """Faces in ``photo`` (H×W×3 uint8 RGB), largest first; an empty list when there are none.

    ``auto``: RetinaFace, the bundled MobileNet network (or the ResNet-50 one when installed);
    ``mobilenet`` / ``resnet50`` name the network; ``parsing`` is the parser-based last resort.
    See :mod:`ca2sis.photo.detection`.
    """
    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"detect_faces takes an H×W×3 uint8 RGB photo, got {photo.shape} {photo.dtype}")
    from ca2sis.photo.detection import detect

    return detect(photo, detector, device)
