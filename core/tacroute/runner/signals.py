"""Stop signals for a command that runs a task: SIGINT, SIGTERM, SIGHUP cancel the run.

Shared by ``tacroute run`` and ``tacroute-claude`` (kept free of click, which
``tacroute-claude`` does not load).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from tacroute.types.run import RunResult

__all__ = ["StopSignals"]


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP set the run's ``cancel`` event (the first one wins).

    The run itself goes to a worker thread while the main thread, where Python
    runs signal handlers, only waits for it: the handler's ``Event.set`` can
    then never wait for a lock the interrupted code holds (``Event.wait`` in
    the retry-after wait takes the event's lock).
    """

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.cancel = threading.Event()
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Take over the signals (only the main thread can; elsewhere nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name)
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        """Put back the handlers found (matters when the command runs inside a longer process)."""
        for number, handler in self._previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is None:  # a second signal changes nothing: the stop is under way
            self.signum = signum
            self.cancel.set()

    def run(self, fn: Callable[[], RunResult]) -> RunResult:
        """``fn()`` in a thread; its exception, if any, is raised here."""
        box: list[RunResult] = []
        error: list[BaseException] = []

        def target() -> None:
            try:
                box.append(fn())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
                error.append(exc)

        worker = threading.Thread(target=target, name="tacroute-run")
        worker.start()
        worker.join()  # interrupted by signals: the handler runs, the join goes on
        if error:
            raise error[0]
        return box[0]
