"""From a :class:`~app.document.Document` to :meth:`Editor.render`, across the worker thread.

The GUI thread builds a :class:`RenderPlan` quickly: a :class:`RenderRequest` whose keys are the
document's own content keys, plus the arrays those keys stand for. Two plans compare equal exactly
when their requests do, so the worker can skip unchanged work. On the worker thread the
:class:`RenderBridge` registers the arrays with the editor (which caches style codes and mask embeddings per key) and
translates the document keys into the editor's. A fitted face's plan carries its fit (the bytes the
project stores); the bridge registers it with the editor, and renders without it (saying why) when
the loaded model refuses it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.document import Document
from app.fit_record import FitRecord
from ca2sis.requests import RenderRequest, RenderResult, ShapeSource, StyleSource, content_key


@dataclass(frozen=True, eq=False)
class RenderPlan:
    request: RenderRequest
    faces: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # style sources
    masks: dict[str, np.ndarray] = field(default_factory=dict)  # shape sources and the edited mask
    fit: FitRecord | None = None  # the own face's fit (request.fit is its key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RenderPlan) and other.request == self.request

    def __hash__(self) -> int:
        return hash(self.request)


def plan_for(
    doc: Document,
    styles: dict[int, StyleSource] | None = None,
    shapes: dict[int, ShapeSource] | None = None,
    shape_all: ShapeSource | None | str = "document",
    attention: bool = True,
) -> RenderPlan:
    """The plan for the document as it is (or with ``styles``/``shapes`` overriding some classes)."""
    mask = doc.mask.copy()  # the worker must not see later brush strokes
    mask_key = content_key(mask)
    masks = {mask_key: mask}
    faces: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    own_key = None
    fit = None
    if doc.face is not None:
        own_key = _own_key(doc.face, doc.original_mask)
        faces[own_key] = (doc.face, doc.original_mask)
        fit = doc.fit
    merged_styles = {**doc.styles, **(styles or {})}
    for source in merged_styles.values():
        if source.kind == "reference" and source.reference in doc.references:
            ref = doc.references[source.reference]
            faces[ref.key] = (ref.image, ref.mask)
    merged_shapes = {**doc.shapes, **(shapes or {})}
    whole = doc.shape_all if shape_all == "document" else shape_all
    for source in [*merged_shapes.values(), whole]:
        if source is not None and source.reference in doc.references:
            masks[source.reference] = doc.references[source.reference].mask
    request = RenderRequest.build(
        mask_key,
        own_key,
        {c: s for c, s in merged_styles.items() if s.kind != "own"},
        merged_shapes,
        shape_all=whole,
        attention_class=doc.attention_class if attention else None,
        seed=doc.seed,
        fit=None if fit is None else fit.key,
    )
    return RenderPlan(request, faces, masks, fit)


_own: list[tuple[np.ndarray, np.ndarray, str]] = []  # the last face and mask hashed, and their key


def _own_key(face: np.ndarray, mask: np.ndarray) -> str:
    # The face and its opened mask stay the same arrays for a document's whole life (loading a face
    # replaces them, nothing writes into them): hashing their 1 MB once is enough, not once per render.
    if _own and _own[0][0] is face and _own[0][1] is mask:
        return _own[0][2]
    key = content_key(face, mask)
    _own[:] = [(face, mask, key)]
    return key


class RenderBridge:
    """Runs plans on an editor; lives on the worker thread (all editor calls happen there)."""

    def __init__(self, editor: Any) -> None:
        self.editor = editor
        self._lock = threading.Lock()
        self._faces: dict[str, str] = {}  # document key → the editor's key, for faces registered before
        self._refused: dict[str, str] = {}  # fit key → why this editor cannot use it

    def render(self, plan: RenderPlan, cancelled: Callable[[], bool] | None = None) -> RenderResult:
        """Render ``plan``; ``cancelled`` lets the editor give up half-way (RenderCancelled)."""
        extra = {} if cancelled is None else {"cancelled": cancelled}
        with self._lock:
            t = time.perf_counter()
            warnings: list[str] = []
            request = self._translate(plan, warnings)
            registered = time.perf_counter() - t
            try:
                result = self.editor.render(request, **extra)
            except KeyError:  # the editor's bounded caches evicted a face: register everything again
                self._faces.clear()
                warnings.clear()
                request = self._translate(plan, warnings)
                result = self.editor.render(request, **extra)
        result.timings["register"] = registered
        result.warnings.extend(warnings)
        return result

    def fit(self, plan: RenderPlan, steps: int | None = None, progress: Callable[[str, float], None] | None = None,
            cancel: Callable[[], bool] | None = None) -> FitRecord:
        """Fit the plan's own face (on the worker thread); raises ``FitCancelled`` when cancelled."""
        if plan.request.own_key is None:
            raise ValueError("there is no photo to fit: open a portrait first (a painted mask has none)")
        with self._lock:
            self._faces.pop(plan.request.own_key, None)  # registered afresh: the editor may have evicted it
            face = self._face(plan.request.own_key, plan)
            result = self.editor.fit(face, steps=steps, progress=progress, cancel=cancel)
            return FitRecord.from_bytes(self.editor.export_fit(result.key))

    def _register_fit(self, fit: FitRecord) -> str | None:
        if fit.key in self._refused:
            return self._refused[fit.key]
        try:
            self.editor.fit_state(fit.key)
        except KeyError:
            try:
                self.editor.add_fit(fit.data)
            except ValueError as exc:  # another model's fit, or one that does not fit this generator
                self._refused[fit.key] = str(exc)
                return str(exc)
        return None

    # A face is registered once (a resize and a hash of 1 MB each time would cost milliseconds per
    # render); masks change with every stroke and are registered each time (a cheap nearest resize).
    def _face(self, key: str, plan: RenderPlan) -> str:
        if key not in self._faces:
            image, mask = plan.faces[key]
            if len(self._faces) > 256:
                self._faces.clear()
            self._faces[key] = self.editor.add_face(image, mask)
        return self._faces[key]

    def _mask(self, key: str, plan: RenderPlan) -> str:
        return self.editor.add_mask(plan.masks[key])

    def _translate(self, plan: RenderPlan, warnings: list[str]) -> RenderRequest:
        req = plan.request
        fit = req.fit
        if plan.fit is not None:
            problem = self._register_fit(plan.fit)
            if problem is not None:
                warnings.append(f"rendered without the face's fit: {problem}")
                fit = None
        styles = tuple(
            (c, dataclasses.replace(s, reference=self._face(s.reference, plan)) if s.kind == "reference" else s)
            for c, s in req.styles
        )
        shapes = tuple((c, dataclasses.replace(s, reference=self._mask(s.reference, plan))) for c, s in req.shapes)
        shape_all = req.shape_all
        if shape_all is not None:
            shape_all = dataclasses.replace(shape_all, reference=self._mask(shape_all.reference, plan))
        return dataclasses.replace(
            req,
            mask_key=self._mask(req.mask_key, plan),
            own_key=None if req.own_key is None else self._face(req.own_key, plan),
            styles=styles,
            shapes=shapes,
            shape_all=shape_all,
            fit=fit,
        )
