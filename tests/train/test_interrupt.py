"""Ctrl-C during training: the first asks for a checkpoint at the next step boundary, the second stops at once."""

from __future__ import annotations

import os
import signal

import pytest

from ca2sis.train.loop import GracefulInterrupt


def test_first_interrupt_is_a_request_and_the_second_stops() -> None:
    before = signal.getsignal(signal.SIGINT)
    interrupt = GracefulInterrupt(enabled=True)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        interrupt.restore()
    assert signal.getsignal(signal.SIGINT) is before


def test_disabled_for_multi_process_runs() -> None:
    before = signal.getsignal(signal.SIGINT)
    interrupt = GracefulInterrupt(enabled=False)
    assert signal.getsignal(signal.SIGINT) is before
    interrupt.restore()
