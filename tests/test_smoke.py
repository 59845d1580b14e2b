import redis


def test_real_redis_fixture_is_private(real_redis: redis.Redis, redis_url: str) -> None:
    assert ":6379" not in redis_url
    real_redis.set("k", "v")
    assert real_redis.get("k") == "v"


def test_fake_redis_runs_lua(fake_redis: redis.Redis) -> None:
    assert fake_redis.eval("return 1 + 1", 0) == 2
