"""facexlib's RetinaFace at several scales, with weights loaded strictly and without unpickling.

The network, its input normalisation (BGR, mean-subtracted), anchor decoding and NMS are facexlib's
own (``RetinaFace.detect_faces``); what this module adds is the choice of scales, because RetinaFace
sees faces well only from about 16 to about 400 pixels:

1. the main pass looks at the photo shrunk to at most ``work_side`` pixels on its long side;
2. a coarse pass at a third of that scale catches faces too large for the main pass (a close-up
   selfie); each pass keeps only the faces of the sizes it sees well, and NMS merges the two;
3. when neither finds a face, a pass at twice the main scale (up to ``max_side``) looks for faces
   too small for it.

Every detection is then a candidate, confirmed or dropped: it is cut out upright at the size where
the network places landmarks best (eyes about 56 px apart) and detected again there and in its
mirror image. A face scores high both times, a pattern in a texture rarely does; the two sets of
points are averaged and mapped back, which halves the effect of rotation and of the network's
left/right bias on the eye points.

Faces cut by the photo's edge are found as they are: RetinaFace was trained on crops that cut faces.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ca2sis.photo.align import FaceBox, similarity_transform, template

log = logging.getLogger(__name__)

NETWORKS = {"mobilenet": "mobile0.25", "resnet50": "resnet50"}  # our name → facexlib's network_name


@dataclass(frozen=True)
class DetectionConfig:
    candidate_threshold: float = 0.5  # RetinaFace's face probability for a first look
    score_threshold: float = 0.85  # a candidate is a face when it scores this upright (see `confirm`)
    nms_threshold: float = 0.4  # IoU above which two boxes are one face
    work_side: int = 1280  # the main pass sees the photo at most this long (about 0.4 s on 2 CPU cores)
    max_face: int = 400  # faces larger than this (view pixels) are left to the coarse pass
    coarse: float = 1 / 3  # the coarse pass's scale relative to the main one
    fine: float = 2.0  # the small-face pass's scale relative to the main one, when nothing was found
    max_side: int = 2560  # ...and its largest long side
    max_faces: int = 50
    refine_scale: float = 0.45  # the confirming crop's face size relative to the 512² framing


def build_network(network: str, device: str = "cpu") -> torch.nn.Module:
    """facexlib's RetinaFace with random weights; ``network`` is one of :data:`NETWORKS`."""
    from facexlib.detection.retinaface import RetinaFace

    with warnings.catch_warnings():  # its ResNet is built with torchvision's deprecated `pretrained=`
        warnings.simplefilter("ignore", UserWarning)
        # The device is given here: facexlib keeps its mean tensor and inputs on `device`.
        return RetinaFace(network_name=NETWORKS[network], half=False, phase="test", device=device)


def weights_file(network: str) -> Path:
    """The installed weights of ``network`` (bundled MobileNet, checksum verified; user ResNet-50)."""
    if network == "mobilenet":
        from ca2sis import weights
        from ca2sis.photo.detection import BUNDLED_DETECTOR

        return weights.verify(BUNDLED_DETECTOR, progress=False)
    from ca2sis.parsing.facexlib_models import weight_path

    return weight_path("retinaface")


def load_network(network: str, device: str = "cpu", path: Path | None = None) -> torch.nn.Module:
    """RetinaFace with its weights, read with ``weights_only=True`` and matched key for key."""
    from ca2sis.parsing.facexlib_models import load_state

    path = Path(path) if path is not None else weights_file(network)
    net = build_network(network, device)
    try:
        net.load_state_dict(load_state(path), strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: does not fit facexlib's RetinaFace {network} ({str(exc)[:300]})") from exc
    return net.eval().to(device)


class RetinaFaceDetector:
    """Finds faces in RGB photos of any size; see the module docstring for the scales."""

    def __init__(self, net: torch.nn.Module, name: str, config: DetectionConfig | None = None) -> None:
        self.net = net
        self.name = name
        self.config = config or DetectionConfig()

    @torch.no_grad()
    def _pass(self, photo: np.ndarray, scale: float, threshold: float) -> np.ndarray:
        """N×15 rows (box, score, 5 landmarks) in photo pixels, from one view at ``scale``."""
        h, w = photo.shape[:2]
        view = photo
        if scale != 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            view = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        bgr = np.ascontiguousarray(view[..., ::-1])  # facexlib takes OpenCV's channel order
        rows = self.net.detect_faces(bgr, threshold, self.config.nms_threshold, True)
        rows = np.asarray(rows, np.float64).reshape(-1, 15)
        sx, sy = view.shape[1] / w, view.shape[0] / h
        rows[:, [0, 2, 5, 7, 9, 11, 13]] /= sx
        rows[:, [1, 3, 6, 8, 10, 12, 14]] /= sy
        return rows

    def scales(self, photo_size: tuple[int, int]) -> tuple[float, float | None, float | None]:
        """(main, coarse or None, fine or None) scales for a photo of ``photo_size`` (w, h)."""
        c = self.config
        long, short = max(photo_size), min(photo_size)
        main = min(1.0, c.work_side / long)
        # A face larger than max_face in the main view needs a photo at least that large.
        coarse = main * c.coarse if short * main > c.max_face else None
        fine = min(main * c.fine, c.max_side / long)
        return main, coarse, (fine if fine > main * 1.2 else None)

    def candidates(self, photo: np.ndarray, main: float, coarse: float | None) -> np.ndarray:
        """The main (and coarse) pass's detections above the candidate threshold, merged by NMS."""
        c = self.config
        rows = self._pass(photo, main, c.candidate_threshold)
        if coarse is not None:
            # Each pass keeps the sizes it sees well; the size ranges overlap by a quarter for NMS.
            size = np.maximum(rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]) * main
            big = self._pass(photo, coarse, c.candidate_threshold)
            big_size = np.maximum(big[:, 2] - big[:, 0], big[:, 3] - big[:, 1]) * main
            rows = np.concatenate([rows[size <= c.max_face], big[big_size > 0.75 * c.max_face]])
        return rows[_nms(rows, c.nms_threshold)]

    def detect(self, photo: np.ndarray) -> list[FaceBox]:
        """Faces in an H×W×3 uint8 RGB photo, most confident first."""
        photo = np.asarray(photo)
        h, w = photo.shape[:2]
        main, coarse, fine = self.scales((w, h))
        faces = self._confirmed(photo, self.candidates(photo, main, coarse))
        if not faces and fine is not None:
            log.info("no face at %.2f×; looking again at %.2f× for small faces", main, fine)
            faces = self._confirmed(photo, self._pass(photo, fine, self.config.candidate_threshold))
        return faces

    def _confirmed(self, photo: np.ndarray, rows: np.ndarray) -> list[FaceBox]:
        size = photo.shape[1::-1]
        candidates = [_face_box(r, size, self.name) for r in rows[: 2 * self.config.max_faces]]
        kept: list[FaceBox] = []
        for face in sorted((f for f in self.confirm(photo, candidates) if f is not None), key=lambda f: -f.score):
            # Two candidates of one face (from both passes) converge on the same eyes once confirmed.
            eyes = face.landmarks[:2].mean(0)
            if all(np.linalg.norm(eyes - k.landmarks[:2].mean(0)) > 0.3 * k.eye_distance for k in kept):
                kept.append(face)
        return kept[: self.config.max_faces]

    def confirm(self, photo: np.ndarray, faces: list[FaceBox]) -> list[FaceBox | None]:
        """Each face measured again upright at the network's best size, and in its mirror image: the
        landmarks are the two measurements' average and the score their mean; None where that score
        is under ``score_threshold`` (the candidate was a pattern, not a face). One batch for all."""
        if not faces:
            return []
        side = 512 * self.config.refine_scale
        crop = int(round(side * 1.25))  # some context around the framing helps the network
        frame = template(side) + (crop - side) / 2
        mats = [similarity_transform(f.landmarks, frame) for f in faces]
        views = [cv2.warpAffine(photo, m, (crop, crop), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
                 for m in mats]
        found = self._batch(np.stack(views + [v[:, ::-1] for v in views]))
        eyes = frame[:2].mean(0)
        out: list[FaceBox | None] = []
        for i, (face, m) in enumerate(zip(faces, mats, strict=True)):
            upright, score = _central(found[i], eyes, side)
            mirrored, mirror_score = _central(found[len(faces) + i], np.array([crop - 1 - eyes[0], eyes[1]]), side)
            if upright is None or mirrored is None or (score + mirror_score) / 2 < self.config.score_threshold:
                out.append(None)
                continue
            # Back to the unmirrored crop: x flips, and the image-left eye is the mirror's right one.
            mirrored[:, 0] = crop - 1 - mirrored[:, 0]
            points = (upright + mirrored[[1, 0, 2, 4, 3]]) / 2
            inverse = cv2.invertAffineTransform(m)
            out.append(FaceBox(face.box, points @ inverse[:, :2].T + inverse[:, 2], (score + mirror_score) / 2,
                               face.detector))
        return out

    @torch.no_grad()
    def _batch(self, frames: np.ndarray, chunk: int = 16) -> list[np.ndarray]:
        """N×15 rows for each of a stack of equal-sized RGB frames, through facexlib's batched path."""
        rows: list[np.ndarray] = []
        for start in range(0, len(frames), chunk):
            bgr = torch.from_numpy(np.ascontiguousarray(frames[start : start + chunk, ..., ::-1])).float()
            boxes, points = self.net.batched_detect_faces(bgr, 0.05, self.config.nms_threshold, True)
            rows += [np.concatenate([np.reshape(b, (-1, 5)), np.reshape(p, (-1, 10))], 1).astype(np.float64)
                     for b, p in zip(boxes, points, strict=True)]
        return rows


def _central(rows: np.ndarray, eyes: np.ndarray, side: float) -> tuple[np.ndarray | None, float]:
    """Landmarks and score of the detection whose eyes are nearest ``eyes``, if close enough."""
    if len(rows) == 0:
        return None, 0.0
    points = rows[:, 5:15].reshape(-1, 5, 2)
    dist = np.linalg.norm(points[:, :2].mean(1) - eyes, axis=1)
    best = int(dist.argmin())
    return (points[best].copy(), float(rows[best, 4])) if dist[best] < 0.15 * side else (None, 0.0)


def _nms(rows: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the rows kept by non-maximum suppression, highest score first."""
    if len(rows) == 0:
        return np.zeros(0, int)
    from torchvision.ops import nms

    keep = nms(torch.from_numpy(rows[:, :4]).float(), torch.from_numpy(rows[:, 4]).float(), threshold)
    return keep.numpy()


def _face_box(row: np.ndarray, photo_size: tuple[int, int], name: str) -> FaceBox:
    w, h = photo_size
    box = (max(0.0, row[0]), max(0.0, row[1]), min(float(w), row[2]), min(float(h), row[3]))
    return FaceBox(box, row[5:15].reshape(5, 2), float(row[4]), f"retinaface-{name}")


_DETECTORS: dict[tuple[str, str], RetinaFaceDetector] = {}


def load_detector(network: str = "mobilenet", device: str = "cpu") -> RetinaFaceDetector:
    """A ready detector (cached per network and device)."""
    if network not in NETWORKS:
        raise ValueError(f"unknown RetinaFace network {network!r}; use {', '.join(NETWORKS)}")
    key = (network, str(device))
    if key not in _DETECTORS:
        _DETECTORS[key] = RetinaFaceDetector(load_network(network, device), network)
    return _DETECTORS[key]


def forget_detectors() -> None:
    """Drop the cached networks (tests swap weight files)."""
    _DETECTORS.clear()
