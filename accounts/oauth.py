"""OAuth PKCE as OpenRouter does it: a consented code, exchanged once for a user-owned key."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from accounts.keys import NewKey, create_key, hash_key
from accounts.models import AuthorizationCode, OAuthApp

CODE_TTL = timedelta(minutes=10)
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
METHODS = {"s256": AuthorizationCode.Method.S256, "plain": AuthorizationCode.Method.PLAIN}


class InvalidCallback(ValueError):
    """The callback URL is not one we may ever redirect to."""


class OAuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# Headless sign-in (CLIs on a machine without a browser callback): no callback URL, the code
# is shown on screen for the user to paste into the app. Stored in place of a callback URL.
HEADLESS = "urn:ietf:wg:oauth:2.0:oob"


def validate_callback_url(url: str | None) -> str:
    """https to any host, or http to this machine only (any port). Everything else is refused."""
    if not url:
        raise InvalidCallback("The callback_url parameter is missing.")
    if len(url) > 2000 or any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        raise InvalidCallback("The callback URL contains characters that are not allowed.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidCallback("The callback URL is not a valid URL.") from exc
    if parts.scheme not in {"https", "http"} or not host:
        raise InvalidCallback("The callback URL must be an absolute https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise InvalidCallback("The callback URL must not contain a user name or password.")
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        raise InvalidCallback(
            "The callback URL must use https, except for localhost or 127.0.0.1."
        )
    return url


def app_origin(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), "", "", ""))


def app_title(callback_url: str) -> str:
    """How the consent page names an app: its host (localhost apps as `localhost:<port>`)."""
    parts = urlsplit(callback_url)
    host = parts.hostname or ""
    if host in LOCAL_HOSTS:
        return f"localhost:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    return parts.netloc.lower()


def app_for(callback_url: str, name: str = "") -> OAuthApp:
    # A headless app has no web origin: its label names it.
    origin = f"cli:{name[:100]}" if callback_url == HEADLESS else app_origin(callback_url)
    app, _ = OAuthApp.objects.get_or_create(origin=origin)
    if name and app.name != name:
        app.name = name[:100]
        app.save(update_fields=["name"])
    return app


def with_params(callback_url: str, **params: str) -> str:
    """The callback URL with our parameters added to its own query string."""
    parts = urlsplit(callback_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def normalise_method(method: str | None, challenge: str) -> str:
    if not challenge:
        return ""
    if not method:
        return AuthorizationCode.Method.PLAIN  # RFC 7636's default
    try:
        return METHODS[method.lower()]
    except KeyError:
        raise OAuthError(400, "Invalid code_challenge_method") from None


@dataclass(frozen=True)
class KeyTerms:
    """What the minted key will be: the app may ask, the user may lower."""

    label: str = ""
    limit: Decimal | None = None
    limit_reset: str = ""
    expires_at: datetime | None = None


def issue_code(
    user: AbstractBaseUser,
    callback_url: str,
    *,
    code_challenge: str = "",
    code_challenge_method: str | None = None,
    app_name: str = "",
    terms: KeyTerms = KeyTerms(),
) -> tuple[str, AuthorizationCode]:
    if callback_url != HEADLESS:
        callback_url = validate_callback_url(callback_url)
    elif not code_challenge:
        raise OAuthError(400, "Headless sign-in requires a code_challenge")
    if len(code_challenge) > 128:
        raise OAuthError(400, "code_challenge is too long")
    method = normalise_method(code_challenge_method, code_challenge)
    code = "auth_code_" + secrets.token_urlsafe(32)
    row = AuthorizationCode.objects.create(
        code_hash=hash_key(code),
        user_id=user.pk,
        app=app_for(callback_url, app_name),
        callback_url=callback_url,
        code_challenge=code_challenge,
        code_challenge_method=method,
        key_label=terms.label[:100],
        key_limit=terms.limit,
        key_limit_reset=terms.limit_reset,
        key_expires_at=terms.expires_at,
    )
    return code, row


def challenge_matches(row: AuthorizationCode, verifier: str) -> bool:
    if row.code_challenge_method == AuthorizationCode.Method.S256:
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        expected = verifier
    return hmac.compare_digest(expected.encode(), row.code_challenge.encode())


def exchange_code(code: str, verifier: str | None, method: str | None) -> NewKey:
    """Trade a code for a new key, once. The row lock makes concurrent replays lose."""
    with transaction.atomic():
        row = (
            AuthorizationCode.objects.select_for_update()
            .select_related("app")
            .filter(code_hash=hash_key(code))
            .first()
        )
        if row is None:
            raise OAuthError(403, "Invalid code or code_verifier")
        if row.used_at is not None:
            raise OAuthError(403, "Authorization code has already been used")
        if timezone.now() - row.created_at > CODE_TTL:
            raise OAuthError(403, "Authorization code expired")
        method_differs = method and method.lower() != row.code_challenge_method.lower()
        if row.code_challenge_method and method_differs:
            raise OAuthError(400, "Invalid code_challenge_method")
        if row.code_challenge and not challenge_matches(row, verifier or ""):
            raise OAuthError(403, "Invalid code or code_verifier")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return create_key(
            row.user,
            row.key_label or row.app.name or app_title(row.callback_url),
            limit=row.key_limit,
            limit_reset=row.key_limit_reset,
            expires_at=row.key_expires_at,
            oauth_app=row.app,
        )
