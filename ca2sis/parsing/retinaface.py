"""Face detection with facexlib's RetinaFace (ResNet-50), our own pre- and post-processing.

The photo is shrunk so its long side is at most ``max_side`` (RetinaFace finds faces from about
16 px up, so a 1600-px view still catches small faces in group photos), BGR mean-subtracted as the
network was trained, and the anchor offsets are decoded with facexlib's prior-box helpers.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ca2sis.align import FaceBox
from ca2sis.parsing.facexlib_models import load_network

_NETS: dict[str, torch.nn.Module] = {}
BGR_MEAN = (104.0, 117.0, 123.0)


def _network(device: str) -> torch.nn.Module:
    if device not in _NETS:
        _NETS[device] = load_network("retinaface", device)
    return _NETS[device]


def forget_network() -> None:
    """Drop the cached network (tests swap weight files)."""
    _NETS.clear()


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = scores.argsort()[::-1]
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        xx0 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy0 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx1 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy1 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        iou = inter / (area[i] + area[order[1:]] - inter + 1e-9)
        order = order[1:][iou <= threshold]
    return keep


@torch.no_grad()
def detect_retinaface(
    photo: np.ndarray,
    score_threshold: float = 0.8,
    nms_threshold: float = 0.4,
    max_side: int = 1600,
    max_faces: int = 50,
    device: str = "cpu",
) -> list[FaceBox]:
    from facexlib.detection.retinaface_utils import PriorBox, decode, decode_landm

    net = _network(device)
    h, w = photo.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    view = photo if scale == 1.0 else cv2.resize(
        photo, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    bgr = view[..., ::-1].astype(np.float32) - np.array(BGR_MEAN, np.float32)
    x = torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None].to(device)
    loc, conf, landms = net(x)
    vh, vw = view.shape[:2]
    priors = PriorBox(net.cfg, image_size=(vh, vw)).forward().to(device)
    var = net.cfg["variance"]
    boxes = decode(loc[0], priors, var).cpu().numpy() * np.array([vw, vh] * 2) / scale
    points = decode_landm(landms[0], priors, var).cpu().numpy() * np.array([vw, vh] * 5) / scale
    scores = conf[0, :, 1].cpu().numpy()
    keep = np.flatnonzero(scores > score_threshold)
    if keep.size == 0:
        return []
    boxes, points, scores = boxes[keep], points[keep], scores[keep]
    chosen = _nms(boxes, scores, nms_threshold)[:max_faces]
    return [
        FaceBox(tuple(boxes[i]), points[i].reshape(5, 2), float(scores[i]), "retinaface") for i in chosen
    ]
