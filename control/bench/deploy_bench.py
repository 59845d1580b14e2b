"""`neverblink bench deploy`: deploy hook fired -> last replica confirmed the new SHA.

A real set-up (bench.deploy_rig): a private redis-server, the paper venue,
`neverblink watch` and N `neverblink run` replicas as processes, all on one
deploy checkout with the hooks of deploy/hooks. Each deploy commits a change
to the strategies' shared helper in the origin and runs `git pull` in the
deploy checkout; post-merge writes the marker with its own timestamp. The
sample is the time from that timestamp to the latest `heartbeat` among the
replicas' first status.json sections whose `code.git_sha` is the new SHA
(status.json is polled every 5 ms; a missed first section can only make the
sample longer). A random pause of up to one tick between deploys spreads them
over the tick phase. Runners run with `--probation 0` (see RigConfig.probation:
an overrun under load would otherwise roll a good deploy back before its
status shows it). `hook_to_published` splits off the watcher's share: the
published record's `validated_at` minus the hook's timestamp.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from control.bench.deploy_rig import DeployRig, RigConfig
from control.bench.stats import summary_ms
from state_store.keys import Keys

CONFIRM_TIMEOUT_S = 30.0


def run_deploy_bench(
    redis_url: str, deploys: int = 50, replicas: int = 2, tick_s: float = 0.1
) -> dict[str, Any]:
    """p50/p99 of hook -> last replica confirmed (and of `git pull` start -> confirmed)."""
    rng = random.Random(5)
    hook: list[float] = []
    pull: list[float] = []
    watcher: list[float] = []
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    code_key = Keys("default").code
    with tempfile.TemporaryDirectory(prefix="nb-bench-deploy-") as tmp:
        config = RigConfig(Path(tmp), redis_url, replicas=replicas, tick_s=tick_s)
        with DeployRig(config) as rig:
            for n in range(1, deploys + 1):
                time.sleep(rng.uniform(0, tick_s))
                deploy = rig.deploy(n)
                seen = rig.wait_confirmed(deploy.sha, CONFIRM_TIMEOUT_S)
                last = max(seen.values())
                hook.append(last - deploy.marked_at)
                pull.append(last - deploy.pull_started)
                validated = float(client.hget(code_key, "validated_at") or "nan")
                watcher.append(validated - deploy.marked_at)
    client.close()
    return {
        "deploys": deploys,
        "replicas": replicas,
        "tick_s": tick_s,
        "hook_to_last_confirmed": summary_ms(hook),
        "pull_to_last_confirmed": summary_ms(pull),
        "hook_to_published": summary_ms(watcher),
    }
