"""A fresh install holds the four planes and nothing generic (no `bench`, no `strategies`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLANES = {"state_store", "exchange", "runner", "control"}


SKIP = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "tests")


def build_wheel(out: Path) -> Path:
    """Build from a clean copy, so no stale build/ folder of the checkout leaks in."""
    source = out / "src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run(
        [*pip, "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("neverblink-*.whl")
    return wheel


def test_wheel_installs_only_the_planes(tmp_path: Path) -> None:
    names = zipfile.ZipFile(build_wheel(tmp_path)).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == PLANES
    assert "state_store/lua/create_order.lua" in names
    assert "control/static/index.html" in names
    assert "control/bench/store_bench.py" in names
