"""/openapi.json documents a response schema for every /api route (not an empty, any-value one)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

METHODS = ("get", "post", "put", "patch", "delete")


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = spec["components"]["schemas"][name]
    return schema


def success_schemas(spec: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`METHOD /path` -> (media type, resolved schema) of its 2xx answer, for every /api route."""
    out = {}
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            if method not in item:
                continue
            responses = item[method]["responses"]
            ok: dict[str, Any] = next(
                (responses[c] for c in sorted(responses) if c.startswith("2")), {}
            )
            content: dict[str, Any] = ok.get("content", {})
            media, body = next(iter(content.items()), ("", dict[str, Any]()))
            out[f"{method.upper()} {path}"] = (media, resolve(body.get("schema", {}), spec))
    return out


def test_every_api_route_documents_its_response(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = success_schemas(spec)
    assert len(schemas) >= 11, sorted(schemas)  # the contract's routes, each method counted
    for route, (media, schema) in schemas.items():
        assert media, f"{route}: no response content"
        assert schema.get("type") or schema.get("anyOf") or schema.get("oneOf"), (
            f"{route}: its response schema is empty (any value): {schema}"
        )
        if media == "application/json":
            assert schema.get("type") == "object" and schema.get("properties"), route
            assert schema.get("required"), f"{route}: nothing is required of its answer"


def test_the_records_inside_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    status = success_schemas(spec)["GET /api/status"][1]
    runner = resolve(status["properties"]["runners"]["items"], spec)
    assert {"replica", "alive", "tick", "heartbeat_age_s"} <= set(runner["properties"])
    reload = resolve(status["properties"]["reloads"]["items"], spec)
    assert {"ts", "kind", "ok", "generation", "replica", "tick"} <= set(reload["properties"])
    audit = resolve(status["properties"]["audit"]["items"], spec)
    assert {"ts", "who", "command", "old_version", "new_version"} <= set(audit["properties"])
    control = resolve(status["properties"]["control"], spec)
    assert {"version", "paused", "entries_allowed", "in_sync"} <= set(control["properties"])
    command = success_schemas(spec)["POST /api/pause"][1]
    state = resolve(command["properties"]["state"], spec)
    assert {"version", "paused", "killed", "config"} <= set(state["properties"])
