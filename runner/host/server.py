"""The strategy host process: loads generations, answers decide/migrate calls, nothing else.

Started by `runner.host.process.HostProcess` as a fresh interpreter
(`python -I -S -c ...`, never a fork of a runner), with one end of a socket
pair as a file descriptor. It speaks frames of `runner.host.codec` over it:

    -> {"op":"hello","v":1,"pid":..}                       once, when armed
    <- {"op":"load","id":n,"gen":G,"dir":D,"files":[(name,bytes),..],"package_names":[..]}
    -> {"op":"loading","id":n,"file":name}                  before each file's code runs
    -> {"op":"loaded","id":n,"gen":G,"problems":[[file,line,msg],..],"modules":[..],
        "strategies":{name:{"params":..,"memory_version":k,"migrate":bool}}}
    <- {"op":"decide","id":n,"gen":G,"tick":t,"now":x,"markets":[..],"base":b|None,
        "calls":[[name,params,memory],..]}     markets: full encodings (base None), or
                                           what changed since frame b (market_wire)
    -> {"op":"resync","id":n,"why":".."}   a delta on a frame this host did not decode
                                           last: the runner sends the frame in full
    -> {"op":"results","id":n,"s":secs,"results":[{"name":s,"decisions":[..],"s":secs} |
        {"name":s,"error":"..."}, ..]}     one frame, calls in order; the running call's
                                           index is on the shared progress board
    <- {"op":"migrate","id":n,"gen":G,"name":s,"memory":{..},"from":k}
    -> {"op":"migrated","id":n,"memory":{..}} | {.., "error":"..."}
    <- {"op":"unload","id":n,"gen":G}   -> {"op":"unloaded","id":n}
    <- {"op":"ping","id":n}             -> {"op":"pong","id":n}
    -> {"op":"refused","event":e,"detail":d,"at":[id,i]}  whenever the audit hook refuses

Every reply may carry "threads": k when strategy code left threads running.
It keeps every generation it was asked to load (the runner keeps two: current
and last-good) until it is told to unload one. It exits on EOF.
"""

from __future__ import annotations

import mmap
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from runner.host import codec, guard, market_wire
from runner.host.codec import Json
from state_store.view import View

Message = dict[str, Json]


def _reload_parts() -> Any:
    """runner.reload.loader without runner/reload/__init__.py, which imports the whole reloader.

    The host needs the loader and the contract check (pure code) but none of the
    reloader's threads, forkserver or watchers, so it registers a bare package
    for `runner.reload` before importing the two modules.
    """
    if "runner.reload" not in sys.modules:
        import runner

        package = ModuleType("runner.reload")
        package.__path__ = [str(Path(runner.__file__).parent / "reload")]
        sys.modules["runner.reload"] = package
    from runner.reload import loader

    return loader


class Host:
    def __init__(self, fd: int, progress: mmap.mmap) -> None:
        self.fd = fd
        self.progress = progress
        self.loader = _reload_parts()
        self.tree_module = sys.modules["runner.reload.tree"]
        self.markets = market_wire.MarketDecoder()
        self.versions: dict[str, Any] = {}  # generation -> runner.reload.model.CodeVersion
        self.handlers: Mapping[str, Callable[[Message], None]] = {
            "load": self.load,
            "decide": self.decide,
            "migrate": self.migrate,
            "unload": self.unload,
            "ping": self.ping,
        }

    # -- frames ---------------------------------------------------------------
    def send(self, message: Mapping[str, Json]) -> None:
        data = codec.reply_frame(message)
        while data:
            data = data[os.write(self.fd, data) :]

    def read(self) -> Message | None:
        header = self._read_exactly(codec.HEADER)
        if header is None:
            return None
        body = self._read_exactly(codec.frame_length(header))
        return None if body is None else codec.load_request(body)

    def _read_exactly(self, n: int) -> bytes | None:
        chunks, left = [], n
        while left:
            try:
                chunk = os.read(self.fd, min(left, 1 << 20))
            except ConnectionResetError:  # the runner closed its end (a candidate dropped)
                return None
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def serve(self) -> None:
        self.send({"op": "hello", "v": codec.WIRE_VERSION, "pid": os.getpid()})
        while (message := self.read()) is not None:
            handler = self.handlers.get(str(message.get("op")))
            if handler is not None:
                handler(message)

    def _threads(self, reply: Message) -> Message:
        alive = guard.threads_alive()
        if alive:
            reply["threads"] = alive
        return reply

    # -- operations -----------------------------------------------------------
    def ping(self, msg: Message) -> None:
        self.send(self._threads({"op": "pong", "id": msg["id"]}))

    def load(self, msg: Message) -> None:
        sources = {str(name): bytes(data) for name, data in msg["files"]}
        tree = self.tree_module.make_tree(Path(msg["dir"]), sources)
        reply: Message = {"op": "loaded", "id": msg["id"], "gen": msg["gen"], "problems": []}

        def progress(file: str) -> None:
            self.send({"op": "loading", "id": msg["id"], "file": file})

        try:
            version = self.loader.load_tree(
                tree, package_names=msg.get("package_names", ()), progress=progress
            )
        except self.loader.ValidationError as exc:
            reply["problems"] = [[p.file, p.line, p.message] for p in exc.problems]
        except BaseException as exc:  # still the tree's fault (MemoryError, RecursionError, ...)
            reply["problems"] = [["", None, f"loading crashed: {_exception_text(exc)}"]]
        else:
            reply["modules"] = list(version.modules)
            reply["strategies"] = self._describe(version, reply["problems"])
            if not reply["problems"]:
                self.versions[str(msg["gen"])] = version
            else:
                self.loader.unload(version.package)
        self.send(self._threads(reply))

    def _describe(self, version: Any, problems: list[Json]) -> dict[str, Json]:
        out: dict[str, Json] = {}
        for name, strategy in version.strategies.items():
            try:
                params = codec.encode_params(strategy.params)
            except codec.CodecError as exc:
                problems.append([f"{name}.py", None, f"PARAMS: {exc}"])
                continue
            out[name] = {
                "params": params,
                "memory_version": strategy.memory_version,
                "migrate": strategy.migrate is not None,
            }
        return out

    def decide(self, msg: Message) -> None:
        """Every call in order; one frame with all results at the end (one wake-up of the
        runner per tick). The call running is on the shared progress board, so a runner
        that has to kill this host knows which strategy hung or crashed it."""
        version = self.versions.get(str(msg["gen"]))
        began = time.perf_counter()
        try:
            markets = self.markets.decode(msg["markets"], msg["now"], msg["id"], msg.get("base"))
        except market_wire.OutOfSync as exc:
            self.send({"op": "resync", "id": msg["id"], "why": str(exc)[:300]})
            return
        results: list[Message] = []
        for index, (name, params, memory) in enumerate(msg["calls"], 1):
            self.progress[: codec.PROGRESS_BYTES] = codec.progress_value(msg["id"], index)
            reply: Message = {"name": name}
            strategy = version.strategies.get(name) if version is not None else None
            if strategy is None:
                reply["error"] = f"generation {msg['gen']} with strategy {name} is not loaded"
            else:
                view = View(
                    name,
                    msg["now"],
                    msg["tick"],
                    markets,
                    MappingProxyType(codec.decode_params(params)),
                    MappingProxyType(memory),
                )
                started = time.perf_counter()
                reply.update(_call_decide(strategy.decide, view))
                reply["s"] = round(time.perf_counter() - started, 6)
            results.append(self._threads(reply))
        self.send(
            {
                "op": "results",
                "id": msg["id"],
                "results": results,
                "s": round(time.perf_counter() - began, 6),
            }
        )

    def migrate(self, msg: Message) -> None:
        reply: Message = {"op": "migrated", "id": msg["id"]}
        version = self.versions.get(str(msg["gen"]))
        strategy = version.strategies.get(msg["name"]) if version is not None else None
        if strategy is None or strategy.migrate is None:
            reply["error"] = f"no migrate in {msg['name']} of generation {msg['gen']}"
        else:
            try:
                memory = strategy.migrate(MappingProxyType(msg["memory"]), int(msg["from"]))
                reply["memory"] = {str(k): str(v) for k, v in memory.items()}
            except BaseException as exc:
                reply["error"] = f"migrate raised {_exception_text(exc)}"
        self.send(self._threads(reply))

    def unload(self, msg: Message) -> None:
        version = self.versions.pop(str(msg["gen"]), None)
        if version is not None:
            self.loader.unload(version.package)
        self.send({"op": "unloaded", "id": msg["id"]})


def _call_decide(decide: Callable[[View], object], view: View) -> Message:
    try:
        result = decide(view)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are the strategy's too
        return {"error": f"raised {_exception_text(exc)}"}
    try:
        return {"decisions": codec.encode_decisions(result)}
    except BaseException as exc:
        return {"error": f"broke an invariant: {_exception_text(exc)}"}


def _exception_text(exc: BaseException) -> str:
    try:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    except BaseException:  # a hostile __str__
        text = type(exc).__name__
    return text[:500]


def main() -> None:
    """Entry point: `FD LIMITS ROOT PROGRESS_FD` (see HostProcess)."""
    fd, progress_fd = int(sys.argv[1]), int(sys.argv[4])
    memory_mb, cpu_seconds, open_files = (int(x) for x in sys.argv[2].split(","))
    guard.die_with_parent()
    progress = mmap.mmap(progress_fd, codec.PROGRESS_BYTES)
    os.close(progress_fd)
    guard.apply_limits(guard.HostLimits(memory_mb, cpu_seconds, open_files))
    guard.preload()
    host = Host(fd, progress)
    guard.arm(fd, progress)
    host.serve()
