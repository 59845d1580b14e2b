"""Editor saves: only fully-written trees are published, each validated once."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import redis

from control.service import ControlService
from runner.publish.publisher import Publisher
from state_store.code_record import CodeRecord, read_record
from state_store.keys import Keys
from tests.runner.publish.conftest import StartWatcher
from tests.runner.publish.helpers import (
    assert_only,
    entries,
    generation,
    make_settings,
    published,
    strategy,
    wait_for,
    wait_published,
    watcher_options,
    write_all,
)

PAUSE = 0.4  # longer than the quiet window and a double read: the watcher sees each state

V1 = {"a.py": strategy("v1"), "b.py": strategy("b")}


def started(start_watcher: StartWatcher, strategies: Path, client: redis.Redis) -> str:
    write_all(strategies, V1)
    start_watcher()
    gen = generation(strategies, V1)
    wait_published(client, gen)
    return gen


def test_an_in_place_save_is_published_once_with_its_record(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis, tmp_path: Path
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    v2 = {**V1, "a.py": strategy("v2")}
    with open(strategies / "a.py", "w") as fh:  # truncate, write, close
        fh.write(v2["a.py"])
    g2 = generation(strategies, v2)
    entry = wait_published(real_redis, g2)

    assert_only(real_redis, [g1, g2])
    assert published(real_redis) == [g1, g2]
    assert (entry.seq, entry.trigger, entry.ok) == (2, "save", True)
    record = read_record(real_redis, Keys("default"))
    assert record is not None and (record.generation, record.seq) == (g2, 2)
    assert record.strategies == ("a", "b") and record.modules == ("a", "b")
    assert dict(record.files) == dict(entry.files)
    code_json = tmp_path / "home" / "code.json"  # written just after Redis
    wait_for(lambda: g2 in code_json.read_text(), "code.json mirroring the record")
    assert CodeRecord.from_json(json.loads(code_json.read_text())) == record


def test_a_rename_over_save_is_published(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    v2 = {**V1, "a.py": strategy("v2")}
    tmp = strategies / ".a.py.tmp"
    with open(tmp, "w") as fh:
        fh.write(v2["a.py"][:10])
        fh.flush()
        time.sleep(PAUSE)
        fh.write(v2["a.py"][10:])
    os.replace(tmp, strategies / "a.py")
    g2 = generation(strategies, v2)
    wait_published(real_redis, g2)

    assert_only(real_redis, [g1, g2])


def test_a_vim_style_save_never_publishes_the_tree_without_the_file(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    final = strategy("v2 from vim")
    probe = strategies / "4913"  # vim checks it may create files here
    probe.write_text("")
    time.sleep(PAUSE)
    probe.unlink()
    os.rename(strategies / "a.py", strategies / "a.py~")  # backup: a.py is gone for a while
    time.sleep(PAUSE)
    with open(strategies / "a.py", "w") as fh:
        fh.write(final[:12])
        fh.flush()
        time.sleep(PAUSE)
        fh.write(final[12:])
    (strategies / "a.py~").unlink()
    g2 = generation(strategies, {**V1, "a.py": final})
    wait_published(real_redis, g2)

    assert_only(real_redis, [g1, g2])  # never {b.py} alone, never half of a.py
    assert entries(real_redis, kind="rejected") == []


def test_a_writer_pausing_between_chunks_is_waited_for(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    chunk1 = strategy("partial")  # a complete, valid module on its own
    chunk2 = "\n\ndef decide(view):\n    return ['complete']\n"
    with open(strategies / "a.py", "w") as fh:  # empty while open, then chunk1, then both
        time.sleep(PAUSE)
        fh.write(chunk1)
        fh.flush()
        time.sleep(PAUSE)
        fh.write(chunk2)
        fh.flush()
        time.sleep(PAUSE)
    g2 = generation(strategies, {**V1, "a.py": chunk1 + chunk2})
    wait_published(real_redis, g2)

    assert_only(real_redis, [g1, g2])
    assert entries(real_redis, kind="rejected") == []  # the empty a.py was never validated


def test_a_burst_of_1000_events_becomes_one_generation(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    write_all(strategies, V1)
    running = start_watcher()
    g1 = generation(strategies, V1)
    wait_published(real_redis, g1)
    validations, events = running.watcher.validations, running.watcher.source.events
    final = strategy("after the burst")
    junk = [strategies / f"junk{i}.tmp" for i in range(600)]
    for i in range(1000):
        if i < 600:
            junk[i].write_text("x")  # not source files, but events all the same
        elif i < 900:
            tmp = strategies / f".a.py.{i}"
            tmp.write_text(final)
            os.replace(tmp, strategies / "a.py")
        else:
            os.utime(strategies / "a.py")
    for path in junk:
        path.unlink()
    g2 = generation(strategies, {**V1, "a.py": final})
    wait_published(real_redis, g2)
    wait_for(lambda: running.watcher.source.events - events >= 600, "the burst's events")
    time.sleep(0.5)  # let every batch of the burst arrive and be looked at

    assert published(real_redis) == [g1, g2]
    assert running.watcher.validations - validations == 1


def test_an_event_dropped_on_purpose_is_caught_by_the_rescan(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    write_all(strategies, V1)
    running = start_watcher(rescan=0.5)
    g1 = generation(strategies, V1)
    wait_published(real_redis, g1)
    source = running.watcher.source
    source.enabled = False  # as if the inotify queue overflowed
    batches = source.batches
    v2 = {**V1, "b.py": strategy("b2")}
    write_all(strategies, v2)
    wait_published(real_redis, generation(strategies, v2))

    assert source.batches == batches  # no event got through: the rescan found it


def test_a_rejected_tree_keeps_the_previous_generation_live(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    (strategies / "a.py").write_text("def decide(view)\n    return []\n")
    wait_for(lambda: entries(real_redis, kind="rejected"), "a rejected entry")
    rejected = entries(real_redis, kind="rejected")[0]

    assert "a.py:1: SyntaxError" in rejected.error and not rejected.ok
    record = read_record(real_redis, Keys("default"))
    assert record is not None and record.generation == g1
    fixed = {**V1, "a.py": strategy("fixed")}
    write_all(strategies, fixed)
    wait_published(real_redis, generation(strategies, fixed))
    assert len(entries(real_redis, kind="rejected")) == 1


def test_ctl_reload_revalidates_and_republishes_the_same_tree_with_a_new_seq(
    start_watcher: StartWatcher,
    strategies: Path,
    real_redis: redis.Redis,
    redis_url: str,
    tmp_path: Path,
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    time.sleep(0.5)  # the watcher has read the reload_seq baseline
    service = ControlService(make_settings(tmp_path / "home", redis_url, strategies))
    service.apply("reload", {}, actor="test")
    wait_for(lambda: len(published(real_redis)) == 2, "a second publish")
    service.close()

    again = entries(real_redis, kind="published")[-1]
    assert (again.generation, again.seq, again.trigger) == (g1, 2, "reload")


def test_a_quarantined_generation_is_not_published(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    g1 = started(start_watcher, strategies, real_redis)
    bad = {**V1, "a.py": strategy("failed probation somewhere")}
    real_redis.hset(Keys("default").quarantine, generation(strategies, bad), "boom")
    write_all(strategies, bad)
    wait_for(lambda: entries(real_redis, kind="rejected"), "a rejected entry")

    assert "quarantined" in entries(real_redis, kind="rejected")[0].error
    assert published(real_redis) == [g1]


def test_a_second_watcher_is_a_standby_until_the_first_stops(
    start_watcher: StartWatcher, strategies: Path, real_redis: redis.Redis
) -> None:
    write_all(strategies, V1)
    first = start_watcher(lease_ttl=1.0)
    wait_published(real_redis, generation(strategies, V1))
    second = Publisher(first.watcher.settings, real_redis, watcher_options(lease_ttl=1.0))
    thread = threading.Thread(target=second.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # a few lease renewals: the standby stays a standby
        assert not second.active and first.watcher.active
        first.stop()
        wait_for(lambda: second.active, "the standby taking over")
        v2 = {**V1, "a.py": strategy("by the standby")}
        write_all(strategies, v2)
        wait_published(real_redis, generation(strategies, v2))
    finally:
        second.stop()
        thread.join(30)
