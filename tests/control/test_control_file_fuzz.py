"""Whatever lands in control.json, the reading side never crashes and never obeys an invalid state.

Generated contents: random JSON values, documents shaped like a desired state with
random field values, random bytes, truncated valid files, and huge files.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import fakeredis
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from runner.control_read import read_desired
from runner.runtime import Runtime
from state_store.converge import converge_report
from state_store.desired import (
    MAX_CONTROL_FILE_BYTES,
    DesiredState,
    InvalidControlFile,
    read_control_file,
)
from state_store.desired_redis import read_redis, write_redis
from state_store.keys import Keys
from state_store.settings import Settings

FIELDS = list(DesiredState.model_fields)
LAST_GOOD = DesiredState(version=5, paused=True, config={"alpha": {"size": 7}}, change_id="good")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=30,
)
shaped = st.fixed_dictionaries({}, optional={f: json_values for f in FIELDS}).map(json.dumps)
config_values = (
    st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
valid_states = st.builds(
    DesiredState,
    version=st.integers(0, 2**53 - 1),
    paused=st.booleans(),
    killed=st.booleans(),
    config=st.dictionaries(
        st.text(max_size=8),
        st.dictionaries(st.text(max_size=8), config_values, max_size=3),
        max_size=3,
    ),
    reload_seq=st.integers(0, 1000),
    reload_module=st.text(max_size=10),
    flatten_seq=st.integers(0, 1000),
    updated_at=st.floats(0, 2e9),
    updated_by=st.text(max_size=10),
)


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    text = json.dumps(draw(valid_states).to_file()).encode()
    return text[: draw(st.integers(0, len(text) - 1))]


contents = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(str.encode),
    st.binary(max_size=300),
    truncated(),
    valid_states.map(lambda s: json.dumps(s.to_file()).encode()),
)
HUGE = [
    b" " * (MAX_CONTROL_FILE_BYTES + 1) + json.dumps(LAST_GOOD.to_file()).encode(),
    json.dumps(
        {"version": 9, "config": {f"s{i}": {"k": "x" * 100} for i in range(20_000)}}
    ).encode(),
    b"[" * 200_000,
    b'{"config": ' * 50_000,
    json.dumps({"version": 10**30}).encode(),
    json.dumps({"version": 6, "updated_at": 1e400}).encode().replace(b"inf", b"Infinity"),
    b'{"version": 6, "paused": "yes"}',
    b'{"version": 6, "paused": 1}',
    b'{"version": 6.0}',
    b'{"version": 6, "config": {"a": {"b": null}}}',
    b'{"version": 6, "config": {"a": {"b": NaN}}}',
    b'{"version": 6, "surprise": 1}',
    b"\xef\xbb\xbf{}",
]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def check_valid(state: DesiredState) -> None:
    """A state in force passes validation again, round-trips through Redis and the file."""
    assert DesiredState.model_validate(state.model_dump()) == state
    assert DesiredState.from_redis(state.to_redis()) == state
    assert DesiredState.model_validate_json(json.dumps(state.to_file()), strict=True) == state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=contents)
@example(raw=b"")
def test_read_control_file_returns_a_valid_state_or_a_clear_error(home: Path, raw: bytes) -> None:
    path = home / "read.json"
    path.write_bytes(raw)
    try:
        state = read_control_file(path)
    except InvalidControlFile as exc:
        assert str(path) in str(exc) and len(str(exc)) < 1000
        return
    assert state is not None
    check_valid(state)


@pytest.mark.parametrize("raw", HUGE, ids=range(len(HUGE)))
def test_huge_and_hostile_files_are_rejected(home: Path, raw: bytes) -> None:
    path = home / "huge.json"
    path.write_bytes(raw)
    with pytest.raises(InvalidControlFile):
        read_control_file(path)


def test_a_directory_in_place_of_the_file_is_rejected(home: Path) -> None:
    path = home / "dir.json"
    path.mkdir()
    with pytest.raises(InvalidControlFile, match="cannot read"):
        read_control_file(path)


def runner(path: Path, client: Any = None) -> Any:
    return SimpleNamespace(
        settings=SimpleNamespace(control_file=path),
        client=client,
        store=SimpleNamespace(keys=Keys("fuzz")),
        reloader=SimpleNamespace(current=None),  # no strategies loaded: no PARAMS to check
        control_error="",
        last_desired=LAST_GOOD,
        paused=True,
        config=SimpleNamespace(replica="r1"),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=contents)
def test_runner_keeps_the_last_valid_state_with_redis_down(home: Path, raw: bytes) -> None:
    path = home / "runner.json"
    path.write_bytes(raw)
    rt = runner(path)
    state = read_desired(cast(Runtime, rt), redis_up=False)
    check_valid(state)
    try:
        parsed = read_control_file(path)
    except InvalidControlFile:
        parsed = None
        assert rt.control_error
    if parsed is None or parsed.version < LAST_GOOD.version:
        assert state == LAST_GOOD
    elif parsed.version > LAST_GOOD.version:
        assert state == parsed
    else:  # same version: runner/control_read takes the file's (valid) content
        assert state in (parsed, LAST_GOOD)
    assert rt.paused == (not state.entries_allowed)


@pytest.mark.parametrize("raw", HUGE[:4], ids=range(4))
def test_runner_keeps_the_last_valid_state_for_huge_files(home: Path, raw: bytes) -> None:
    path = home / "runner-huge.json"
    path.write_bytes(raw)
    rt = runner(path)
    assert read_desired(cast(Runtime, rt), redis_up=False) == LAST_GOOD
    assert "limit" in rt.control_error or "control" in rt.control_error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=contents)
def test_convergence_never_crashes_nor_writes_an_invalid_state(home: Path, raw: bytes) -> None:
    client = fakeredis.FakeRedis(decode_responses=True)
    settings_ = Settings(home / "conv", None, "fuzz", home / "strategies")
    settings_.home.mkdir(exist_ok=True)
    settings_.audit_file.unlink(missing_ok=True)
    write_redis(client, Keys("fuzz"), LAST_GOOD, [], "newer")
    settings_.control_file.write_bytes(raw)
    report = converge_report(client, settings_)
    in_redis = read_redis(client, Keys("fuzz"))
    assert in_redis.state is not None and not in_redis.error
    check_valid(report.state)
    assert report.state == in_redis.state
    if report.file_error:
        assert settings_.control_file.read_bytes() == raw  # the operator's file is left alone
        assert report.state == LAST_GOOD
    else:
        assert read_control_file(settings_.control_file) == in_redis.state
    client.close()
