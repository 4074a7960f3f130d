"""Running an in-process provider's ``execute`` under the runner's limits.

The provider runs in a worker thread; the runner's thread watches the run's
cancel event and the attempt's deadline, as it watches a command's process.
When either fires it sets ``attempt.cancel`` (the provider's cue to stop),
gives the provider ``kill_grace`` seconds to return, and reports the attempt
cancelled or timed out, whether or not the provider cooperated: a provider
stuck in a read cannot hold the run past its timeout. A provider that raises
is a crash, reported with its exception (redacted), never a traceback.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from tacroute.types import ErrorClass, Outcome

if TYPE_CHECKING:
    from tacroute.providers.execute import Attempt, Provider

__all__ = ["InProcessProvider"]

#: How often the watcher looks at the run's cancel event (seconds).
_POLL_S = 0.05


class InProcessProvider:
    """Wraps an in-process provider so the runner can treat it like a command."""

    def __init__(self, provider: Provider, run_cancel: threading.Event, kill_grace: float) -> None:
        self.provider = provider
        self.run_cancel = run_cancel
        self.kill_grace = kill_grace

    def execute(self, attempt: Attempt) -> Outcome:
        box: list[Outcome | BaseException] = []
        done = threading.Event()

        def work() -> None:
            try:
                box.append(self.provider.execute(attempt))
            except BaseException as exc:  # noqa: BLE001 - reported as the attempt's crash
                box.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=work, name=f"tacroute-attempt-{attempt.run_id}-{attempt.number}",
                                  daemon=True)
        worker.start()
        stopped: str | None = None
        try:
            while not done.wait(_wait(attempt)):
                if self.run_cancel.is_set():
                    stopped = "cancelled"
                elif attempt.deadline is not None and time.monotonic() >= attempt.deadline:
                    stopped = "timeout"
                if stopped is not None:
                    attempt.cancel.set()
                    done.wait(self.kill_grace)
                    break
        except BaseException:
            attempt.cancel.set()  # Ctrl-C in the runner's thread: tell the provider to stop too
            raise
        if done.is_set():
            worker.join()
        found = box[0] if box else None
        if isinstance(found, BaseException):
            found = Outcome(False, ErrorClass.CRASH, _crash_message(attempt, found))
        if stopped is None:
            assert found is not None
            return found
        base = found if found is not None else Outcome(False)
        if stopped == "timeout":
            return base._replace(success=False, error_class=ErrorClass.TIMEOUT,
                                 message=f"no result within {attempt.timeout:g} s: the attempt was stopped")
        return base._replace(success=False, error_class=ErrorClass.CANCELLED,
                             message="cancelled by the caller: the attempt was stopped")


def _wait(attempt: Attempt) -> float:
    left = attempt.remaining()
    return _POLL_S if left is None else min(_POLL_S, left)


def _crash_message(attempt: Attempt, exc: BaseException) -> str:
    text = f"the provider raised {type(exc).__name__}: {exc}"
    return attempt.redact(text) or text
