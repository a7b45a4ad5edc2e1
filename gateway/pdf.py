"""PDF inputs: the file's bytes (from a data URL or an http(s) URL) and its text (pypdf).

Plain functions, no Redis and no request state: gateway/plugins/files.py decides when to call
them. Every failure a client can cause raises a 400 in the error shape that says what is
wrong with the file, never a 500.
"""

import asyncio
import base64
import binascii
import hashlib
import io
import ipaddress
import logging
from dataclasses import dataclass

import aiohttp
import yarl
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

from gateway.errors import GatewayError, bad_request

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# pypdf reads a few bytes of junk before the header; real files start with it.
MAGIC_WINDOW = 1024


@dataclass(frozen=True)
class Parsed:
    text: str
    pages: int


def file_error(name: str, reason: str) -> GatewayError:
    return bad_request(f"File {name!r} could not be read: {reason}", file=name)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_data_url(url: str, name: str) -> tuple[str, bytes]:
    """`data:application/pdf;base64,...` -> (media type, bytes)."""
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise file_error(name, "the data URL has no ',' before its data")
    media_type, *params = header.split(";")
    if "base64" not in params:
        raise file_error(name, "the data URL must be base64-encoded (data:<type>;base64,...)")
    try:
        return media_type or "application/octet-stream", base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise file_error(name, "its base64 data is not valid base64") from None


async def fetch(session: aiohttp.ClientSession, url: str, name: str, *, max_bytes: int,
                timeout: float, public_only: bool = True) -> bytes:
    """GET an http(s) URL, at most `max_bytes`, within `timeout` seconds in all.

    `public_only`: an address written in the URL must be a public one (host names are
    checked by the session's resolver, see gateway/plugins/files.py)."""
    if not url.startswith(("https://", "http://")):
        raise file_error(name, "file_data must be an http(s) URL or a base64 data URL")
    try:
        host = yarl.URL(url).host or ""
    except ValueError:
        raise file_error(name, "file_data is not a valid URL") from None
    if public_only and not _public(host):
        raise file_error(name, f"{host} is not a public address")
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, allow_redirects=True, max_redirects=3) as resp:
                if resp.status != 200:
                    raise file_error(name, f"fetching {url} answered HTTP {resp.status}")
                if (resp.content_length or 0) > max_bytes:
                    raise too_large(name, max_bytes)
                data = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > max_bytes:
                        raise too_large(name, max_bytes)
                return bytes(data)
    except TimeoutError:
        raise file_error(name, f"fetching {url} took longer than {timeout:g} s") from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise file_error(name, f"{url} is unreachable ({exc.__class__.__name__})") from None


def _public(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return True  # a name: the resolver decides


def too_large(name: str, max_bytes: int) -> GatewayError:
    limit = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
    return file_error(name, f"it is larger than the limit of {limit}")


def extract(data: bytes, name: str, max_pages: int) -> Parsed:
    """The text of a PDF, page after page. Blocking: call it through `parse`."""
    if PDF_MAGIC not in data[:MAGIC_WINDOW]:
        raise file_error(name, "it is not a PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        # A PDF with only an owner password opens with the empty user password, as in
        # any viewer; one that needs a password to open cannot be read.
        if reader.is_encrypted and not reader.decrypt(""):
            raise file_error(name, "it is encrypted with a password")
        pages = len(reader.pages)
        if pages > max_pages:
            raise file_error(name, f"it has {pages} pages; the limit is {max_pages}")
        texts = [page.extract_text() or "" for page in reader.pages]
    except GatewayError:
        raise
    except FileNotDecryptedError:
        raise file_error(name, "it is encrypted with a password") from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError, OverflowError, ZeroDivisionError) as exc:
        # pypdf surfaces a damaged file through many exception types.
        log.info("unreadable PDF: %s", exc.__class__.__name__)
        raise file_error(name, "the PDF is damaged or incomplete") from None
    except NotImplementedError:
        raise file_error(name, "it uses a PDF feature that cannot be read here") from None
    return Parsed("\n\n".join(t.strip() for t in texts).strip(), pages)


async def parse(data: bytes, name: str, max_pages: int, timeout: float = 30.0) -> Parsed:
    """`extract` in a worker thread: parsing a large PDF must not stall the event loop. A file
    that takes longer than `timeout` is refused (its thread finishes unseen)."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.to_thread(extract, data, name, max_pages)
    except TimeoutError:
        raise file_error(name, f"reading it took longer than {timeout:g} s") from None
