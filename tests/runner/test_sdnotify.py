"""The sd_notify helper speaks systemd's datagram protocol, and is silent without it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.sdnotify import Notifier


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(5)
    yield server, path
    server.close()


def test_ready_once_then_watchdog(systemd: tuple[socket.socket, str]) -> None:
    server, path = systemd
    notifier = Notifier(path)
    assert notifier.alive() and notifier.alive() and notifier.alive()
    received = [server.recv(256).decode() for _ in range(3)]
    notifier.close()

    assert received == ["READY=1\nWATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]


def test_the_abstract_namespace_address(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"nb-test-{id(monkeypatch)}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        notifier = Notifier()
        assert notifier.notify("STATUS=ticking")
        assert server.recv(256) == b"STATUS=ticking"
        notifier.close()
    finally:
        server.close()


def test_without_notify_socket_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled and not notifier.alive()


def test_a_vanished_systemd_never_raises(tmp_path: Path) -> None:
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert not notifier.alive()
    notifier.close()


def test_a_listener_that_stops_reading_never_blocks_the_loop(
    systemd: tuple[socket.socket, str],
) -> None:
    _, path = systemd
    notifier = Notifier(path)
    sent = [notifier.alive() for _ in range(5000)]  # far more than the socket queue holds
    notifier.close()

    assert sent[0] and not all(sent)  # the queue filled up: pings were dropped, not waited on
