"""What a strategy host said, as records the runner can act on; built from untrusted replies.

Every function here reads a decoded JSON reply (plain values only, see codec)
and checks each field before a record is built from it: a host that sends
garbage produces a `protocol` fault, never an exception in the runner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from runner.host import codec
from runner.host.codec import Json
from runner.reload.model import Problem
from state_store.models import Intent
from state_store.view import Remember

FaultKind = Literal["hung", "exited", "refused", "threads", "protocol"]
RESTARTING_FAULTS = frozenset({"hung", "exited", "threads", "protocol"})

Message = dict[str, Json]


@dataclass(frozen=True)
class HostFault:
    """Strategy code did something the host does not survive or allow; `generation` did it
    ("" when no strategy code is to blame, e.g. a host that used up its lifetime CPU)."""

    kind: FaultKind
    generation: str
    strategy: str  # "" during a load
    detail: str

    def __str__(self) -> str:
        who = f"{self.strategy} of {self.generation}" if self.strategy else self.generation
        return f"{who}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class StrategyInfo:
    """A strategy of a loaded generation, as its host described it."""

    name: str
    params: Mapping[str, object]
    memory_version: int
    has_migrate: bool


@dataclass(frozen=True)
class LoadResult:
    generation: str
    problems: tuple[Problem, ...]
    modules: tuple[str, ...] = ()
    strategies: Mapping[str, StrategyInfo] = field(default_factory=dict)
    fault: HostFault | None = None
    dry_call_errors: Mapping[str, str] = field(default_factory=dict)  # shown, not fatal
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def timed(self, seconds: float) -> LoadResult:
        return dataclasses.replace(self, seconds=seconds)


@dataclass(frozen=True)
class CallResult:
    name: str
    decisions: tuple[Intent | Remember, ...] = ()
    error: str = ""
    not_run: bool = False  # cut off because of another strategy, or the host was not ready
    seconds: float = 0.0  # decide's own time, as the host measured it (for status and bench)


@dataclass
class DecideReport:
    results: dict[str, CallResult]
    faults: list[HostFault]
    restarted: bool = False
    host_seconds: float = 0.0  # the host's decoding + every decide, as it measured them

    @property
    def needs_restart(self) -> bool:
        return any(f.kind in RESTARTING_FAULTS for f in self.faults)


# -- loads -----------------------------------------------------------------------------


def load_failed(generation: str, fault: HostFault, file: str) -> LoadResult:
    return LoadResult(
        generation, (Problem(file, None, f"{fault.kind}: {fault.detail}"),), fault=fault
    )


def loaded(generation: str, msg: Message, refused: Sequence[str]) -> LoadResult:
    """A `loaded` reply as a LoadResult; codec.CodecError when it is malformed."""
    try:
        problems = [
            Problem(str(f)[:200], _line(ln), str(m)[:2000])
            for f, ln, m in codec.as_sequence(msg.get("problems"))
        ]
    except (TypeError, ValueError) as exc:
        raise codec.CodecError(f"bad problems: {exc}"[:200]) from None
    problems += [Problem("", None, f"refused: {r}") for r in refused]
    threads = msg.get("threads")
    if threads:
        problems.append(Problem("", None, f"started {threads} thread(s) while importing"))
    if problems:
        return LoadResult(generation, tuple(problems))
    modules = codec.strings(msg.get("modules"), "modules")
    return LoadResult(generation, (), modules, strategies(msg.get("strategies")))


def strategies(data: Json) -> dict[str, StrategyInfo]:
    if not isinstance(data, dict):
        raise codec.CodecError("strategies are not an object")
    out = {}
    for name, info in data.items():
        if not isinstance(name, str) or not name.isidentifier() or not isinstance(info, dict):
            raise codec.CodecError(f"bad strategy entry {str(name)[:40]!r}")
        version = info.get("memory_version")
        if type(version) is not int or version < 0:
            raise codec.CodecError(f"bad memory_version of {name}")
        params = codec.decode_params(info.get("params"))
        out[name] = StrategyInfo(name, params, version, bool(info.get("migrate")))
    return out


# -- decides ---------------------------------------------------------------------------


def results(
    generation: str, names: list[str], msg: Message, refused: Mapping[str, list[str]]
) -> DecideReport:
    """A `results` reply (one entry per call, in order) and the refusals seen meanwhile."""
    faults: list[HostFault] = []
    replies = msg.get("results")
    if not isinstance(replies, list) or len(replies) != len(names):
        fault = HostFault("protocol", generation, "", "results do not match the calls")
        return DecideReport({n: CallResult(n, error=str(fault)) for n in names}, [fault])
    out = {
        name: _result(generation, name, reply, refused.get(name), faults)
        for name, reply in zip(names, replies, strict=True)
    }
    for name in set(refused) - set(names):  # refused while no call ran (decoding the views)
        faults.append(HostFault("refused", generation, name, "; ".join(refused[name])))
    return DecideReport(out, faults, host_seconds=seconds(msg.get("s")))


def _result(
    generation: str, name: str, msg: Json, refused: list[str] | None, faults: list[HostFault]
) -> CallResult:
    if not isinstance(msg, dict) or msg.get("name") != name:
        faults.append(HostFault("protocol", generation, name, "results out of order"))
        return CallResult(name, error="the host answered out of order")
    if refused:
        faults.append(HostFault("refused", generation, name, "; ".join(refused)[:500]))
        return CallResult(name, error=f"refused: {'; '.join(refused)}"[:500])
    if msg.get("threads"):
        detail = f"left {msg['threads']} thread(s) running"
        faults.append(HostFault("threads", generation, name, detail))
        return CallResult(name, error=detail)
    if "error" in msg:
        return CallResult(name, error=str(msg["error"])[:500])
    try:
        decisions = tuple(codec.decode_decisions(msg.get("decisions")))
    except codec.CodecError as exc:
        return CallResult(name, error=f"broke an invariant: {exc}")
    return CallResult(name, decisions, seconds=seconds(msg.get("s")))


def cut_off(names: list[str], faults: list[HostFault]) -> DecideReport:
    """The report of a call the host did not finish: the culprit failed, the rest not run."""
    out: dict[str, CallResult] = {}
    for fault in faults:
        if fault.strategy:
            error = f"{fault.kind}: {fault.detail}; host killed and restarted"
            out[fault.strategy] = CallResult(fault.strategy, error=error)
    why = "not run: the host was killed and restarted because of another strategy"
    for name in names:
        out.setdefault(name, CallResult(name, error=why, not_run=True))
    return DecideReport(out, faults)


def not_run(names: Sequence[str], why: str) -> DecideReport:
    return DecideReport({n: CallResult(n, error=why, not_run=True) for n in names}, [])


# -- small fields ----------------------------------------------------------------------


def blamed(at: Json, request_id: int, names: list[str]) -> str:
    """The strategy that was running when the audit hook refused something ("" if none)."""
    if isinstance(at, list) and len(at) == 2 and at[0] == request_id % 2**32:
        index = at[1]
        if isinstance(index, int) and 0 < index <= len(names):
            return names[index - 1]
    return ""


def refusal(msg: Message) -> str:
    return f"{str(msg.get('event'))[:60]} {str(msg.get('detail'))[:200]}".strip()


def seconds(value: Json) -> float:
    return float(value) if isinstance(value, int | float) and 0 <= value < 1e6 else 0.0


def _line(value: Json) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
