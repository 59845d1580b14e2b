"""File events from watchfiles, in a thread. An event only says "look again".

watchfiles batches are unordered, arrive 50-100 ms after the first write even
while a file is still being written, report a rename-save as added/deleted,
never report close-write, cut a long checkout into several batches and drop
events silently when the inotify queue overflows. So no batch is interpreted:
each one calls `on_change()`, which marks the tree dirty; the gate then looks
at the folder itself, and a periodic rescan covers dropped events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import watchfiles

log = logging.getLogger(__name__)

_GIT_NOISE = ("objects", "logs", "hooks", "lfs", "modules")  # never tell us about the tree
_RESTART_AFTER = 1.0


class EventSource:
    """Runs `watchfiles.watch` over `paths` until `close()`; counts batches and events."""

    def __init__(
        self,
        paths: Sequence[Path],
        on_change: Callable[[], None],
        *,
        git_dirs: Sequence[Path] = (),
        step_ms: int = 30,
        force_polling: bool | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.on_change = on_change
        self.step_ms = step_ms
        self.force_polling = force_polling
        self.enabled = True  # False drops every event (tests prove the rescan catches them)
        self.batches = 0
        self.events = 0
        self._noise = tuple(f"{Path(d)}/{part}/" for d in git_dirs for part in _GIT_NOISE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nb-watch-events", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _keep(self, _change: watchfiles.Change, path: str) -> bool:
        return not path.startswith(self._noise)

    def _run(self) -> None:
        while not self._stop.is_set():
            paths = [p for p in self.paths if p.exists()]
            if not paths:
                self._stop.wait(_RESTART_AFTER)
                continue
            try:
                self._watch(paths)
            except Exception as exc:  # a watched folder deleted, inotify limits, ...
                log.warning("file watch stopped (%s); restarting, the rescan covers the gap", exc)
                self.on_change()
                self._stop.wait(_RESTART_AFTER)

    def _watch(self, paths: list[Path]) -> None:
        for batch in watchfiles.watch(
            *paths,
            watch_filter=self._keep,
            step=self.step_ms,
            stop_event=self._stop,
            raise_interrupt=False,
            force_polling=self.force_polling,
            ignore_permission_denied=True,
        ):
            if not self.enabled:
                continue
            self.batches += 1
            self.events += len(batch)
            self.on_change()
