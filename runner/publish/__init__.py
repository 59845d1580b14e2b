"""The reload watcher: one validated code generation per complete tree, for every replica.

    neverblink watch     # one per bot; a second one waits as a standby

Modules (each one concept):

- `record`    the published generation (`nb:{B}:code` hash, `<home>/code.json`)
- `gitstate`  what git says about the checkout: HEAD, index.lock, the deploy marker,
              the committed blob ids of the strategies folder
- `gate`      is the folder a complete tree right now? (hold / unsettled / complete)
- `source`    watchfiles in a thread: every event only marks the tree dirty
- `lease`     the one-watcher-per-bot lease `nb:{B}:watcher`, renewed by a thread
- `publish`   the publish script (fenced by the lease): record + manifest entry
- `watcher`   the loop: events, rescans, reload requests, validate once, publish

The protocol between the watcher and the runners is described in
deploy/README.md ("How a change goes live"). Runners follow through
`runner.published.sync_published` and `runner.reload.Reloader.follow`.

This package imports nothing heavy at import time, so runners can read
`state_store.code_record` cheaply.
"""
