"""The routing gateway: a lean ASGI service. It never imports Django (see docs/gateway-state.md)."""
