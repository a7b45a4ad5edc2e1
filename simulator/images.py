"""The images the simulator "draws": a deterministic PNG made from the prompt.

Written with zlib and struct only (no image library): 8-bit RGB, one IDAT chunk. The picture
is a grid of coloured tiles whose colours come from a hash of the prompt, so the same prompt
always gives the same bytes and different prompts give visibly different images.
"""

import base64
import hashlib
import struct
import zlib

SIZE = 64  # pixels per side
TILES = 8  # tiles per side
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def render_png(prompt: str, size: int = SIZE) -> bytes:
    digest = hashlib.sha256(prompt.encode()).digest()
    # 64 tile colours from the digest, stretched by hashing it again.
    palette = digest + hashlib.sha256(digest).digest()
    tile = max(1, size // TILES)
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            i = ((y // tile) * TILES + x // tile) % (len(palette) // 3)
            r, g, b = palette[3 * i: 3 * i + 3]
            rows += bytes((r, g, b))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows))) \
        + _chunk(b"IEND", b"")


def render_b64(prompt: str) -> str:
    return base64.b64encode(render_png(prompt)).decode()
