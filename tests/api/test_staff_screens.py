"""Administrators issue and revoke API keys at /staff/api-keys/ (API-1): the key is shown once,
revocations take a reason and are in the audit trail, other roles are refused."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiKey, ApiScope
from core.models import StaffAction
from stores.models import Store, StoreKind
from tests.factories import UserFactory

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_issuing_a_key_shows_it_once_and_it_works(admin_client, store):
    page = admin_client.post(
        reverse("api_keys:issue"),
        {"store": store.pk, "name": "ERP production", "scopes": ["orders:read", "stock:read"]},
    )

    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    token = re.search(r'value="(sk_[0-9a-f]{12}_[A-Za-z0-9_-]+)"', page.content.decode()).group(1)
    key = ApiKey.objects.get()
    assert (key.store, key.name) == (store, "ERP production")
    assert key.scopes == ["orders:read", "stock:read"]
    assert ApiClient(token).get("/api/orders").status_code == 200
    listing = admin_client.get(reverse("api_keys:list")).content.decode()
    assert key.masked in listing and token not in listing
    assert StaffAction.objects.filter(action="api_key.issue").count() == 1


def test_a_key_needs_a_scope_and_an_api_or_marketplace_channel(admin_client, store):
    response = admin_client.post(
        reverse("api_keys:issue"), {"store": store.pk, "name": "ERP", "scopes": []}
    )

    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_revoking_takes_a_reason_and_stops_the_key(admin_client, issue, store):
    token = issue(store)
    key = ApiKey.objects.get()
    url = reverse("api_keys:revoke", args=[key.pk])

    empty = admin_client.post(url, {"reason": ""})
    done = admin_client.post(url, {"reason": "The ERP's server was replaced"}, follow=True)

    assert empty.status_code == 400
    assert "revoked" in done.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoke_reason == "The ERP's server was replaced"
    entry = StaffAction.objects.get(action="api_key.revoke")
    assert entry.reason == "The ERP's server was replaced"
    assert ApiClient(token).get("/api/orders").status_code == 401
    again = admin_client.post(url, {"reason": "twice"})
    assert again.status_code == 400


def test_an_api_channel_can_be_created_from_the_keys_screen(admin_client):
    response = admin_client.post(
        reverse("api_keys:create_store"), {"code": "erp", "name": "Our ERP"}
    )
    duplicate = admin_client.post(
        reverse("api_keys:create_store"), {"code": "erp", "name": "Again"}
    )

    assert response.status_code == 302
    store = Store.objects.get()
    assert (store.code, store.kind) == ("erp", StoreKind.API)
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.content.decode()
    form = admin_client.get(reverse("api_keys:issue")).content.decode()
    assert "Our ERP" in form


def test_an_inactive_channel_gets_no_key(admin_client, store):
    inactive = Store.objects.create(
        code="old", name="Old system", kind=StoreKind.API, is_active=False
    )

    response = admin_client.post(
        reverse("api_keys:issue"),
        {"store": inactive.pk, "name": "x", "scopes": [ApiScope.ORDERS_READ]},
    )

    assert response.status_code == 400
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("role", ["service", "manager", "warehouse", "customer"])
def test_other_roles_are_refused(role, issue, store):
    issue(store)
    client = Client()
    client.force_login(UserFactory(role=role))
    key = ApiKey.objects.get()

    for url in (
        reverse("api_keys:list"),
        reverse("api_keys:issue"),
        reverse("api_keys:revoke", args=[key.pk]),
        reverse("api_keys:create_store"),
    ):
        assert client.get(url).status_code == 403
    revoke = client.post(reverse("api_keys:revoke", args=[key.pk]), {"reason": "x"})
    assert revoke.status_code == 403
    assert ApiKey.objects.get().revoked_at is None


def test_anonymous_visitors_are_sent_to_log_in(store):
    response = Client().get(reverse("api_keys:list"))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_costs_the_same_queries_for_2_or_40_keys(
    admin_client, issue, store, django_assert_max_num_queries
):
    for i in range(2):
        issue(store, name=f"k{i}")
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(reverse("api_keys:list")).status_code == 200
    for i in range(38):
        issue(store, name=f"more{i}")
    with django_assert_max_num_queries(12) as many:
        assert admin_client.get(reverse("api_keys:list")).status_code == 200

    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_list_filters_by_channel_and_status(admin_client, admin, issue, store):
    from api import services

    other = Store.objects.create(code="jd", name="JD", kind=StoreKind.MARKETPLACE)
    issue(store, name="erp-live")
    issue(store, name="erp-old")
    issue(other, name="jd-live")
    services.revoke_api_key(
        actor=admin, key_id=ApiKey.objects.get(name="erp-old").pk, reason="Replaced"
    )
    url = reverse("api_keys:list")

    def names(**params):
        page = admin_client.get(url, params).context["page"]
        return sorted(key.name for key in page.object_list)

    assert names() == ["erp-live", "erp-old", "jd-live"]
    assert names(store=store.pk) == ["erp-live", "erp-old"]
    assert names(status="revoked") == ["erp-old"]
    assert names(store=other.pk, status="active") == ["jd-live"]
    assert names(store=other.pk, status="revoked") == []
