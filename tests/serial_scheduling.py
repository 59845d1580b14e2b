"""An xdist scheduler that never runs two process-heavy test files at once.

Tests that start real runner processes (or a browser) and check their timing would starve each
other on 2 cores. xdist's own `--dist loadgroup` cannot group them: with pytest 9.2 its group
suffix on node ids is lost (pytest-dev/pytest-xdist#1386). The controller sees only node ids,
so a file belongs to the serial group when its source carries one of the markers.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

SERIAL_MARKERS = re.compile(r"mark\.(chaos|browser|processes)\b")
SERIAL_GROUP = "serial: real processes"


@cache
def is_serial(path: Path) -> bool:
    try:
        return SERIAL_MARKERS.search(path.read_text(errors="replace")) is not None
    except OSError:
        return False


class SerialFilesScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """One work unit for all serial files (it has the most tests, so it is handed out
    first and its worker takes other tests afterwards); every other test is its own unit."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.rootpath = Path(config.rootpath)

    def _split_scope(self, nodeid: str) -> str:
        if is_serial(self.rootpath / nodeid.split("::", 1)[0]):
            return SERIAL_GROUP
        return nodeid
