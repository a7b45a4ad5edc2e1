"""Every periodic job, in one place."""

from typing import Any

SCHEDULE: dict[str, dict[str, Any]] = {}
