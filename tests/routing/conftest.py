"""The gateway test world (a gateway, the simulator, a catalog, an account and a key)."""

from tests.gateway.conftest import gateway_options, sim, simulator, world

__all__ = ["gateway_options", "sim", "simulator", "world"]
