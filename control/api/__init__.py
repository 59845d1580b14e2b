"""Mission Control: the HTTP control API and the live dashboard (`neverblink serve`).

Routes are thin: every read and every command goes through the same
`ControlService` as `neverblink ctl`, so the API and the CLI cannot disagree.

Auth. Every mutating route (POST/PATCH) needs `Authorization: Bearer <token>`
(`Settings.api_token()`: NEVERBLINK_API_TOKEN, else `<home>/api_token`, 0600),
compared in constant time; a missing or malformed header is 401, a wrong
token 403. Reads (GET routes, `/api/events`, `/metrics`) are open by default,
as the interface contract says; `private_reads` (`serve --private-reads`)
puts them behind the token too. `/api/events` is read by the browser's
EventSource, which cannot send headers: with private reads it accepts the
token as `?token=` (and `serve` then turns uvicorn's access log off so the
token is never logged). `/healthz`, `/openapi.json` and the dashboard's own
files are always open; the dashboard holds no data until it calls the API.

Redis down: reads answer from status.json / control.json with `"plane":
"file"` and a `note`; commands write control.json alone (the service's
`plane`, `message` and `warnings` are passed through).

Live updates (`/api/events`, server-sent events): each connection has its own
`Poller`, which reads the same sources as the GET routes every
`poll_interval_s` on a worker thread and sends only what changed (see
`control.api.sse`).
"""

from control.api.app import create_app
from control.api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
