"""Face parsing: an aligned portrait crop → a clean 19-class CelebAMask-HQ index mask.

Back ends, one interface (:class:`Parser`):

* ``bundled``: a small net trained on CelebAMask-HQ pairs by ``main.py train parser``; ships in
  ``models/parser/``, so it works offline on a fresh install (about 25 ms per face on a laptop CPU).
* ``parsenet`` / ``bisenet``: facexlib's networks, with weights fetched on first use into the user's
  models folder (see :mod:`ca2sis.parsing.facexlib_models`).

``load_parser("auto")`` picks the bundled one. Every back end's output goes through
:func:`ca2sis.parsing.cleanup.clean_mask`. Importing this package does not import torch.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol, runtime_checkable

import numpy as np

BACKENDS = ("bundled", "parsenet", "bisenet")
BUNDLED_FILE = "parser/ca2sis_face_parser_v4.safetensors"  # relative to a models folder
_CACHE: dict[tuple[str, str], Parser] = {}


@runtime_checkable
class Parser(Protocol):
    name: str

    def parse(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """H×W×3 uint8 aligned face → H×W uint8 CelebAMask-HQ ids, cleaned."""
        ...


def available_backends() -> dict[str, str]:
    """Back end → 'ready', or why it cannot run and what to install where. Never downloads."""
    from ca2sis.parsing.facexlib_models import weight_status
    from ca2sis.paths import find_weight_file

    status: dict[str, str] = {}
    status["bundled"] = (
        "ready"
        if find_weight_file(BUNDLED_FILE)
        else f"missing {BUNDLED_FILE} in the models folder; reinstall or run `main.py train parser`"
    )
    has_facexlib = importlib.util.find_spec("facexlib") is not None
    for name in ("parsenet", "bisenet"):
        status[name] = weight_status(name) if has_facexlib else "needs the facexlib package (pip install facexlib)"
    return status


def load_parser(name: str = "auto", device: str = "cpu", cache: bool = True) -> Parser:
    """A ready parser. ``auto`` is the bundled one (no download); facexlib ones may download."""
    if name == "auto":
        name = "bundled"
    if name not in BACKENDS:
        raise ValueError(f"unknown parser {name!r}; choose from auto, {', '.join(BACKENDS)}")
    from ca2sis.device import resolve_device

    device = str(resolve_device(device))  # a clear message for "tpu:7" before any network is built
    key = (name, device)
    if cache and key in _CACHE:
        return _CACHE[key]
    from .backends import BundledParser, FacexlibParser

    parser: Parser = BundledParser(device=device) if name == "bundled" else FacexlibParser(name, device)
    if cache:
        _CACHE[key] = parser
    return parser
