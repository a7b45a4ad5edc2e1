"""Images as URLs and as data URIs reach every wire format."""

import base64

import pytest

from simulator.testing import recent_requests
from tests.gateway.conftest import ONE_PER_FORMAT, World

# The smallest valid PNG: the simulator checks the magic bytes of inline images.
PNG = base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                  "0000000d4944415478da6360000002000154a24f5f0000000049454e44ae426082")
).decode()


@pytest.mark.parametrize("model", ONE_PER_FORMAT)
@pytest.mark.parametrize("url", ["https://example.com/cat.png", f"data:image/png;base64,{PNG}"])
def test_image_parts_are_accepted_and_counted(world: World, model: str, url: str):
    completion = world.client().chat.completions.create(
        model=model, max_tokens=20,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]}],
    )
    assert completion.choices[0].message.content
    without = world.client().chat.completions.create(
        model=model, max_tokens=20,
        messages=[{"role": "user", "content": "What is in this picture?"}])
    # The simulator prices an image as a fixed number of prompt tokens.
    assert completion.usage.prompt_tokens > without.usage.prompt_tokens
    assert all(r["status"] == 200 for r in recent_requests(world.sim))
