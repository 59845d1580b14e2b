"""Process bodies for the concurrency tests (importable, so they work under spawn)."""

from __future__ import annotations

from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from control.service import ControlService
from state_store.manifest import ManifestEntry
from state_store.settings import Settings
from state_store.status import RunnerStatus, write_status_file


def issue_commands(settings: Settings, name: str, count: int, start: Event, out: Any) -> None:
    """Apply `count` flattens (each bumps flatten_seq) and report (version, plane) of each."""
    service = ControlService(settings)
    start.wait()
    results = []
    try:
        for _ in range(count):
            result = service.apply("flatten", {}, actor=name)
            results.append((result.state.version, result.plane))
    finally:
        service.close()
    out.put((name, results))


def write_sections(path: Path, replica: str, count: int, start: Event) -> None:
    """Rewrite this replica's status.json section `count` times."""
    start.wait()
    for tick in range(1, count + 1):
        section = RunnerStatus(replica=replica, tick=tick)
        reload = ManifestEntry(ts=float(tick), kind="live", replica=replica, tick=tick)
        write_status_file(path, replica, section, [reload] if tick % 10 == 0 else [])
