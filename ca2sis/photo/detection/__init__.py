"""Face detection: a photo → every face in it, with a box, a score and five landmarks.

One path: facexlib's RetinaFace (its own network, pre- and post-processing), run at a few scales
(:mod:`ca2sis.photo.detection.retinaface`). Two networks fit it:

* ``mobilenet``: RetinaFace MobileNet-0.25, bundled in ``models/detector/`` (1.8 MB), so detection
  works offline on a fresh install;
* ``resnet50``: RetinaFace ResNet-50 (104 MB), more accurate on hard faces, downloaded into the
  user's models folder on first use.

``auto`` takes ResNet-50 when the user has installed it, else the bundled network. ``parsing``, the
parser-based localiser of :mod:`ca2sis.parsing.localize`, is a last resort for installs that lost
the bundled detector: slower and easily fooled by textured backgrounds. The faces come back as
:class:`ca2sis.photo.align.FaceBox` (landmarks in image order), which :func:`ca2sis.photo.align.align_face`
turns into CelebA-HQ-framed crops. Importing this package does not import torch.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

DETECTORS = ("auto", "mobilenet", "resnet50", "parsing")
ALIASES = {"retinaface": "resnet50"}  # the name the ResNet-50 network had before MobileNet was bundled
BUNDLED_DETECTOR = "retinaface-mobilenet0.25"  # its models-manifest name


def resolve(detector: str) -> str:
    """The network ``detector`` means on this install (``auto`` looked up, aliases replaced)."""
    name = ALIASES.get(detector, detector)
    if name not in DETECTORS:
        raise ValueError(f"unknown face detector {detector!r}; use {', '.join(DETECTORS)}")
    if name != "auto":
        return name
    from ca2sis.parsing.facexlib_models import weight_status

    if weight_status("retinaface") == "ready":
        return "resnet50"
    if bundled_status() == "ready":
        return "mobilenet"
    log.warning("the bundled face detector is unusable (%s); falling back to the parser-based localiser, "
                "a last resort that is slow and misses faces: reinstall to restore it", bundled_status())
    return "parsing"


def bundled_status() -> str:
    """'ready', or why the bundled detector cannot be used."""
    from ca2sis import weights

    try:
        weights.verify(BUNDLED_DETECTOR, progress=False)
    except weights.ModelError as exc:
        return str(exc)
    return "ready"


def detect(photo: np.ndarray, detector: str = "auto", device: str = "cpu") -> list:
    """Every face in ``photo`` (H×W×3 uint8 RGB), largest first; see :func:`ca2sis.photo.align.detect_faces`."""
    name = resolve(detector)
    if name == "parsing":
        from ca2sis.parsing.localize import localize_faces

        faces = localize_faces(photo)
    else:
        from ca2sis.photo.detection.retinaface import load_detector

        faces = load_detector(name, device).detect(photo)
    return sorted(faces, key=lambda f: f.crop_side, reverse=True)
