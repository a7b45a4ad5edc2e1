"""The plugin tests share the gateway world of tests/gateway: a gateway on this worker's Redis,
a private simulator, the default catalog, an account with $10 and one key."""

from tests.gateway.conftest import (  # noqa: F401  (fixtures)
    gateway_options,
    sim,
    simulator,
    world,
)
