"""The inference worker: newest request wins, stale results are dropped, errors come back as data."""

import threading
import time

import pytest

from app.worker import Worker

pytestmark = pytest.mark.gui


@pytest.fixture
def worker(qapp):
    w = Worker()
    yield w
    w.shutdown()


def test_stale_results_are_dropped_and_superseded_requests_never_run(worker):
    started = threading.Event()
    ran, delivered = [], []
    worker.finished.connect(lambda r: delivered.append(r.value))

    def job(name, delay=0.0):
        def fn():
            ran.append(name)
            started.set()
            time.sleep(delay)
            return name
        return fn

    worker.submit("A", job("A", 0.3))
    assert started.wait(2)  # A is running now
    worker.submit("B", job("B"))  # pending…
    worker.submit("C", job("C"))  # …and replaced by C before it ever runs
    assert worker.wait_until_idle(5)
    assert ran == ["A", "C"]
    assert delivered == ["C"]  # A finished after C was asked for: stale
    assert worker.dropped == 1


def test_an_unchanged_request_is_not_run_again(worker):
    calls = []
    assert worker.submit("same", lambda: calls.append(1)) is not None
    worker.wait_until_idle(5)
    assert worker.submit("same", lambda: calls.append(1)) is None
    worker.wait_until_idle(5)
    assert calls == [1]
    assert worker.submit("same", lambda: calls.append(1), force=True) is not None
    worker.wait_until_idle(5)
    assert calls == [1, 1]


def test_errors_come_back_as_data(worker):
    results = []
    worker.finished.connect(results.append)

    def broken():
        raise ValueError("the mask is empty")

    worker.submit("x", broken)
    worker.wait_until_idle(5)
    assert len(results) == 1 and not results[0].ok
    assert results[0].error == "the mask is empty" and isinstance(results[0].exception, ValueError)
    # a failed request may be retried without forcing
    assert worker.submit("x", lambda: 1) is not None


def test_channels_do_not_replace_each_other(worker):
    results = []
    worker.finished.connect(lambda r: results.append((r.channel, r.value)))
    gate = threading.Event()
    worker.submit("slow", lambda: gate.wait(2) and "slow", channel="render")
    worker.submit("batch", lambda: "batch", channel="batch")
    worker.submit("r2", lambda: "r2", channel="render")
    gate.set()
    worker.wait_until_idle(5)
    assert ("batch", "batch") in results and ("render", "r2") in results and ("render", "slow") not in results


def test_a_job_submitted_from_a_result_callback_is_delivered(worker, qtbot):
    results = []

    def on_result(r):
        results.append(r.value)
        if r.value == 1:
            worker.submit("second", lambda: 2, channel="other")

    worker.finished.connect(on_result)
    worker.submit("first", lambda: 1, channel="one")
    qtbot.waitUntil(lambda: results == [1, 2], timeout=3000)


def test_a_final_submission_interrupts_a_running_interruptible_job_and_a_live_one_does_not(worker):
    started, delivered = threading.Event(), []
    worker.finished.connect(lambda r: delivered.append(r.value))

    def preview(stop):
        def fn():
            started.set()
            if stop.wait(3):  # an interruptible job checks its event and gives up
                raise RuntimeError("interrupted")
            return "preview"
        return fn

    stop = threading.Event()
    worker.submit("preview 1", preview(stop), stop=stop)
    assert started.wait(2)
    worker.submit("preview 2", lambda: "preview 2")  # a newer live preview waits for the running one
    assert not stop.is_set()
    t = time.monotonic()
    worker.submit("final", lambda: "final", interrupt=True)  # the stroke ended: the running preview is stale
    assert stop.is_set()
    assert worker.wait_until_idle(5)
    assert delivered == ["final"] and time.monotonic() - t < 2.5


def test_jobs_without_a_stop_event_are_never_interrupted(worker):
    started, delivered = threading.Event(), []
    worker.finished.connect(lambda r: delivered.append(r.value))
    worker.submit("slider 1", lambda: started.set() or time.sleep(0.3) or "slider 1")
    assert started.wait(2)
    worker.submit("slider 2", lambda: "slider 2", interrupt=True)
    assert worker.wait_until_idle(5)
    assert delivered == ["slider 2"] and worker.dropped == 1


def test_start_and_end_of_each_job_are_stamped(worker):
    results = []
    worker.finished.connect(results.append)
    before = time.perf_counter()
    worker.submit("x", lambda: time.sleep(0.05))
    worker.wait_until_idle(5)
    r = results[0]
    assert before <= r.started < r.finished <= time.perf_counter() and r.finished - r.started >= 0.05


def test_a_final_submission_equal_to_the_pending_preview_still_interrupts_the_running_one(worker):
    started, delivered = threading.Event(), []
    worker.finished.connect(lambda r: delivered.append(r.value))
    stop = threading.Event()

    def preview():
        started.set()
        if stop.wait(3):
            raise RuntimeError("interrupted")
        return "preview 1"

    worker.submit("mask 1", preview, stop=stop)
    assert started.wait(2)
    worker.submit("mask 2", lambda: "mask 2", stop=threading.Event())  # the last live preview: the final mask
    assert worker.submit("mask 2", lambda: "final", interrupt=True) is None  # the stroke ends: nothing new to ask
    assert stop.is_set()  # but the stale preview still running is stopped
    assert worker.wait_until_idle(5) and delivered == ["mask 2"]
