"""Test-side name for the private redis-server launcher."""

from state_store.private_redis import RedisProcess, free_port

__all__ = ["RedisProcess", "free_port"]
