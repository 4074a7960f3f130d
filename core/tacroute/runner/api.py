"""The coordinator's entry points beside :func:`~tacroute.runner.run.run_task`.

:func:`open_router` gives the router ``run_task`` uses, to preview a decision
(``router.route(task)``) and then run exactly it (``run_task(decision=...)``);
:func:`arun_task` is ``run_task`` for asyncio callers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tacroute.config.model import Config
    from tacroute.preferences.router import PreferenceRouter
    from tacroute.routing.router import ModelRouter
    from tacroute.types import RunResult, Task

__all__ = ["arun_task", "open_router"]


def open_router(config: Config | str | Path | None = None, *, registry: Any = None,
                env: Mapping[str, str] | None = None,
                cwd: str | Path | None = None) -> ModelRouter | PreferenceRouter:
    """The router ``run_task`` uses for ``config``: the history gate (cooldowns,
    provider limits) and the ``[projects]``/``[users]`` preferences included
    (:func:`tacroute.routing.router_with_history`). ``config``, ``env`` and
    ``cwd`` as for ``run_task``. Its ``route(task)`` gives the :class:`Decision`
    ``run_task(decision=...)`` then runs without routing again."""
    from tacroute.runner.opening import loaded, router_parts

    config, registry = loaded(config, registry)
    return router_parts(config, registry, env, cwd, {})[2]


async def arun_task(prompt_file: str | Path | None = None, task: Task | None = None,
                    **kwargs: Any) -> RunResult:
    """:func:`run_task` without blocking the event loop (same arguments).

    The run goes to a thread of its own (not the loop's default executor, whose
    few workers would queue concurrent runs). Cancelling the awaiting task sets
    the run's ``cancel`` event (the caller's, if given), waits until the run has
    stopped the attempt's process group and recorded the attempt and the run as
    ``cancelled``, then raises :class:`asyncio.CancelledError`. ``on_event`` and
    ``on_line`` are called in that thread.
    """
    from tacroute.runner.run import run_task

    cancel: threading.Event = kwargs.pop("cancel", None) or threading.Event()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[RunResult] = loop.create_future()

    def deliver(result: RunResult | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result = run_task(prompt_file, task, cancel=cancel, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            loop.call_soon_threadsafe(deliver, None, exc)
        else:
            loop.call_soon_threadsafe(deliver, result, None)

    worker = threading.Thread(target=target, name="tacroute-arun", daemon=True)
    worker.start()
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        cancel.set()
        while not done.done():  # the run records the stop; a second cancel does not cut that short
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                continue
            except BaseException:  # noqa: BLE001 - the run's own error; the cancel wins
                break
        done.exception()  # retrieved: no "never retrieved" warning
        worker.join()  # it has delivered: only its last instructions are left
        raise
