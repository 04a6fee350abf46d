"""Stand-ins for the model, so GUI tests run in milliseconds and count what the app asks for."""

from __future__ import annotations

import threading
import time

import numpy as np

from ca2sis.classes import CELEBAMASK_HQ
from ca2sis.requests import RenderCancelled, RenderRequest, RenderResult, content_key


class FakeEditor:
    """Renders the colourised mask (after an optional sleep); records every request it renders."""

    classes = CELEBAMASK_HQ
    resolution = 64
    device_label = "Fake · test"
    model_name = "fake"
    has_mapping = True

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.masks: dict[str, np.ndarray] = {}
        self.faces: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.requests: list[RenderRequest] = []
        self.cancelled = 0  # renders given up half-way
        self.faces_added = 0
        self.lock = threading.Lock()

    def add_face(self, image: np.ndarray, mask: np.ndarray) -> str:
        self.faces_added += 1
        key = "face-" + content_key(image, mask)
        self.faces[key] = (image, mask)
        return key

    def add_mask(self, mask: np.ndarray) -> str:
        key = "mask-" + content_key(mask)
        self.masks[key] = mask.copy()
        return key

    def render(self, request: RenderRequest, *, cancelled=None) -> RenderResult:
        with self.lock:
            self.requests.append(request)
        end = time.monotonic() + self.delay
        while time.monotonic() < end:  # like the real editor: a cancelled render stops early
            if cancelled is not None and cancelled():
                self.cancelled += 1
                raise RenderCancelled("cancelled")
            time.sleep(0.005)
        if self.fail:
            raise ValueError("the fake model refuses")
        if request.own_key is not None and request.own_key not in self.faces:
            raise KeyError(f"no face registered under {request.own_key!r}")  # as the editor says after evicting it
        image = self.classes.colorize(self.masks[request.mask_key])
        # Styles brighten the picture by their blend weights, so different settings look different.
        shift = int(sum(s.alpha for _, s in request.styles if s.kind != "own") * 40) % 200
        image = np.clip(image.astype(np.int16) + shift, 0, 255).astype(np.uint8)
        attention = None
        if request.attention_class is not None:
            attention = (self.masks[request.mask_key] == request.attention_class).astype(np.float32)
        return RenderResult(image, self.delay, attention)


def face_pair(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1  # skin
    mask[: size // 6] = 13  # hair
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    return image, mask
