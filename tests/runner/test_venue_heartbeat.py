"""The venue heartbeat has exactly one owner among replicas (a lease); losing the owner
does not cancel the book (a standby continues the chain) unless the operator chose `owner`."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.live import LiveVenue
from runner.loop import Loop
from runner.tick import run_tick
from runner.venue_heartbeat import HEARTBEAT_LEASE
from tests.runner.conftest import RuntimeFactory

LIVE = pytest.mark.parametrize("venue", ["live"], indirect=True)


def count_beats(monkeypatch: pytest.MonkeyPatch, venue: LiveVenue) -> list[str]:
    sent: list[str] = []
    send = venue.heartbeat

    def counting(heartbeat_id: str = "") -> str:
        sent.append(heartbeat_id)
        return send(heartbeat_id)

    monkeypatch.setattr(venue, "heartbeat", counting)
    return sent


@LIVE
def test_one_owner_beats_and_a_standby_continues_its_chain(
    make_runtime: RuntimeFactory, venue: LiveVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = count_beats(monkeypatch, venue)
    r1 = make_runtime("r1", venue_heartbeat="failover")
    r2 = make_runtime("r2", venue_heartbeat="failover")
    for _ in range(3):
        run_tick(r1)
        run_tick(r2)
    assert len(sent) == 3  # one beat per owner tick, none from the standby
    assert r1.heartbeat_lease is not None and r2.heartbeat_lease is None
    chain: Any = r1.client.hgetall(r1.store.keys.venue_heartbeat)
    assert chain["owner"] == "r1" and chain["id"]
    assert sent[1:] != ["", ""] and sent[0] == ""  # chained: each beat sends the last id

    r1.client.delete(r1.store.keys.lease(HEARTBEAT_LEASE))  # r1 died; its lease expired
    run_tick(r2)
    assert r2.heartbeat_lease is not None and len(sent) == 4
    assert sent[-1] == chain["id"]  # the same chain goes on: the venue keeps the book
    after: Any = r2.client.hgetall(r2.store.keys.venue_heartbeat)
    assert after["owner"] == "r2" and after["id"] != chain["id"]
    run_tick(r1)  # the old owner, back: its lease is gone, it does not beat
    assert r1.heartbeat_lease is None and len(sent) == 4


@LIVE
def test_owner_mode_lets_nobody_take_over(
    make_runtime: RuntimeFactory, venue: LiveVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = count_beats(monkeypatch, venue)
    r1 = make_runtime("r1", venue_heartbeat="owner")
    r2 = make_runtime("r2", venue_heartbeat="owner")
    run_tick(r1)
    r1.client.delete(r1.store.keys.lease(HEARTBEAT_LEASE))
    for _ in range(2):
        run_tick(r2)
    assert len(sent) == 1 and r2.heartbeat_lease is None  # the venue will cancel the book
    run_tick(r1)  # the owner restarted (same replica id): it beats its chain again
    assert len(sent) == 2 and r1.heartbeat_lease is not None


@LIVE
def test_off_sends_no_beat_and_a_clean_stop_hands_the_lease_over(
    make_runtime: RuntimeFactory, venue: LiveVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = count_beats(monkeypatch, venue)
    run_tick(make_runtime("r0"))
    assert sent == []
    r1 = make_runtime("r1", venue_heartbeat="failover")
    r2 = make_runtime("r2", venue_heartbeat="failover")
    run_tick(r1)
    Loop(r1).teardown()  # a clean stop releases the heartbeat lease
    run_tick(r2)
    assert r2.heartbeat_lease is not None and len(sent) == 2
