"""Finding faces in a photo, cutting them out in CelebA-HQ framing, and putting results back.

Landmark convention (:class:`FaceBox`): five points in *image* order, as RetinaFace gives them:
the eye on the image's left, the eye on the image's right, the nose tip, the mouth corner on the
image's left, the one on the image's right. (CelebAMask-HQ's class names are the other way round:
its ``l_eye`` is the subject's left eye, on the image's right.)

Alignment is a similarity transform (rotation, uniform scale, shift) fitted to those five points and
:data:`TEMPLATE_512`; it keeps the 2×3 matrix so that :func:`paste_back` can warp an edited face,
at any square size, back into the full-resolution photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

import ca2sis.photo  # noqa: F401  (first cv2 import: drops its Qt plugin path, see there)

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

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def face_size(self) -> float:
        """The face's width in photo pixels as the aligned crop sees it (from the eye distance)."""
        eyes = float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))
        # In the template the skin region is about 1.9× the eye distance wide.
        return max(eyes * 1.9, min(self.width, self.height))


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


def blend_weights(size: int, face_mask: np.ndarray | None = None, feather: float | None = None) -> np.ndarray:
    """Soft ``size``² paste weights in [0, 1]: 1 inside, fading to 0 over about ``2 × feather`` px.

    ``face_mask`` (any square size; bool, 0–1 float or 0–255) limits the paste to a region, e.g. the
    face classes of the parsed mask; without it the whole square is pasted with soft edges.
    """
    feather = max(1.0, 0.04 * size if feather is None else feather)
    if face_mask is None:
        region = np.zeros((size, size), np.float32)
        region[1:-1, 1:-1] = 1.0
    else:
        region = np.asarray(face_mask, dtype=np.float32)
        if region.max(initial=0) > 1.0:
            region = region / 255.0
        if region.shape != (size, size):
            region = cv2.resize(region, (size, size), interpolation=cv2.INTER_LINEAR)
    # Erode first so the fade happens inside the region, then blur for the fade itself.
    r = int(round(feather))
    region = cv2.erode(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return np.clip(cv2.GaussianBlur(region, (0, 0), feather / 2), 0.0, 1.0)


def paste_back(
    photo: np.ndarray,
    aligned_result: np.ndarray,
    transform: AlignTransform,
    face_mask: np.ndarray | None = None,
    feather: float | None = None,
    colour_match: bool = True,
) -> np.ndarray:
    """The photo with ``aligned_result`` warped back into place, at the photo's full resolution.

    ``aligned_result`` may be any square size (a 256² model output for a 512² transform). The seam
    is feathered; with ``colour_match`` the result's mean colour along the seam is matched to the
    photo, so a generator's slight global colour drift does not show as a ring. Only the face's
    bounding box is processed, so a 50-megapixel photo costs little more than a small one.
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
    t = transform.for_size(res.shape[0])
    h, w = photo.shape[:2]
    roi = _bounds(t.to_photo(_square_corners(t.size)), w, h, pad=2)
    out = photo.copy()
    if roi.empty:
        return out
    m = t.matrix.copy()
    m[:, 2] += m[:, :2] @ np.array([roi.x0, roi.y0], np.float64)
    dsize = (roi.x1 - roi.x0, roi.y1 - roi.y0)
    flags = (cv2.INTER_CUBIC if t.scale < 1.0 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    warped = cv2.warpAffine(res, m, dsize, flags=flags, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    weights = cv2.warpAffine(
        blend_weights(t.size, face_mask, feather), m, dsize,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )[..., None]
    base = out[roi.slices].astype(np.float32)
    if colour_match:
        seam = (weights[..., 0] > 0.05) & (weights[..., 0] < 0.6)
        if seam.sum() > 50:
            # The median difference along the seam, capped: corrects drift, never repaints the face.
            shift = np.clip(np.median(base[seam] - warped[seam], axis=0), -40, 40)
            warped += shift
    blended = base * (1.0 - weights) + warped * weights
    out[roi.slices] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def detect_faces(photo: np.ndarray, detector: str = "auto") -> list[FaceBox]:
    """Faces in ``photo`` (H×W×3 uint8 RGB), largest first; an empty list when there are none.

    ``retinaface``: facexlib's RetinaFace (downloads its weights when missing and online).
    ``parsing``: the bundled parser localises faces itself (offline, ships with the install).
    ``auto``: RetinaFace when its weights are installed, else ``parsing``.
    """
    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"detect_faces takes an H×W×3 uint8 RGB photo, got {photo.shape} {photo.dtype}")
    if detector == "auto":
        from ca2sis.parsing.facexlib_models import weight_status

        detector = "retinaface" if weight_status("retinaface") == "ready" else "parsing"
    if detector == "retinaface":
        from ca2sis.parsing.retinaface import detect_retinaface

        faces = detect_retinaface(photo)
    elif detector == "parsing":
        from ca2sis.parsing.localize import localize_faces

        faces = localize_faces(photo)
    else:
        raise ValueError(f"unknown face detector {detector!r}; use auto, retinaface or parsing")
    return sorted(faces, key=lambda f: f.width * f.height, reverse=True)
