"""One strategy host process, seen from the runner: start it, exchange frames, kill it.

The host is a fresh interpreter (`python -I -S`: no site, no user paths, no
environment), never a fork of the runner: a fork would inherit the runner's
threads' locks, its Redis and venue connections and its signal handlers. It
gets one end of a socket pair; the runner's end has a timeout on every send
and receive, so a host that stops reading or answering can never hold the
runner longer than the deadline it was given. It is in its own session
(Ctrl-C in the runner's terminal does not reach it) and dies with the runner
(PR_SET_PDEATHSIG, see guard.die_with_parent).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from runner.host import codec
from runner.host.codec import Json
from runner.host.guard import HostLimits

log = logging.getLogger(__name__)

ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding runner/ and state_store/
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[3]); from runner.host.server import main; main()"
)

Message = dict[str, Json]


class HostGone(Exception):
    """The host closed its end (exited or crashed) or broke the protocol."""


class HostProcess:
    """A started host. `hello` tells whether it finished arming."""

    def __init__(self, limits: HostLimits) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        board = os.memfd_create("nb-host-progress")
        os.ftruncate(board, codec.PROGRESS_BYTES)
        self.progress = mmap.mmap(board, codec.PROGRESS_BYTES)
        self.started_at = time.monotonic()
        arg = f"{limits.memory_mb},{limits.cpu_seconds},{limits.open_files}"
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-X",
                    "utf8",
                    "-c",
                    BOOTSTRAP,
                    str(theirs.fileno()),
                    arg,
                    ROOT,
                    str(board),
                ],
                pass_fds=(theirs.fileno(), board),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env={},
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            self.progress.close()
            raise
        finally:
            theirs.close()
            os.close(board)
        self.pid = self.proc.pid
        self.hello = False
        self._buffer = b""

    # -- frames ---------------------------------------------------------------
    def send(self, message: Message, deadline: float) -> None:
        """Send one frame before `deadline` (time.monotonic); HostGone on EOF, TimeoutError late."""
        data = codec.request_frame(message)
        try:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.0001))
            self.sock.sendall(data)
        except TimeoutError:
            raise
        except OSError as exc:
            raise HostGone(f"the host closed its end ({exc})") from exc

    def recv(self, deadline: float) -> Message | None:
        """The next frame, or None when `deadline` passes first; HostGone on EOF or garbage."""
        try:
            header = self._read(codec.HEADER, deadline)
            if header is None:
                return None
            length = codec.frame_length(header)
            body = self._read(length, deadline, keep=header)
        except codec.CodecError as exc:
            raise HostGone(f"the host broke the protocol: {exc}") from exc
        if body is None:
            return None
        self._buffer = b""
        try:
            return codec.load_reply(body[codec.HEADER :])
        except codec.CodecError as exc:
            raise HostGone(f"the host broke the protocol: {exc}") from exc

    def _read(self, n: int, deadline: float, keep: bytes = b"") -> bytes | None:
        """Read until the buffer holds `keep` + n bytes; None on timeout (the buffer is kept)."""
        want = len(keep) + n
        while len(self._buffer) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(min(want - len(self._buffer), 1 << 20))
            except TimeoutError:
                return None
            except OSError as exc:
                raise HostGone(f"the host's end failed ({exc})") from exc
            if not chunk:
                raise HostGone("the host closed its end")
            self._buffer += chunk
        return self._buffer[:want]

    # -- life -----------------------------------------------------------------
    def wait_hello(self, deadline: float) -> bool:
        """True once the host has armed itself and said hello (a `refused` frame is an error)."""
        if self.hello:
            return True
        message = self.recv(deadline)
        if message is None:
            return False
        if message.get("op") != "hello" or message.get("v") != codec.WIRE_VERSION:
            raise HostGone(f"the host did not say hello: {str(message)[:200]}")
        self.hello = True
        return True

    def running_call(self, request_id: int) -> int:
        """1-based index of the call of `request_id` the host was running (0: none yet)."""
        rid, index = codec.read_progress(bytes(self.progress[: codec.PROGRESS_BYTES]))
        return index if rid == request_id % 2**32 else 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (the host holds nothing worth a goodbye) and reap it without blocking long."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            try:
                self.proc.wait(0.5)
            except subprocess.TimeoutExpired:  # in D state? reaped by a later poll
                log.warning("strategy host %d not gone 0.5 s after SIGKILL", self.pid)
        self.sock.close()
        if not self.progress.closed:
            self.progress.close()

    def death(self) -> str:
        """How the process ended (after HostGone): "exited with code 3", "killed by SIGSEGV"."""
        try:
            code = self.proc.wait(0.1)
        except subprocess.TimeoutExpired:
            return "closed its end but is still running"
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    @property
    def out_of_cpu(self) -> bool:
        """Ended by its lifetime CPU limit (RLIMIT_CPU, SIGXCPU): its age, not one call's doing."""
        return self.proc.returncode == -signal.SIGXCPU
