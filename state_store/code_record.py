"""The published code generation: hash `nb:{B}:code` and its mirror `<home>/code.json`.

Flat, human-readable hash fields (`redis-cli HGETALL 'nb:{default}:code'`):

    generation    tree hash (runner.reload.tree.generation_of): the same bytes under
                  the same names give the same generation on every host
    seq           publish counter, +1 on every publish (a forced reload republishes
                  an unchanged tree with a new seq)
    git_sha       HEAD of the checkout when the tree was validated ("" outside git)
    git_dirty     1 when the tree differs from HEAD's committed files
    files         JSON {relpath: sha256}
    modules       JSON [module, ...] in load order
    strategies    JSON [name, ...] modules that define decide
    validated_at  unix time the validation finished
    marked_at     unix time the deploy hook marked HEAD complete (0: not a deploy)
    trigger       why: "deploy", "save", "reload", "rescan" or "start"
    watcher       <host>:<pid> of the watcher that published it
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import redis

from state_store.keys import Keys

_JSON_FIELDS = ("files", "modules", "strategies", "validated_at", "marked_at", "git_dirty")


@dataclass(frozen=True)
class CodeRecord:
    generation: str
    seq: int
    git_sha: str
    git_dirty: bool
    files: Mapping[str, str]
    modules: tuple[str, ...]
    strategies: tuple[str, ...]
    validated_at: float
    marked_at: float = 0.0
    trigger: str = ""
    watcher: str = ""

    def to_fields(self) -> dict[str, str]:
        """Hash fields (without `seq`, which the publish script assigns)."""
        return {
            "generation": self.generation,
            "git_sha": self.git_sha,
            "git_dirty": "1" if self.git_dirty else "0",
            "files": json.dumps(dict(self.files), sort_keys=True),
            "modules": json.dumps(list(self.modules)),
            "strategies": json.dumps(list(self.strategies)),
            "validated_at": f"{self.validated_at:.3f}",
            "marked_at": f"{self.marked_at:.3f}",
            "trigger": self.trigger,
            "watcher": self.watcher,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> CodeRecord:
        """ValueError when a field is missing or malformed."""
        try:
            return cls(
                generation=fields["generation"],
                seq=int(fields["seq"]),
                git_sha=fields.get("git_sha", ""),
                git_dirty=fields.get("git_dirty") == "1",
                files=MappingProxyType(_str_map(json.loads(fields["files"]))),
                modules=tuple(json.loads(fields.get("modules") or "[]")),
                strategies=tuple(json.loads(fields.get("strategies") or "[]")),
                validated_at=float(fields.get("validated_at") or 0),
                marked_at=float(fields.get("marked_at") or 0),
                trigger=fields.get("trigger", ""),
                watcher=fields.get("watcher", ""),
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"code record: {exc!r}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.to_fields().items() if k not in _JSON_FIELDS},
            "seq": self.seq,
            "git_dirty": self.git_dirty,
            "files": dict(self.files),
            "modules": list(self.modules),
            "strategies": list(self.strategies),
            "validated_at": self.validated_at,
            "marked_at": self.marked_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> CodeRecord:
        """ValueError when `data` is not a record."""
        if not isinstance(data, dict):
            raise ValueError("code.json: not an object")
        fields = {
            k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in data.items()
        }
        fields["git_dirty"] = "1" if data.get("git_dirty") is True else "0"
        return cls.from_fields(fields)


def _str_map(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise TypeError("files is not an object")
    return {str(k): str(v) for k, v in data.items()}


def read_record(client: redis.Redis, keys: Keys) -> CodeRecord | None:
    """The published record in Redis; None when nothing is published (or it is malformed)."""
    fields = cast(dict[str, str], client.hgetall(keys.code))
    if not fields:
        return None
    try:
        return CodeRecord.from_fields(fields)
    except ValueError:
        return None


def read_record_file(path: Path) -> CodeRecord | None:
    """`<home>/code.json`; None when absent or not a record."""
    try:
        return CodeRecord.from_json(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None
