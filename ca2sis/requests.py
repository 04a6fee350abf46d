"""Plain descriptions of what to render, shared by the GUI and the inference facade.

Nothing here imports torch or Qt: the app builds a :class:`RenderRequest` from its document and hands
it to :meth:`ca2sis.editor.Editor.render` on a worker thread. Requests are frozen and hashable
(numpy arrays are referred to by content keys), so "is this the same request as last time?" is a
plain ``==``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

StyleKind = Literal["own", "reference", "random"]


def content_key(*arrays: np.ndarray) -> str:
    """A short, stable key for array contents (shape and dtype included)."""
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.data)
    return h.hexdigest()


@dataclass(frozen=True)
class StyleSource:
    """Where one class takes its style from.

    ``alpha`` blends from the face's own style (0) to this source (1); ``own`` ignores it.
    ``reference`` names a face registered with ``Editor.add_reference``; ``random`` draws from the
    mapping network with ``seed``.
    """

    kind: StyleKind = "own"
    reference: str | None = None
    seed: int = 0
    alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("own", "reference", "random"):
            raise ValueError(f"unknown style source kind {self.kind!r}")
        if self.kind == "reference" and not self.reference:
            raise ValueError("a reference style source needs the reference's key")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"style blend alpha must be in [0, 1], got {self.alpha}")


@dataclass(frozen=True)
class ShapeSource:
    """Morph one class's shape code toward a reference face's (alpha 0 = own mask, 1 = reference)."""

    reference: str
    alpha: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"shape interpolation alpha must be in [0, 1], got {self.alpha}")


@dataclass(frozen=True)
class RenderRequest:
    """Everything one rendering depends on.

    ``mask_key`` and ``own_key`` are content keys of arrays the caller registered with the editor
    (``Editor.add_mask`` / ``Editor.add_reference``), so the request stays small and hashable.
    ``own_key`` is the face whose styles are the default for every class (None: random styles seeded
    by ``seed``). ``attention_class`` asks for that class's cross-attention map as well. ``fit`` names a
    fit of the own face (``Editor.fit``): the face then renders with its tuned styles and generator; a
    request without it renders the same face with the base model.
    """

    mask_key: str
    own_key: str | None
    styles: tuple[tuple[int, StyleSource], ...] = ()
    shapes: tuple[tuple[int, ShapeSource], ...] = ()
    shape_all: ShapeSource | None = None  # whole-face shape interpolation, applied before per-class ones
    attention_class: int | None = None
    seed: int = 0
    fit: str | None = None

    @staticmethod
    def build(
        mask_key: str,
        own_key: str | None,
        styles: dict[int, StyleSource] | None = None,
        shapes: dict[int, ShapeSource] | None = None,
        **kwargs,
    ) -> RenderRequest:
        return RenderRequest(
            mask_key,
            own_key,
            tuple(sorted((styles or {}).items())),
            tuple(sorted((shapes or {}).items())),
            **kwargs,
        )


class RenderCancelled(Exception):
    """A render given up half-way because the caller no longer wants its result."""


@dataclass
class RenderResult:
    image: np.ndarray  # H×W×3 uint8
    seconds: float
    attention: np.ndarray | None = None  # H×W float32 in [0, 1] for ``attention_class``
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what was rendered differently from the request
