"""The publisher: one validated code generation per complete tree, for every replica.

One per bot at any time, whoever holds the lease `nb:{B}:watcher`: a
`neverblink watch` process, or else one runner, which runs the same
`Publisher` on a thread (runner.build); the others are standbys.

Modules (each one concept):

- `gitstate`   what git says about the checkout: HEAD, index.lock, the deploy marker,
               the committed blob ids of the strategies folder
- `gate`       is the folder a complete tree right now? (hold / unsettled / complete)
- `source`     watchfiles in a thread: every event only marks the tree dirty
- `lease`      the one-publisher-per-bot lease `nb:{B}:watcher`, renewed by a thread
- `writer`     the publish and reject scripts (fenced by the lease): record + manifest entry
- `publisher`  the loop: events, rescans, reload requests, validate once, publish

Runners adopt what is published through `runner.published.sync_published` and
`runner.reload.Reloader.adopt`. The protocol is described in deploy/README.md
("How a change goes live"). The record itself is state_store.code_record.
"""
