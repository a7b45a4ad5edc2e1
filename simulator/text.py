"""Deterministic text generator and the simulator's tokenizer.

Tokenizer (shared by every simulated provider, so usage numbers are predictable):
a token is either a run of 1-8 letters/digits/underscores, or one other non-space
character; whitespace in front of a token belongs to that token and trailing
whitespace is free. ``"Hello, world!"`` is 4 tokens: ``Hello`` ``,`` `` world`` ``!``.

The generator only emits pieces that are exactly one token each, so the completion
token count is always the number of pieces produced, and re-tokenizing the text
gives the same number (unless a stop sequence cut a piece in half).
"""

from __future__ import annotations

import hashlib
import random
import re

import orjson

TOKEN_RE = re.compile(r"\s*(?:\w{1,8}|[^\w\s])")

# Every word is at most 8 characters so that " word" stays one token.
_VOCABULARY = (
    "the a of and to in is that it for on with as was by be this are from at or an not "
    "but have can will which their one all were when there been has more if some would "
    "what so about into than them only other its time new could these two may first then "
    "way like use each many most such well also because river stone cloud signal garden "
    "market bridge engine forest silver harbor lantern orbit meadow copper thunder velvet "
    "marble pepper falcon tunnel quiet bright gentle rapid simple hidden golden narrow "
    "distant steady builds carries follows measures reaches returns shapes travels "
    "explains routes tokens models answers streams packets servers request latency"
)
WORDS = tuple(_VOCABULARY.split())


def count_tokens(text: str) -> int:
    return len(TOKEN_RE.findall(text))


def split_tokens(text: str) -> list[str]:
    """Cut ``text`` into one-token pieces whose concatenation is ``text``.

    Trailing whitespace (which the tokenizer does not count) is glued onto the last piece.
    """
    pieces = TOKEN_RE.findall(text)
    consumed = sum(len(p) for p in pieces)
    if consumed < len(text):
        if pieces:
            pieces[-1] += text[consumed:]
        else:
            pieces = [text]
    return pieces


def seed_from(*parts: object) -> int:
    """A stable 64-bit seed from any JSON-serialisable parts (Python's hash() is salted)."""
    raw = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS, default=str)
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


def generate_pieces(rng: random.Random, n_tokens: int) -> list[str]:
    """``n_tokens`` one-token pieces of plausible-looking English-ish prose."""
    pieces: list[str] = []
    sentence_left = 0
    start = True
    while len(pieces) < n_tokens:
        if sentence_left == 0 and not start:
            # Closing punctuation is its own token.
            pieces.append("." if rng.random() < 0.85 else "!")
            sentence_left = rng.randint(6, 16)
            start = True
            continue
        if start and sentence_left == 0:
            sentence_left = rng.randint(6, 16)
        word = rng.choice(WORDS)
        if start:
            word = word.capitalize()
            start = False
        elif sentence_left > 3 and rng.random() < 0.07:
            pieces.append(",")
            continue
        pieces.append(word if not pieces else " " + word)
        sentence_left -= 1
    # End on a full stop when there is room, so unconstrained answers read as sentences.
    if pieces and n_tokens > 1 and pieces[-1] not in {".", "!"}:
        pieces[-1] = "."
    return pieces
