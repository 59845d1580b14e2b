"""End to end: a `git pull` in a deploy checkout goes live on two runner processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from control.bench.deploy_rig import DeployRig, RigConfig
from state_store.keys import Keys
from state_store.manifest import recent


@pytest.mark.chaos
@pytest.mark.timeout(180)
def test_a_git_pull_is_confirmed_by_both_runners(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    with DeployRig(RigConfig(tmp_path, redis_url, replicas=2, tick_s=0.1)) as rig:
        deploy = rig.deploy(1)
        confirmed = rig.wait_confirmed(deploy.sha, 60.0)
        sections = rig.sections()

    assert sorted(confirmed) == ["r1", "r2"]
    for replica in ("r1", "r2"):
        code = sections[replica].code
        assert (code.git_sha, code.git_dirty) == (deploy.sha, False)
        log = (rig.logs / f"{replica}.log").read_text()
        assert f"adopted published generation {code.generation}" in log  # not revalidated
    manifest = recent(real_redis, Keys("default"), count=200)
    published = [e for e in manifest if e.kind == "published" and e.git_sha == deploy.sha]
    assert len(published) == 1 and published[0].replica == "watcher"
    generation = published[0].generation
    live = {e.replica for e in manifest if e.kind == "live" and e.generation == generation}
    assert live == {"r1", "r2"}
    assert not [e for e in manifest if e.kind in ("rejected", "mismatch", "rolled_back")]
