"""The `openrouter` SDK's chat.send parses the gateway's answers."""

from openrouter import OpenRouter

from tests.gateway.conftest import ONE_PER_FORMAT, World


def test_openrouter_sdk_chat_send(world: World):
    with OpenRouter(api_key=world.key, server_url=world.url + "/api/v1") as client:
        result = client.chat.send(model=ONE_PER_FORMAT[2], max_tokens=30,
                                  messages=[{"role": "user", "content": "Hello"}])
        assert result.id.startswith("gen-")
        assert result.choices[0].message.content
        assert result.usage is not None and result.usage.total_tokens > 0

        chunks = list(client.chat.send(model=ONE_PER_FORMAT[0], max_tokens=30, stream=True,
                                       messages=[{"role": "user", "content": "Hello"}]))
        assert chunks and chunks[-1].usage is not None
