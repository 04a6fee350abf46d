"""One background thread for everything slow (model loading, rendering, batch renders).

Rules, so that painting never waits for the model:

* newest wins: each channel ("render", "batch", ...) holds at most one pending job; a new submission
  replaces the pending one, which is never run;
* stale results are dropped: every submission gets a stamp, and a result whose stamp is not its
  channel's latest is discarded on arrival;
* unchanged work is not repeated: a submission whose key equals the channel's previous one is ignored
  (unless forced);
* errors come back as data (:attr:`JobResult.error`) instead of exceptions;
* a job given a ``stop`` event can be interrupted: a later submission with ``interrupt=True`` sets the
  event of the channel's running job (a render checks it between layers and gives up);
* results reach the GUI thread through the :attr:`Worker.finished` signal. The worker thread only puts
  them in a queue and writes a byte to a socket pair; a socket notifier on the GUI thread wakes up at
  once and drains the queue: no Qt object is touched from the worker thread, and no timer polls.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, Signal

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
    started: float = 0.0  # time.perf_counter() when the worker began and finished the job
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Job:
    channel: str
    key: Hashable
    fn: Callable[[], Any]
    stamp: int
    stop: threading.Event | None = None  # set to interrupt the job (see Worker.submit)


class ProgressRelay:
    """The latest progress report (stage, fraction) of a job, written by the worker thread and read by
    a GUI timer: like results, progress never crosses threads through Qt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: tuple[str, float] | None = None

    def report(self, stage: str, fraction: float) -> None:
        with self._lock:
            self._latest = (stage, float(fraction))

    def take(self) -> tuple[str, float] | None:
        with self._lock:
            latest, self._latest = self._latest, None
        return latest


def _describe(exc: BaseException) -> str:
    # Our own errors (ValueError and friends) carry sentences meant for people; others get their type.
    if isinstance(exc, ValueError | OSError | KeyError) and str(exc):
        return str(exc).strip("'\"")
    return f"{type(exc).__name__}: {exc}"


class _JobQueue:
    """The state shared with the worker thread: a plain Python object, so that the thread never
    touches a Qt wrapper (PySide objects are not safe to mutate from a non-Qt thread)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending: OrderedDict[str, _Job] = OrderedDict()
        self.latest: dict[str, int] = {}
        self.last_key: dict[str, Hashable] = {}
        self.stamp = 0
        self.running: _Job | None = None
        self.undelivered = 0
        self.stop = False
        self.runs = 0
        self.results: queue.SimpleQueue[JobResult] = queue.SimpleQueue()
        self.wake_rx, self.wake_tx = socket.socketpair()  # the worker's "look at the queue" to the GUI thread
        self.wake_rx.setblocking(False)
        self.wake_tx.setblocking(False)

    def wake(self) -> None:
        # OSError: the buffer is full (a wake-up is pending anyway) or the pair is closed.
        with contextlib.suppress(OSError):
            self.wake_tx.send(b"\0")

    def busy(self) -> bool:
        with self.cond:
            return self.running is not None or bool(self.pending)

    def busy_channels(self) -> frozenset[str]:
        with self.cond:
            running = {self.running.channel} if self.running is not None else set()
            return frozenset(running | set(self.pending))

    def loop(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self.stop:
                    self.cond.wait()
                if self.stop:
                    return
                _, job = self.pending.popitem(last=False)  # oldest channel first: fair between channels
                self.running = job
            self.wake()  # the set of busy channels changed
            start = time.perf_counter()
            try:
                result = JobResult(job.channel, job.key, job.stamp, value=job.fn())
            except Exception as exc:  # errors are data: they end up in the status bar, not in a crash
                log.debug("job on %s failed:\n%s", job.channel, traceback.format_exc())
                result = JobResult(job.channel, job.key, job.stamp, error=_describe(exc), exception=exc)
            result.started, result.finished = start, time.perf_counter()
            result.seconds = result.finished - start
            with self.cond:
                self.runs += 1
                self.running = None
                self.undelivered += 1
                if result.error is not None and self.last_key.get(job.channel) == job.key:
                    self.last_key.pop(job.channel, None)  # a failed job may be retried unchanged
                self.results.put(result)
                self.cond.notify_all()
            self.wake()


class Worker(QObject):
    finished = Signal(object)  # JobResult, current results only
    busy_changed = Signal(bool)  # emitted whenever the set of busy channels changes; see is_busy()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._q = _JobQueue()
        self.dropped = 0  # stale results discarded (for tests and the log)
        self._was_busy: frozenset[str] = frozenset()
        self._notifier = QSocketNotifier(self._q.wake_rx.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_wake)
        self._thread = threading.Thread(target=self._q.loop, name="ca2sis-worker", daemon=True)
        self._thread.start()

    @property
    def runs(self) -> int:
        return self._q.runs

    def submit(self, key: Hashable, fn: Callable[[], Any], channel: str = "render", force: bool = False,
               stop: threading.Event | None = None, interrupt: bool = False) -> int | None:
        """Queue ``fn`` on ``channel``; returns its stamp, or None when skipped as unchanged.

        ``stop`` makes the job interruptible: ``fn`` is expected to give up soon after the event is set.
        ``interrupt`` sets it for the channel's running job, whose result would be stale anyway (a render of a
        brush stroke still in progress, once the stroke is finished).
        """
        q = self._q
        with q.cond:
            running = q.running
            if (interrupt and running is not None and running.channel == channel and running.stop is not None
                    and running.key != key):
                running.stop.set()  # (also when this key is already pending: the pending job stays)
            if not force and channel in q.last_key and q.last_key[channel] == key:
                return None
            q.stamp += 1
            q.latest[channel] = q.stamp
            q.last_key[channel] = key
            q.pending.pop(channel, None)  # the superseded job is dropped unrun
            q.pending[channel] = _Job(channel, key, fn, q.stamp, stop)
            stamp = q.stamp
            q.cond.notify_all()
        return stamp

    def cancel(self, channel: str) -> None:
        """Forget the channel's pending job and make any running one stale (interrupting it if it can be)."""
        q = self._q
        with q.cond:
            q.pending.pop(channel, None)
            if q.running is not None and q.running.channel == channel and q.running.stop is not None:
                q.running.stop.set()
            q.stamp += 1
            q.latest[channel] = q.stamp
            q.last_key.pop(channel, None)

    def forget(self, channel: str = "render") -> None:
        """Let the next submission run even if unchanged (e.g. after the model changed)."""
        with self._q.cond:
            self._q.last_key.pop(channel, None)

    @property
    def busy(self) -> bool:
        return self._q.busy()

    def is_busy(self, channel: str) -> bool:
        """Whether ``channel`` has a job pending or running (as of the last ``busy_changed``)."""
        return channel in self._was_busy

    def wait_until_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is pending or running, then deliver the results (tests, screenshots)."""
        q = self._q
        deadline = time.monotonic() + timeout
        while True:
            with q.cond:
                if q.running is not None or q.pending:
                    q.cond.wait(timeout=0.02)
            QCoreApplication.processEvents()
            self._drain()
            with q.cond:
                if q.running is None and not q.pending and q.undelivered == 0:
                    return True
            if time.monotonic() > deadline:
                return False

    def shutdown(self, timeout: float = 5.0) -> None:
        q = self._q
        with q.cond:
            q.stop = True
            q.pending.clear()
            if q.running is not None and q.running.stop is not None:
                q.running.stop.set()
            q.cond.notify_all()
        self._notifier.setEnabled(False)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            q.wake_rx.close()
            q.wake_tx.close()

    # ---- GUI thread -------------------------------------------------------------------------------
    def _on_wake(self) -> None:
        with contextlib.suppress(OSError):  # raised once nothing is left to read (or the pair is closed)
            while self._q.wake_rx.recv(4096):
                pass
        self._drain()

    def _drain(self) -> None:
        q = self._q
        channels = q.busy_channels()
        if channels != self._was_busy:
            self._was_busy = channels
            self.busy_changed.emit(bool(channels))
        while True:
            try:
                result = q.results.get_nowait()
            except queue.Empty:
                break
            with q.cond:
                q.undelivered -= 1
                stale = result.stamp != q.latest.get(result.channel)
            if stale:
                self.dropped += 1
                log.debug("dropped stale result %d on %s", result.stamp, result.channel)
            else:
                self.finished.emit(result)
