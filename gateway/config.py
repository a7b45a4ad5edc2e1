"""The gateway's settings, read once from the environment."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    redis_url: str

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:63790/0"))
