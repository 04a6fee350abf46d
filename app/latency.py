"""Where the time of one edit goes, from the change in the document to the new pixels on screen.

Every render the main window asks for carries a :class:`RenderTrace`. The window stamps when the
document changed and when the plan went to the worker; the worker when it ran the job; the bridge and
the editor how long registration, encodings, the generator and the conversion to an image took; the
result view when the new pixels were painted. The status bar's time tooltip shows the stages, and
``bench/editor_latency.py`` reads them to break the input-to-pixels latency down.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

NAN = math.nan


@dataclass
class RenderTrace:
    """``time.perf_counter()`` stamps of one render's way to the screen (NaN: not reached yet)."""

    changed: float  # the first document change since the previous render was asked for
    submitted: float  # the plan went to the worker
    started: float = NAN  # the worker began the job (after any render before it)
    finished: float = NAN
    delivered: float = NAN  # the result arrived on the GUI thread
    converted: float = NAN  # the result view holds the new picture (overlay and QImage made)
    painted: float = NAN  # the paint that put it on screen ended
    timings: dict[str, float] = field(default_factory=dict)  # register, encode, generate, to_image

    @property
    def total(self) -> float:
        """Seconds from the document change to the pixels on screen."""
        return self.painted - self.changed

    def stages(self) -> dict[str, float]:
        """Seconds per stage, in the order they happen; together they add up to :attr:`total`."""
        t = self.timings
        model = sum(t.get(k, 0.0) for k in ("register", "encode", "generate", "to_image"))
        return {
            "prepare": self.submitted - self.changed,  # content keys and the plan, on the GUI thread
            "queue": self.started - self.submitted,  # waiting for the render before it
            "register": t.get("register", 0.0),  # the arrays handed to the editor (resizes, hashes)
            "encode": t.get("encode", 0.0),  # style codes and mask embeddings not cached yet
            "generate": t.get("generate", 0.0),
            "to_image": t.get("to_image", 0.0),  # tensor → uint8 array (and the attention map)
            "worker_other": (self.finished - self.started) - model,
            "delivery": self.delivered - self.finished,  # worker thread → GUI thread
            "display": self.converted - self.delivered,  # overlay and QImage on the GUI thread
            "paint": self.painted - self.converted,  # waiting for the paint event and painting
        }

    def describe(self) -> str:
        parts = ", ".join(f"{k.replace('_', ' ')} {v * 1000:.0f}" for k, v in self.stages().items()
                          if not math.isnan(v) and v >= 0.0005)
        return f"edit → pixels {self.total * 1000:.0f} ms ({parts} ms)"


class RenderTraces:
    """The traces of the renders in flight, by the worker's stamps, from change to paint."""

    def __init__(self) -> None:
        self.last: RenderTrace | None = None  # the latest render whose pixels reached the screen
        self._changed_at: float | None = None  # first document change not yet handed to a render
        self._in_flight: dict[int, RenderTrace] = {}
        self._shown: RenderTrace | None = None  # converted, waiting for its paint

    def changed(self) -> None:
        if self._changed_at is None:
            self._changed_at = time.perf_counter()

    def submitted(self, stamp: int | None) -> None:
        """A render was handed to the worker under ``stamp`` (None: skipped, nothing changed)."""
        now = time.perf_counter()
        if stamp is not None:
            self._in_flight = {k: v for k, v in self._in_flight.items() if k > stamp - 8}  # stale ones never report
            self._in_flight[stamp] = RenderTrace(self._changed_at or now, now)
        self._changed_at = None

    def arrived(self, stamp: int, started: float, finished: float, timings: dict[str, float]) -> None:
        trace = self._in_flight.pop(stamp, None)
        if trace is not None:
            trace.started, trace.finished, trace.delivered = started, finished, time.perf_counter()
            trace.timings = dict(timings)
        self._shown = trace

    def converted(self) -> None:
        if self._shown is not None:
            self._shown.converted = time.perf_counter()

    def painted(self, when: float) -> RenderTrace | None:
        """The result view painted the latest result at ``when``: its finished trace, if it had one."""
        trace, self._shown = self._shown, None
        if trace is not None:
            trace.painted = when
            self.last = trace
        return trace
