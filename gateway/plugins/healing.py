"""Response healing: a model's almost-JSON answer made into JSON (reference §21.3).

Runs when `response_format` asks for JSON (`json_object`, `json_schema`) and whenever the
`response-healing` plugin is named. Fixes what models get wrong: prose or a markdown fence
around the value, text after it, single-quoted strings, unquoted keys, Python's True/False/None,
trailing or missing commas, and an answer that stopped before closing its strings and brackets.
An answer cut by `max_tokens` (finish reason `length`) is not closed, as the reference says:
that would pass off half an answer as a whole one (non-streamed it is left exactly as it came;
streamed, what already went out was repaired as it went, and nothing is added at the end).

`Healer` is a left-to-right transducer that never takes back what it emitted, so a stream is
healed as it flows: each delta's text goes through `feed`, which returns the part of the
repaired JSON that is certain, and `finish` returns the rest (closing quotes and brackets). A
streamed client therefore receives valid JSON in its deltas, with at most a short tail held back
(a comma, a key until its colon, a number or a word until it ends). Text before the first `{`
or `[` is held back until one appears, since it may be prose or a fence to drop.
"""

from typing import TYPE_CHECKING

import orjson

JSON_FORMATS = frozenset({"json_object", "json_schema"})
PLUGIN_ID = "response-healing"
WORDS = {"true": "true", "false": "false", "null": "null", "True": "true", "False": "false",
         "None": "null", "NaN": "null", "Infinity": "null", "undefined": "null"}
NUMBER_START = "-0123456789"
NUMBER_CHARS = frozenset("0123456789+-.eE")
CLOSERS = {"{": "}", "[": "]"}


def is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def heal(text: str) -> str | None:
    """The repaired JSON text, or None when `text` is already JSON or cannot be repaired."""
    if is_json(text):
        return None
    healer = Healer()
    out = healer.feed(text) + healer.finish()
    return out if healer.started and is_json(out) else None


class Healer:
    """Incremental repair; see the module docstring. `changed` says whether the emitted text
    differs from the input's JSON value (not counting the whitespace around it)."""

    def __init__(self) -> None:
        self.started = False      # seen the first { or [
        self.ended = False        # the top-level value closed: the rest is dropped
        self.stack: list[str] = []  # "{" / "[" open containers
        self.expect = "value"     # value | key | colon | comma (after a value or key)
        self.pending = ""         # held back: may still change or disappear
        self.quote: str | None = None  # inside a string opened by this quote character
        self.string_is_key = False
        self.escape = False
        self.word = ""            # a number or bare word being read
        self.ended_input = False  # finish() was called: a word may be cut short
        self.raw: list[str] = []  # the input, to tell whether anything changed
        self.emitted: list[str] = []

    # -- public ----------------------------------------------------------------------------

    def feed(self, chunk: str) -> str:
        self.raw.append(chunk)
        out: list[str] = []
        for ch in chunk:
            if self.ended:
                break
            self._char(ch, out)
        text = "".join(out)
        self.emitted.append(text)
        return text

    def finish(self) -> str:
        """The text that closes what is still open (empty if the value was complete)."""
        out: list[str] = []
        if not self.started:
            # Nothing that looks like JSON: hand back the input unchanged.
            text = "".join(self.raw)
            self.emitted.append(text)
            return text
        if not self.ended:
            if self.quote is not None:
                self.escape = False  # a dangling backslash was never emitted
                out.append(self.pending + '"')
                self.pending = ""
                was_key = self.string_is_key
                self.quote = None
                if was_key:
                    out.append(":null")
                else:
                    self._after_value()
            elif self.word:
                self.ended_input = True
                self._end_word(out)
            if self.expect == "colon":
                out.append(self.pending + ":null")
            elif self.expect == "value" and self.stack and self.stack[-1] == "{" and \
                    self.pending.endswith(":"):
                out.append(self.pending + "null")
            # A held comma or the start of a key is dropped: nothing followed it.
            self.pending = ""
            while self.stack:
                out.append(CLOSERS[self.stack.pop()])
            self.ended = True
        text = "".join(out)
        self.emitted.append(text)
        return text

    def flush(self) -> str:
        """What is held back, without closing anything: the end of an answer that is left
        as it is (cut by max_tokens)."""
        text = "".join(self.raw) if not self.started else "" if self.ended \
            else self.pending + self.word
        self.pending = self.word = ""
        self.emitted.append(text)
        return text

    @property
    def changed(self) -> bool:
        return "".join(self.emitted).strip() != "".join(self.raw).strip()

    # -- the machine -----------------------------------------------------------------------

    def _char(self, ch: str, out: list[str]) -> None:
        if not self.started:
            if ch in CLOSERS:
                self.started = True
                self._open(ch, out)
            return
        if self.quote is not None:
            self._string_char(ch, out)
            return
        if self.word:
            if ch in NUMBER_CHARS or ch.isalnum() or ch == "_":
                self.word += ch
                return
            self._end_word(out)
            if self.ended:
                return
        if ch.isspace():
            # Whitespace is kept where it stands, unless something is held back before it.
            if self.pending:
                self.pending += ch
            else:
                out.append(ch)
            return
        if ch in CLOSERS:
            self._value_start(out)
            self._open(ch, out)
        elif ch in "}]":
            self._close(ch, out)
        elif ch == ",":
            if self.expect == "comma":
                self.pending += ","
                self.expect = "key" if self.stack[-1] == "{" else "value"
            # A second comma in a row (or one before any value) is dropped.
        elif ch == ":":
            if self.expect == "colon":
                self.pending += ":"
                self.expect = "value"
        elif ch in "\"'":
            self._value_start(out)
            self.string_is_key = self.expect == "key"
            self.quote = ch
            # A key is held back until its colon: a truncated answer may end inside it.
            if self.string_is_key:
                self.pending += '"'
            else:
                out.append('"')
        elif ch in NUMBER_START or ch.isalpha() or ch == "_":
            self.word = ch
        # Anything else (a stray symbol, a comment marker) is dropped.

    def _value_start(self, out: list[str]) -> None:
        """Something starts: release held commas, insert one that is missing."""
        if self.expect == "comma":
            self.pending = "," + self.pending
            self.expect = "key" if self.stack and self.stack[-1] == "{" else "value"
        if self.expect == "colon":
            self.pending += ":"
            self.expect = "value"
        if self.expect == "value" or not (self.stack and self.stack[-1] == "{"):
            out.append(self.pending)
            self.pending = ""

    def _open(self, ch: str, out: list[str]) -> None:
        out.append(ch)
        self.stack.append(ch)
        self.expect = "key" if ch == "{" else "value"

    def _close(self, ch: str, out: list[str]) -> None:
        if not self.stack:
            return
        if self.expect == "colon" or (self.expect == "value" and self.pending.rstrip()
                                       .endswith(":")):
            # `{"a"}` or `{"a":}`: the key gets a null value.
            out.append(self.pending.rstrip().rstrip(":") + ":null")
        # A trailing comma is dropped with whatever was held.
        self.pending = ""
        wanted_opener = "{" if ch == "}" else "["
        if wanted_opener not in self.stack:
            return  # a closer with nothing to close
        while self.stack:
            opener = self.stack.pop()
            out.append(CLOSERS[opener])
            if opener == wanted_opener:
                break
        self._after_value()

    def _after_value(self) -> None:
        if not self.stack:
            self.ended = True
            self.expect = "done"
        else:
            self.expect = "comma"

    def _string_char(self, ch: str, out: list[str]) -> None:
        key = self.string_is_key
        text = ""
        if self.escape:
            self.escape = False
            # \' is not a JSON escape: the quote stands for itself.
            text = ch if ch == "'" else "\\" + ch
        elif ch == "\\":
            self.escape = True
            return
        elif ch == self.quote:
            self.quote = None
            if key:
                self.pending += '"'
                self.expect = "colon"
            else:
                out.append('"')
                self._after_value()
            return
        elif ch == '"':
            text = '\\"'  # a double quote inside a single-quoted string
        elif ch == "\n":
            text = "\\n"
        elif ch < " ":
            text = f"\\u{ord(ch):04x}"
        else:
            text = ch
        if key:
            self.pending += text
        else:
            out.append(text)

    def _end_word(self, out: list[str]) -> None:
        word, self.word = self.word, ""
        if self.expect == "comma" and self.stack and self.stack[-1] == "{":
            self.pending = "," + self.pending  # a missing comma before an unquoted key
            self.expect = "key"
        if self.expect == "key":
            # An unquoted key: quote it, and hold it back like any key until its colon.
            self.pending += '"' + word + '"'
            self.expect = "colon"
            return
        if word[0] in NUMBER_START:
            number = word.rstrip("+-.eE")
            value = number if number not in ("", "-") and is_json(number) else None
            if value is None:
                value = orjson.dumps(word).decode()
        else:
            # A bare word; one cut short at the end of the answer ("tr") is completed.
            value = WORDS.get(word) or next(
                (w for w in ("true", "false", "null") if self.ended_input and w.startswith(word)),
                orjson.dumps(word).decode())
        self._value_start(out)
        out.append(value)
        self._after_value()


# -- the plugin -----------------------------------------------------------------------------

from typing import Any  # noqa: E402

from gateway.plugins import Context, Plugin, register_implicit  # noqa: E402

if TYPE_CHECKING:
    from gateway.request import ChatRequest


@register_implicit
class ResponseHealing(Plugin):
    """Heals the content of the answer, streamed or not. Last in the pipeline: it sees the
    text every other plugin produced.

    Streamed (the reference heals only non-streamed answers; we heal both): the content goes
    through the `Healer` as it streams, so the deltas a client concatenates are the healed JSON;
    the text `Healer` holds back (a key until its colon, prose before the first bracket) and
    the closing brackets of a truncated answer come in one last delta before the finish chunk.
    """

    id = PLUGIN_ID
    order = 90

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.healer = Healer()

    @classmethod
    def implicit(cls, req: "ChatRequest") -> dict[str, Any] | None:
        fmt = req.body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in JSON_FORMATS:
            return {}
        return None

    def on_delta(self, ctx: Context, delta: dict[str, Any]) -> dict[str, Any] | None:
        content = delta.get("content")
        if not isinstance(content, str) or not content:
            return delta
        text = self.healer.feed(content)
        if text:
            delta["content"] = text
            return delta
        rest = {k: v for k, v in delta.items() if k not in ("content", "role")}
        return {**delta, "content": ""} if any(v not in (None, "", []) for v in
                                               rest.values()) else None

    def at_end(self, ctx: Context, message: dict[str, Any]) -> dict[str, Any] | None:
        cut = ctx.finish_reason == "length"
        if ctx.stream and cut:
            # Cut by max_tokens: closing it would pass half an answer off as whole.
            tail = self.healer.flush()
            return {"content": tail} if tail else None
        if ctx.stream:
            tail = self.healer.finish()
            if self.healer.started and self.healer.changed:
                self._report(ctx)
            return {"content": tail} if tail else None
        content = message.get("content")
        if not isinstance(content, str) or message.get("tool_calls") or cut:
            return None
        healed = heal(content)
        if healed is not None:
            message["content"] = healed
            self._report(ctx)
        return None

    def _report(self, ctx: Context) -> None:
        ctx.stage("response_healing", {"name": PLUGIN_ID,
                                       "summary": "malformed JSON answer repaired"})
        ctx.event_fields["response_healed"] = True
