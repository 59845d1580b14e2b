"""Reload fixtures: a strategies folder in tmp_path, reloaders that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.reload import Reloader


@pytest.fixture
def strat_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "strategies"
    directory.mkdir()
    return directory


@pytest.fixture
def make_reloader(strat_dir: Path) -> Iterator[Callable[..., Reloader]]:
    made: list[Reloader] = []

    def factory(**kwargs: Any) -> Reloader:
        kwargs.setdefault("quiet_seconds", 0.02)
        kwargs.setdefault("probation_ticks", 3)
        kwargs.setdefault("validate_timeout", 5.0)
        reloader = Reloader(strat_dir, **kwargs)
        made.append(reloader)
        return reloader

    yield factory
    for reloader in made:
        reloader.close()
