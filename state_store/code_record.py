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
from pathlib import Path
from typing import Any, cast

import redis
from pydantic import BaseModel, ConfigDict

from state_store.keys import Keys

_JSON_FIELDS = ("files", "modules", "strategies")


class CodeRecord(BaseModel):
    """One published code generation (see the module doc for each field)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    generation: str
    seq: int
    git_sha: str = ""
    git_dirty: bool = False
    files: dict[str, str]
    modules: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    validated_at: float = 0.0
    marked_at: float = 0.0
    trigger: str = ""
    watcher: str = ""

    def to_fields(self) -> dict[str, str]:
        """Hash fields (without `seq`, which the publish script assigns)."""
        return {
            "generation": self.generation,
            "git_sha": self.git_sha,
            "git_dirty": "1" if self.git_dirty else "0",
            "files": json.dumps(self.files, sort_keys=True),
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
            data: dict[str, Any] = {k: v for k, v in fields.items() if k not in _JSON_FIELDS}
            data["files"] = json.loads(fields["files"])
            for key in ("modules", "strategies"):
                data[key] = json.loads(fields.get(key) or "[]")
            data["git_dirty"] = fields.get("git_dirty") == "1"
            for key in ("validated_at", "marked_at"):
                data[key] = fields.get(key) or 0
            return cls.model_validate(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"code record: {exc!r}") from exc

    def to_json(self) -> dict[str, Any]:
        """The JSON document of code.json."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Any) -> CodeRecord:
        """ValueError when `data` is not a record."""
        if not isinstance(data, dict):
            raise ValueError("code.json: not an object")
        return cls.model_validate(data)


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
