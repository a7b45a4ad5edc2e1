"""GET/POST /auth: the consent page, and redirects that can only go to a validated callback."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import AuthorizationCode

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture
def signed_in(client, ada) -> Client:
    client.force_login(ada)
    return client


def auth_url(callback: str, **extra: str) -> str:
    from urllib.parse import urlencode

    return "/auth?" + urlencode(
        {
            "callback_url": callback,
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            **extra,
        }
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "callback",
    [
        "https://notes.example/cb",
        "https://notes.example:8443/cb?x=1",
        "http://localhost:3000/callback",
        "http://127.0.0.1:9999/",
        "http://[::1]:8080/cb",
    ],
)
def test_https_and_local_callbacks_reach_the_consent_page(signed_in, callback):
    response = signed_in.get(auth_url(callback))
    assert response.status_code == 200
    assert b"wants access to your account" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "callback",
    [
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://notes.example/cb",
        "/relative/path",
        "//evil.example/cb",
        "ftp://files.example/",
        "https://user:pw@notes.example/",
        "https://notes.example\\@evil.example/",
        "https:///nohost",
        "http://localhost.evil.example/",
        "http://127.0.0.1.evil.example/",
        "https://notes.example:99999/",
    ],
)
def test_every_other_callback_gets_a_readable_400_page_and_no_redirect(client, signed_in, callback):
    for c in (client, signed_in):
        response = c.get(auth_url(callback))
        assert response.status_code == 400
        assert b"This sign-in link is not valid" in response.content
        assert "Location" not in response


@pytest.mark.django_db
def test_a_missing_callback_is_refused(signed_in):
    assert signed_in.get("/auth").status_code == 400


@pytest.mark.django_db
def test_signed_out_users_sign_in_first_and_keep_the_parameters(client):
    response = client.get(auth_url("https://notes.example/cb", app_name="Notes"))
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/accounts/login/"
    next_url = urlsplit(parse_qs(login.query)["next"][0])
    assert next_url.path == "/auth"
    assert parse_qs(next_url.query) == {
        "callback_url": ["https://notes.example/cb"],
        "code_challenge": [CHALLENGE],
        "code_challenge_method": ["S256"],
        "app_name": ["Notes"],
    }


@pytest.mark.django_db
def test_the_consent_page_names_the_app_and_its_origin(signed_in):
    page = signed_in.get(
        auth_url("https://notes.example/cb", app_name="Notes <b>")
    ).content.decode()
    assert "Notes &lt;b&gt;" in page and "https://notes.example" in page
    local = signed_in.get(auth_url("http://localhost:3000/cb")).content.decode()
    assert "localhost:3000" in local


def consent(client: Client, callback: str, decision: str, **fields: str):
    return client.post(
        "/auth",
        {
            "callback_url": callback,
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
            "decision": decision,
            **fields,
        },
    )


@pytest.mark.django_db
def test_allow_redirects_to_the_callback_with_a_code_keeping_its_query(signed_in, ada):
    response = consent(
        signed_in, "https://notes.example/cb?session=42", "allow", limit="2.50", limit_reset="daily"
    )
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "notes.example", "/cb")
    query = parse_qs(target.query)
    assert query["session"] == ["42"] and query["code"][0].startswith("auth_code_")
    code = AuthorizationCode.objects.get()
    assert code.user == ada and code.code_challenge == CHALLENGE
    assert str(code.key_limit) == "2.500000000" and code.key_limit_reset == "daily"
    assert query["code"][0] not in code.code_hash  # stored hashed


@pytest.mark.django_db
def test_deny_redirects_with_access_denied_and_issues_nothing(signed_in):
    response = consent(signed_in, "http://localhost:3000/cb", "deny")
    assert response["Location"] == "http://localhost:3000/cb?error=access_denied"
    assert not AuthorizationCode.objects.exists()


@pytest.mark.django_db
def test_a_posted_callback_is_validated_again(signed_in):
    response = consent(signed_in, "https://evil.example\\@x/", "allow")
    assert response.status_code == 400 and "Location" not in response
    assert not AuthorizationCode.objects.exists()


@pytest.mark.django_db
def test_a_negative_limit_is_shown_back_not_redirected(signed_in):
    response = consent(signed_in, "https://notes.example/cb", "allow", limit="-3")
    assert response.status_code == 400 and b"greater than or equal to 0" in response.content
