"""Recorded runs grouped by what a what-if routes: the task's attributes with its hour.

A what-if on history used to route every recorded run (the newest 50,000);
runs with the same attributes in the same hour get the same decision, so
:class:`RunGroups` keeps, per ``since`` cut-off day, the runs of the whole days
after it summed per distinct (attributes + hour): a count and token sums.
The cut-off day's own runs are kept one by one, by start time (one day of
runs, read with the sums), and a request adds those from its exact ``since``
instant, so every run counts and none is counted twice. The hour is the run's recorded
``hour``, else the hour it started at in the config's time zone, as
``tacroute replay`` does.

Sums are rebuilt when the database file or its write-ahead log changes (size
or mtime) or the time zone does: a request meanwhile gets the last finished
sums (``stale`` in the answer) while a background thread rebuilds them; the
first request for a cut-off day waits for its sums.
"""

from __future__ import annotations

import bisect
import threading
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import orjson

from tacroute_ui import core
from tacroute_ui.stats import _readonly, _stamp

__all__ = ["RunGroups"]

_DAY = 86_400
#: Cut-off days whose sums are kept.
_KEEP = 4
_SQL = ("SELECT task, started_at, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens"
        " FROM runs WHERE started_at >= ? AND started_at < ?")

Sums = dict[bytes, list[int]]


#: One run of the cut-off day: (started_at, group key, input, output, cache read, cache creation tokens).
Row = tuple[float, bytes, int, int, int, int]


def _add(path: Path, tz: tzinfo | None, start: float, end: float, into: Sums,
         rows: list[Row] | None = None) -> int:
    """Add the runs started in [start, end) to ``into`` (and each to ``rows``); returns how many."""
    tasks: dict[str, tuple[dict[str, Any], bool]] = {}
    hours: dict[int, int] = {}
    keys: dict[tuple[str, int], bytes] = {}
    n = 0
    conn = _readonly(path)
    try:
        for text, started, i, o, cr, cw in conn.execute(_SQL, (start, end)):
            n += 1
            seen = tasks.get(text)
            if seen is None:
                task = orjson.loads(text)
                seen = tasks[text] = (task, task.get("hour") is None)
            hour = -1
            if seen[1]:
                quarter = int(started // 900)  # every UTC offset is a whole number of quarter hours
                hour = hours.get(quarter, -1)
                if hour < 0:
                    hour = hours[quarter] = datetime.fromtimestamp(quarter * 900, tz).hour
            key = keys.get((text, hour))
            if key is None:
                key = keys[(text, hour)] = orjson.dumps({**seen[0], "hour": hour} if seen[1] else seen[0],
                                                        option=orjson.OPT_NON_STR_KEYS)
            if rows is not None:
                rows.append((started, key, i, o, cr, cw))
            row = into.get(key)
            if row is None:
                into[key] = [1, i, o, cr, cw]
            else:
                row[0] += 1
                row[1] += i
                row[2] += o
                row[3] += cr
                row[4] += cw
    finally:
        conn.close()
    return n


class RunGroups:
    """Per cut-off day, the sums of the runs of the whole days after it (see the module docs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        #: cut-off day -> (stamp, time zone, sums, runs, the day's own runs by start time, their starts)
        self._sums: dict[int, tuple[tuple[int, ...], tzinfo | None, Sums, int, list[Row], list[float]]] = {}
        self._busy: set[int] = set()
        #: The last answer's sums, the index of the day's first run it counted, and its groups
        #: (shared between requests: never to be changed).
        self._last: tuple[Any, int, list[core.TaskGroup]] | None = None

    def groups(self, tz: tzinfo | None, since: float) -> tuple[list[core.TaskGroup], int, bool]:
        """(groups, runs, stale) of the runs started at or after ``since`` (the list is shared:
        read it, never change it)."""
        day = int(since // _DAY)
        stamp = _stamp(self.path)
        with self._lock:
            have = self._sums.get(day)
            fresh = have is not None and have[0] == stamp and have[1] == tz
            if not fresh and day not in self._busy:
                self._busy.add(day)
                threading.Thread(target=self._build, args=(day, stamp, tz), daemon=True,
                                 name="tacroute-ui-rungroups").start()
            if have is None or have[1] != tz:
                self._done.wait_for(lambda: day not in self._busy)
                have = self._sums.get(day)
            if have is None or have[1] != tz:
                raise core.TacrouteError(f"cannot read history {self.path}")
            stale = have[0] != stamp
        _, _, kept, runs, rows, starts = have
        first = bisect.bisect_left(starts, since)
        last = self._last
        if last is not None and last[0] is have and last[1] == first:
            return last[2], runs + len(rows) - first, stale  # no run of the day passed since then
        sums = dict(kept)  # the kept sums are shared: never added to
        for k in range(first, len(rows)):
            _, key, i, o, cr, cw = rows[k]
            old = sums.get(key)
            sums[key] = [1, i, o, cr, cw] if old is None else [old[0] + 1, old[1] + i, old[2] + o,
                                                               old[3] + cr, old[4] + cw]
        merged = list(sums.items())
        self._last = (have, first, merged)
        return merged, runs + len(rows) - first, stale

    def _build(self, day: int, stamp: tuple[int, ...], tz: tzinfo | None) -> None:
        sums: Sums = {}
        rows: list[Row] = []
        try:
            runs = _add(self.path, tz, (day + 1) * _DAY, float("inf"), sums)
            _add(self.path, tz, day * _DAY, (day + 1) * _DAY, {}, rows)
        except Exception:  # noqa: BLE001 - a damaged file: the request says it cannot read it
            runs = -1
        rows.sort(key=lambda r: r[0])
        with self._lock:
            if runs >= 0:
                self._sums[day] = (stamp, tz, sums, runs, rows, [r[0] for r in rows])
                while len(self._sums) > _KEEP:
                    del self._sums[min(self._sums, key=lambda d: d if d != day else 1 << 62)]
            self._busy.discard(day)
            self._done.notify_all()
