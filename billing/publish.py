"""What billing publishes to Redis for the gateway: each account's provider keys (BYOK), as
ciphertext. `python manage.py publish_state` calls `publish_state()` of every app."""

from billing import byok


def publish_state() -> str:
    return f"provider keys of {byok.publish_all()} accounts published"
