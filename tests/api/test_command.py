"""`manage.py issue_api_key` issues a working key from the command line (API-1)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiKey
from stores.models import Store, StoreKind

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_the_command_creates_the_channel_and_prints_a_working_key():
    out = StringIO()

    call_command(
        "issue_api_key",
        "--store=erp",
        "--name=ERP production",
        "--scopes=orders:read",
        "--create-store=Our ERP",
        stdout=out,
    )

    token = out.getvalue().strip()
    assert Store.objects.get(code="erp").kind == StoreKind.API
    assert ApiKey.objects.get().scopes == ["orders:read"]
    assert ApiClient(token).get("/api/orders").status_code == 200
    assert ApiClient(token).get("/api/stock", {"sku": "A"}).status_code == 403


def test_the_command_refuses_an_unknown_channel_or_scope(store):
    with pytest.raises(CommandError):
        call_command("issue_api_key", "--store=nope", "--name=x")
    with pytest.raises(CommandError):
        call_command("issue_api_key", "--store=erp", "--name=x", "--scopes=everything")
    assert not ApiKey.objects.exists()
