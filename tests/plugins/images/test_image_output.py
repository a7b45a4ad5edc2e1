"""Image output through the real gateway and simulator with the openai SDK: a model that draws
answers `modalities: ["image", "text"]` with a PNG that decodes, streamed and not, in the
OpenAI and Gemini wire formats, and is charged its catalog price per image."""

import base64
import struct
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from gateway.catalog import Pricing
from gateway.pricing import Usage, cost
from tests.gateway.conftest import NANOS, World, endpoint, model, running_world

GEMINI_IMAGE = "google/gemini-2.5-flash-image"
GPT_IMAGE = "openai/gpt-5-image-mini"
PRICES = {GEMINI_IMAGE: ("0.0000003", "0.0000025", "0.039"),
          GPT_IMAGE: ("0.0000025", "0.000002", "0.011")}


@pytest.fixture
def world(redis_client: Any, sim: str) -> Iterator[World]:
    def drawing(model_id: str, endpoint_id: int, provider: str, api_format: str) -> Any:
        prompt, completion, image = PRICES[model_id]
        ep = endpoint(sim, endpoint_id, provider, api_format, model_id.split("/")[1], prompt,
                      completion)
        ep["pricing"]["image_output"] = image
        raw = model(model_id, ep)
        raw["output_modalities"] = ["image", "text"]
        return raw

    models = {GEMINI_IMAGE: drawing(GEMINI_IMAGE, 1, "google-ai-studio", "gemini"),
              GPT_IMAGE: drawing(GPT_IMAGE, 2, "openai", "openai")}
    with running_world(redis_client, sim, models) as w:
        yield w


def decode_png(url: str) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of a PNG data URL, checking its structure."""
    assert url.startswith("data:image/png;base64,")
    data = base64.b64decode(url.split(",", 1)[1])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    chunks: dict[bytes, bytes] = {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    assert next(iter(chunks)) == b"IHDR" and list(chunks)[-1] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)  # 8-bit RGB
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + 3 * width)
    return width, height, raw


def price(model_id: str, usage: Any, images: int) -> int:
    prompt, completion, image = PRICES[model_id]
    total = (usage.prompt_tokens * Decimal(prompt) + usage.completion_tokens * Decimal(completion)
             + images * Decimal(image))
    return int(total * NANOS)


def ask(world: World, model_id: str, text: str = "Draw a lighthouse at dusk.",
        **extra: Any) -> Any:
    return world.client().chat.completions.create(
        model=model_id, messages=[{"role": "user", "content": text}], max_tokens=20,
        extra_body={"modalities": ["image", "text"]}, **extra)


def images_of(message: Any) -> list[dict[str, Any]]:
    return (message.model_extra or {}).get("images") or []


@pytest.mark.parametrize("model_id", [GEMINI_IMAGE, GPT_IMAGE])
def test_a_drawn_png_decodes_and_is_charged_its_price(world: World, model_id: str) -> None:
    answer = ask(world, model_id)
    message = answer.choices[0].message
    drawn = images_of(message)
    assert len(drawn) == 1 and drawn[0]["type"] == "image_url"
    width, height, _ = decode_png(drawn[0]["image_url"]["url"])
    assert width == height == 64
    assert message.content  # text next to the image
    expected = price(model_id, answer.usage, 1)
    assert round(answer.usage.cost * NANOS) == expected
    event = next(e for e in world.events() if e["id"] == answer.id)
    assert event["cost_nanos"] == expected
    assert world.account()["spent"] == expected


@pytest.mark.parametrize("model_id", [GEMINI_IMAGE, GPT_IMAGE])
def test_streamed_image(world: World, model_id: str) -> None:
    chunks = list(ask(world, model_id, stream=True))
    drawn = [image for c in chunks if c.choices for image in images_of(c.choices[0].delta)]
    assert len(drawn) == 1
    decode_png(drawn[0]["image_url"]["url"])
    usage = chunks[-1].usage
    assert round(usage.cost * NANOS) == price(model_id, usage, 1)
    assert world.account()["spent"] == price(model_id, usage, 1)


def test_same_prompt_same_image_other_prompt_other_image(world: World) -> None:
    first = images_of(ask(world, GEMINI_IMAGE).choices[0].message)[0]["image_url"]["url"]
    again = images_of(ask(world, GEMINI_IMAGE).choices[0].message)[0]["image_url"]["url"]
    other = images_of(ask(world, GEMINI_IMAGE, "Draw a cat.").choices[0].message)
    assert first == again
    assert decode_png(first)[2] != decode_png(other[0]["image_url"]["url"])[2]


def test_without_image_modality_only_text_is_charged(world: World) -> None:
    answer = world.client().chat.completions.create(
        model=GEMINI_IMAGE, messages=[{"role": "user", "content": "Describe a lighthouse."}],
        max_tokens=20)
    assert not images_of(answer.choices[0].message)
    assert round(answer.usage.cost * NANOS) == price(GEMINI_IMAGE, answer.usage, 0)


def test_image_output_price_in_the_cost_rule() -> None:
    pricing = Pricing.parse({"prompt": "0.0000003", "completion": "0.0000025",
                             "image_output": "0.039"})
    assert pricing.image_output == Decimal("0.039")
    ep: Any = type("Ep", (), {"pricing": pricing, "byok": None})()
    charged = cost(ep, Usage(prompt_tokens=10, completion_tokens=4, images_out=2))
    assert charged.total == Decimal("0.0780130")
