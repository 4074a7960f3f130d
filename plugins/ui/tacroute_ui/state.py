"""What the UI process keeps between requests: the config snapshot, its router, the stats cache
and the recorded runs grouped for what-if.

The config is read again only when the file's (inode, size, mtime) changes, so
a page over 1,000 rules does not parse and lint them per request. A stale
cache cannot lose an edit: every edit is checked against the file's real bytes
under the editor's lock.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from tacroute_ui import core
from tacroute_ui.rules import rules_payload
from tacroute_ui.rungroups import RunGroups
from tacroute_ui.stats import StatsCache

__all__ = ["AppState"]


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class AppState:
    def __init__(self, config_path: Path) -> None:
        self.path = config_path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._snap: core.Snapshot | None = None
        self._payload: dict[str, Any] | None = None
        self._router: core.Router | None = None
        self._stats: StatsCache | None = None
        self._groups: RunGroups | None = None
        self._decisions: core.SavedDecisions | None = None

    def snapshot(self) -> core.Snapshot:
        """The config as the file is now (raises ConfigError for a file that does not load)."""
        stamp = _stamp(self.path)
        with self._lock:
            if self._snap is None or stamp is None or stamp != self._stamp:
                self._snap = core.read_snapshot(self.path)
                self._stamp, self._payload, self._router = stamp, None, None
            return self._snap

    def rules(self) -> dict[str, Any]:
        snap = self.snapshot()
        with self._lock:
            if self._payload is None or self._payload["etag"] != snap.etag:
                self._payload = rules_payload(snap)
            return self._payload

    def router(self) -> core.Router:
        snap = self.snapshot()
        with self._lock:
            if self._router is None or self._router.config is not snap.config:
                self._router = core.router_for(snap.config)
            return self._router

    def stats(self) -> StatsCache:
        """The history aggregates of the config's history file (refreshed when the file changes)."""
        path = core.history_path(self.snapshot().config)
        with self._lock:
            if self._stats is None or self._stats.path != path:
                if self._stats is not None:
                    self._stats.close()
                self._stats = StatsCache(path)
            return self._stats

    def run_groups(self) -> RunGroups:
        """The recorded runs of the config's history file, grouped for what-if."""
        path = core.history_path(self.snapshot().config)
        with self._lock:
            if self._groups is None or self._groups.path != path:
                self._groups = RunGroups(path)
            return self._groups

    def saved_decisions(self) -> core.SavedDecisions:
        """The saved config's what-if decisions per group of runs (new when the config changes)."""
        config = self.snapshot().config
        with self._lock:
            if self._decisions is None or self._decisions.config is not config:
                self._decisions = core.SavedDecisions(config)
            return self._decisions

    def close(self) -> None:
        with self._lock:
            if self._stats is not None:
                self._stats.close()
