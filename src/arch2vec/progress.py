"""Progress of long work: a tqdm bar on a terminal, a log line every few seconds elsewhere.

When standard error is a terminal, :class:`Progress` draws a tqdm bar. When it is not (a pipe, a
log file, a batch job), it writes ``logging`` records instead, at INFO on the
``arch2vec.progress`` logger: one every ``every`` seconds (default ``$ARCH2VEC_LOG_EVERY``, else
5) and, for work that lasted that long, one when it ends (work that fails ends without it: the
error follows). The command line shows INFO records (``--quiet``: warnings only, no bars;
``--verbose``: debug records too); from Python, configure ``logging`` as usual to see them.
Setting the ``arch2vec`` logger's level above INFO also turns the bars off.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

LOGGER = logging.getLogger("arch2vec.progress")
ENV_EVERY = "ARCH2VEC_LOG_EVERY"


def log_every() -> float:
    """Seconds between two progress lines when output is not a terminal."""
    try:
        return max(0.0, float(os.environ.get(ENV_EVERY, 5)))
    except ValueError:
        return 5.0


def _terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def _quiet() -> bool:
    return logging.getLogger("arch2vec").level > logging.INFO


def _plural(unit: str) -> str:
    if len(unit) < 2 or unit.endswith("s"):
        return unit
    return unit[:-1] + "ies" if unit.endswith("y") else unit + "s"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


ETA_AFTER = 0.02
"""The share of the work done before a log line tells the time left."""


class Progress:
    """Count ``total`` ``unit``\\ s of work named ``desc`` (``total`` None: unknown);
    ``enabled=False`` makes every call a no-op. Thread-safe; use it as a context manager or call
    :meth:`close`."""

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
        enabled: bool = True,
        every: float | None = None,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.n = int(initial)
        self._start = self._last = time.monotonic()
        self._initial = self.n
        self._every = log_every() if every is None else float(every)
        self._notes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._bar = None
        self._log = False
        self._closed = not enabled
        if not enabled:
            return
        if _terminal():
            if not _quiet():
                from tqdm import tqdm

                self._bar = tqdm(total=total, initial=self.n, unit=unit, desc=desc)
        elif LOGGER.isEnabledFor(logging.INFO):
            self._log = True
        self._lines = 0

    def update(self, n: int = 1) -> None:
        """``n`` more units done."""
        self.set(self.n + n)

    def set(self, n: int) -> None:
        """``n`` units done in all (a count that may jump, e.g. read from workers)."""
        with self._lock:
            if self._closed or n == self.n:
                return
            if self._bar is not None:
                self._bar.update(n - self.n)
            self.n = n
            if self._log and time.monotonic() - self._last >= self._every:
                self._line()

    def note(self, **values: Any) -> None:
        """Figures shown beside the count (a loss, a best reward)."""
        with self._lock:
            self._notes.update(values)
            if self._bar is not None:
                self._bar.set_postfix(self._notes, refresh=False)

    def close(self, failed: bool = False) -> None:
        """The work has ended (``failed``: by an error; no closing line then)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._bar is not None:
                self._bar.close()
            if self._log and not failed and (self._lines or self._every == 0):
                self._line(done=True)

    def _line(self, done: bool = False) -> None:
        now = time.monotonic()
        self._last = now
        self._lines += 1
        elapsed = now - self._start
        rate = (self.n - self._initial) / elapsed if elapsed > 0 else 0.0
        units = _plural(self.unit)
        count = f"{self.n:,}" + ("" if self.total is None else f"/{self.total:,}") + f" {units}"
        if self.total:
            count += f" ({100 * self.n / self.total:.0f}%)"
        parts = [f"{self.desc}: {'done, ' if done else ''}{count}", _duration(elapsed)]
        if rate:
            parts.append(f"{rate:,.{0 if rate >= 100 else 1}f} {units}/s")
        if not done and self.total is not None and self._eta_known() and rate > 0:
            parts.append(f"about {_duration((self.total - self.n) / rate)} left")
        parts += [f"{k} {v}" for k, v in self._notes.items()]
        LOGGER.info(", ".join(parts))

    def _eta_known(self) -> bool:
        """Whether enough is done for a time left to mean something: at least
        :data:`ETA_AFTER` of the work (and 3 units) since this bar started. One query of a
        search that has 10,000 to go says nothing of how long they take."""
        if self.total is None or self.n >= self.total:
            return False
        done = self.n - self._initial
        return done >= 3 and done >= ETA_AFTER * (self.total - self._initial)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(failed=kind is not None)
