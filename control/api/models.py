"""Request bodies: strict, closed (unknown fields are a 422), small."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Scalar = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=1000)]
MAX_VALUES = 100


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class ReloadBody(_Body):
    """`{}` reloads every strategy; `{"module": "momentum"}` names the changed module."""

    module: Name | None = None


class ConfigPatch(_Body):
    """Override PARAMS: `{"values": {"momentum": {"size": 7}}}`, or one value as
    `{"strategy": "momentum", "key": "size", "value": 7}`. Values are typed like
    the PARAMS default (`"7"` becomes 7 for an int parameter); a bad one is a 422."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"strategy": "momentum", "key": "size", "value": 7}]}
    )

    values: dict[Name, dict[Name, Scalar]] | None = None
    strategy: Name | None = None
    key: Name | None = None
    value: Scalar | None = None

    @model_validator(mode="after")
    def one_form(self) -> ConfigPatch:
        single = (self.strategy, self.key, self.value)
        if self.values is not None:
            if any(v is not None for v in single):
                raise ValueError("give either values or strategy/key/value, not both")
            count = sum(len(kv) for kv in self.values.values())
            if not count or count > MAX_VALUES:
                raise ValueError(f"values must hold 1 to {MAX_VALUES} parameters")
        elif any(v is None for v in single):
            raise ValueError("give values, or all of strategy, key and value")
        return self

    def as_values(self) -> dict[str, dict[str, Any]]:
        if self.values is not None:
            return {name: dict(kv) for name, kv in self.values.items()}
        assert self.strategy is not None and self.key is not None
        return {self.strategy: {self.key: self.value}}


class RiskPatch(_Body):
    """Set risk limits: `{"values": {"bot": {"max_shares": 200}}}`, or one limit as
    `{"scope": "bot", "limit": "max_shares", "value": 200}`. A scope is `bot` or a
    strategy; values are typed like the limit's default; a bad one is a 422."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"scope": "bot", "limit": "max_shares", "value": 200}]}
    )

    values: dict[Name, dict[Name, Scalar]] | None = None
    scope: Name | None = None
    limit: Name | None = None
    value: Scalar | None = None

    @model_validator(mode="after")
    def one_form(self) -> RiskPatch:
        single = (self.scope, self.limit, self.value)
        if self.values is not None:
            if any(v is not None for v in single):
                raise ValueError("give either values or scope/limit/value, not both")
            count = sum(len(kv) for kv in self.values.values())
            if not count or count > MAX_VALUES:
                raise ValueError(f"values must hold 1 to {MAX_VALUES} limits")
        elif any(v is None for v in single):
            raise ValueError("give values, or all of scope, limit and value")
        return self

    def as_values(self) -> dict[str, dict[str, Any]]:
        if self.values is not None:
            return {scope: dict(kv) for scope, kv in self.values.items()}
        assert self.scope is not None and self.limit is not None
        return {self.scope: {self.limit: self.value}}
