"""Image output: models that draw (output modalities include `image`) answer with
`message.images` (streamed as `delta.images`), each `{"type": "image_url", "image_url":
{"url": "data:image/png;base64,..."}}`, when asked with `modalities: ["image", "text"]`.

Each image drawn is charged the endpoint's `image_output` price (USD per image, catalog
`pricing.image_output`), on top of the text tokens; the hold counts `HELD` images on endpoints
that have that price, so a generation cannot cost more than was held.
"""

from typing import Any

from gateway.catalog import Endpoint

# Images one answer may draw, for the hold (Gemini and GPT image models draw one per turn
# unless asked for more in words; four leaves room for that).
HELD = 4


def wanted(body: dict[str, Any]) -> bool:
    modalities = body.get("modalities")
    return isinstance(modalities, list) and "image" in modalities


def held(endpoint: Endpoint) -> int:
    return HELD if endpoint.pricing.image_output else 0


def data_url(mime: str, data: str) -> dict[str, Any]:
    """An image part as the answer carries it."""
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def count(message: dict[str, Any]) -> int:
    """Images in a message or a delta."""
    images = message.get("images")
    return len(images) if isinstance(images, list) else 0
