"""The provider keys page: a key goes in once, comes back only masked, and can be removed."""

import pytest

from billing.models import ProviderKey
from marketplace.models import Provider

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "sk-ant-api03-SECRET-VALUE-0000-abcd"


def test_add_disable_and_delete_a_key(signed_in):
    Provider.objects.create(
        slug="anthropic", name="Anthropic", display_name="Anthropic", api_format="anthropic"
    )
    response = signed_in.post(
        "/settings/provider-keys", {"provider": "anthropic", "key": SECRET, "name": "mine"}
    )
    assert response.status_code == 302
    page = signed_in.get("/settings/provider-keys").content.decode()
    assert "sk-...abcd" in page and SECRET not in page and "mine" in page
    key = ProviderKey.objects.get()
    signed_in.post(f"/settings/provider-keys/{key.pk}/toggle")
    assert ProviderKey.objects.get().disabled is True
    signed_in.post(f"/settings/provider-keys/{key.pk}/delete")
    assert "No provider keys yet." in signed_in.get("/settings/provider-keys").content.decode()

    bad = signed_in.post("/settings/provider-keys", {"provider": "nope", "key": SECRET})
    assert bad.status_code == 400 and SECRET not in bad.content.decode()
