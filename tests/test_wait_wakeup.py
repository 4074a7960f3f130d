"""A run waiting for a slot wakes when a run of the same process gives one back, or is cancelled."""

from __future__ import annotations

import threading

from tacroute.runner.wait import Waiter, slot_freed


def _pausing(waiter: Waiter) -> tuple[threading.Thread, list[bool]]:
    out: list[bool] = []
    waiter._delay = 1000.0  # a backoff step far longer than any bound below
    thread = threading.Thread(target=lambda: out.append(waiter._pause()))
    thread.start()
    return thread, out


def test_a_freed_slot_ends_the_backoff_step_at_once() -> None:
    waiter = Waiter(3600, threading.Event())
    thread, out = _pausing(waiter)
    while thread.is_alive() and not out:
        slot_freed()  # repeated: the thread may not be waiting yet the first time
        thread.join(0.05)
        if not thread.is_alive():
            break
    thread.join(60)
    assert not thread.is_alive() and out == [True]
    assert waiter._delay < 1  # it looks again soon after, not a long backoff later


def test_cancel_ends_the_wait() -> None:
    cancel = threading.Event()
    waiter = Waiter(3600, cancel)
    thread, out = _pausing(waiter)
    cancel.set()
    thread.join(60)
    assert not thread.is_alive() and out == [False]
