"""Manifest entries from reloader events (the record and its codecs: state_store.manifest)."""

from __future__ import annotations

from runner.reload.model import ReloadEvent
from state_store.manifest import ManifestEntry


def manifest_entry(event: ReloadEvent, replica: str) -> ManifestEntry:
    """One manifest entry from a reloader event."""
    return ManifestEntry(
        ts=round(float(event.ts), 3),
        kind=event.kind,
        ok=bool(event.ok),
        error=event.error,
        generation=event.generation,
        modules=tuple(event.modules),
        files=dict(event.files),
        git_sha=event.git_sha,
        git_dirty=bool(event.git_dirty),
        replica=replica,
        tick=event.tick,
    )
