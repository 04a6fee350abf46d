"""One background thread for everything slow (model loading, rendering, batch renders).

Rules, so that painting never waits for the model:

* newest wins: each channel ("render", "batch", ...) holds at most one pending job; a new submission
  replaces the pending one, which is never run;
* stale results are dropped: every submission gets a stamp, and a result whose stamp is not its
  channel's latest is discarded on arrival;
* unchanged work is not repeated: a submission whose key equals the channel's previous one is ignored
  (unless forced);
* errors come back as data (:attr:`JobResult.error`) instead of exceptions;
* results reach the GUI thread through the :attr:`Worker.finished` signal.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    channel: str
    key: Hashable
    stamp: int
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Job:
    channel: str
    key: Hashable
    fn: Callable[[], Any]
    stamp: int


class ProgressRelay(QObject):
    """Carries progress reports (stage, fraction) from the worker thread to the GUI thread."""

    progressed = Signal(str, float)


def _describe(exc: BaseException) -> str:
    # Our own errors (ValueError and friends) carry sentences meant for people; others get their type.
    if isinstance(exc, ValueError | OSError | KeyError) and str(exc):
        return str(exc).strip("'\"")
    return f"{type(exc).__name__}: {exc}"


class Worker(QObject):
    finished = Signal(object)  # JobResult, current results only
    busy_changed = Signal(bool)
    _done = Signal(object)  # worker thread → GUI thread
    _busy = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: OrderedDict[str, _Job] = OrderedDict()
        self._latest: dict[str, int] = {}
        self._last_key: dict[str, Hashable] = {}
        self._stamp = 0
        self._running: _Job | None = None
        self._undelivered = 0
        self._stop = False
        self.dropped = 0  # stale results discarded (for tests and the log)
        self.runs = 0
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._busy.connect(self.busy_changed, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._loop, name="ca2sis-worker", daemon=True)
        self._thread.start()

    def submit(self, key: Hashable, fn: Callable[[], Any], channel: str = "render", force: bool = False) -> int | None:
        """Queue ``fn`` on ``channel``; returns its stamp, or None when skipped as unchanged."""
        with self._cond:
            if not force and channel in self._last_key and self._last_key[channel] == key:
                return None
            self._stamp += 1
            self._latest[channel] = self._stamp
            self._last_key[channel] = key
            self._pending.pop(channel, None)  # the superseded job is dropped unrun
            self._pending[channel] = _Job(channel, key, fn, self._stamp)
            self._cond.notify_all()
            return self._stamp

    def cancel(self, channel: str) -> None:
        """Forget the channel's pending job and make any running one stale."""
        with self._cond:
            self._pending.pop(channel, None)
            self._stamp += 1
            self._latest[channel] = self._stamp
            self._last_key.pop(channel, None)

    def forget(self, channel: str = "render") -> None:
        """Let the next submission run even if unchanged (e.g. after the model changed)."""
        with self._cond:
            self._last_key.pop(channel, None)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._running is not None or bool(self._pending)

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is pending or running, then deliver the results (tests, screenshots)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                idle = self._running is None and not self._pending
                if not idle:
                    self._cond.wait(timeout=0.02)
            QCoreApplication.processEvents()
            with self._cond:
                if self._running is None and not self._pending and self._undelivered == 0:
                    return True
            if time.monotonic() > deadline:
                return False

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stop = True
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(timeout)

    # ---- worker thread ----------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                _, job = self._pending.popitem(last=False)  # oldest channel first: fair between channels
                self._running = job
            self._busy.emit(True)
            start = time.perf_counter()
            try:
                result = JobResult(job.channel, job.key, job.stamp, value=job.fn())
            except Exception as exc:  # errors are data: they end up in the status bar, not in a crash
                log.debug("job on %s failed:\n%s", job.channel, traceback.format_exc())
                result = JobResult(job.channel, job.key, job.stamp, error=_describe(exc), exception=exc)
            result.seconds = time.perf_counter() - start
            with self._cond:
                self.runs += 1
                self._running = None
                self._undelivered += 1
                if result.error is not None and self._last_key.get(job.channel) == job.key:
                    self._last_key.pop(job.channel, None)  # a failed job may be retried unchanged
                self._cond.notify_all()
            self._done.emit(result)
            if not self.busy:
                self._busy.emit(False)

    # ---- GUI thread -------------------------------------------------------------------------------
    @Slot(object)
    def _deliver(self, result: JobResult) -> None:
        with self._cond:
            self._undelivered -= 1
            stale = result.stamp != self._latest.get(result.channel)
        if stale:
            self.dropped += 1
            log.debug("dropped stale result %d on %s", result.stamp, result.channel)
            return
        self.finished.emit(result)
