"""What one background attempt over the folder produced (shared by builder and follower)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.reload.model import CodeVersion, ReloadEvent

Status = Literal[
    "ready", "current", "rejected", "deferred", "unchanged", "unsettled", "stopped", "mismatch"
]


@dataclass(frozen=True)
class Held:
    """The versions the reloader holds right now (a snapshot)."""

    current: CodeVersion | None = None
    last_good: CodeVersion | None = None
    candidate: CodeVersion | None = None


@dataclass(frozen=True)
class Outcome:
    status: Status
    version: CodeVersion | None = None  # when ready
    event: ReloadEvent | None = None  # rejected, mismatch, or deferred (once per tree and writers)
