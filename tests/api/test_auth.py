"""API keys (API-1): only a valid, unrevoked key with the operation's scope gets in; the session
cookie never does; each key has a rate limit; only the hash of a key is stored."""

import hashlib

import pytest
from django.test import Client, override_settings

from api import services
from api.auth import rate_limit
from api.models import ApiKey, ApiScope
from tests.factories import UserFactory

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_a_key_is_shown_once_and_stored_only_as_a_hash(admin, store):
    issued = services.issue_api_key(
        actor=admin, store_id=store.pk, name="ERP", scopes=[ApiScope.ORDERS_READ]
    )

    prefix, secret = issued.token.split("_", 2)[1:]
    key = ApiKey.objects.get()
    assert key.prefix == prefix
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.values().get())


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_valid_key_in_either_header_gets_in(token, header):
    response = ApiClient(token, header=header).get("/api/orders")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "token",
    [None, "", "sk_000000000000_wrong", "not-a-key", "sk_abc"],
    ids=["none", "empty", "wrong-secret", "garbage", "truncated"],
)
def test_no_key_or_a_wrong_key_is_401_problem(store, token):
    response = ApiClient(token).get("/api/orders")

    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["type"] == "urn:shop:problem:api:unauthorized"


def test_a_right_prefix_with_a_wrong_secret_is_401(token):
    prefix = token.split("_")[1]

    response = ApiClient(f"sk_{prefix}_{'x' * 43}").get("/api/orders")

    assert response.status_code == 401


def test_a_revoked_key_is_401(admin, token):
    services.revoke_api_key(actor=admin, key_id=ApiKey.objects.get().pk, reason="Leaked")

    response = ApiClient(token).get("/api/orders")

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_key_of_a_switched_off_channel_is_403_until_it_is_on_again(token, store):
    store.is_active = False
    store.save(update_fields=["is_active"])

    response = ApiClient(token).get("/api/orders")

    assert response.status_code == 403
    assert response.json()["type"].endswith("channel-inactive")
    store.is_active = True
    store.save(update_fields=["is_active"])
    assert ApiClient(token).get("/api/orders").status_code == 200


def test_a_key_without_the_scope_is_403(issue, store):
    reader = ApiClient(issue(store, scopes=[ApiScope.STOCK_READ]))

    for response in (
        reader.get("/api/orders"),
        reader.post("/api/orders", {}),
        reader.get("/api/orders/X"),
        reader.post("/api/shipments/SF1234567890/events", {"events": []}),
    ):
        assert response.status_code == 403, response.content
        assert response["Content-Type"] == PROBLEM
        assert response.json()["type"] == "urn:shop:problem:api:missing-scope"


def test_the_session_cookie_does_not_authenticate_the_api(store):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role="admin"))

    read = client.get("/api/orders")
    write = client.post("/api/orders", "{}", content_type="application/json")

    assert (read.status_code, write.status_code) == (401, 401)


def test_last_use_is_recorded_at_most_once_a_minute(token, django_assert_num_queries):
    client = ApiClient(token)
    client.get("/api/stock", {"sku": "A"})
    first = ApiKey.objects.get().last_used_at

    # Key, stock (two queries); no write.
    with django_assert_num_queries(2):
        client.get("/api/stock", {"sku": "A"})

    assert first is not None
    assert ApiKey.objects.get().last_used_at == first


@override_settings(API_RATE_LIMIT="3/minute")
def test_over_the_rate_limit_is_429_with_retry_after(token, issue, store):
    client = ApiClient(token)
    answers = [client.get("/api/stock", {"sku": "A"}).status_code for _ in range(4)]
    other = ApiClient(issue(store, name="other")).get("/api/stock", {"sku": "A"})

    refused = client.get("/api/stock", {"sku": "A"})
    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused["Content-Type"] == PROBLEM
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["type"] == "urn:shop:problem:api:rate-limited"
    assert other.status_code == 200  # per key


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("120/minute", (120, 60)),
        ("1000/hour", (1000, 3600)),
        ("10/5second", (10, 5)),
        ("5/day", (5, 86400)),
        ("nonsense", (120, 60)),
    ],
)
def test_rate_limit_setting(setting, expected):
    with override_settings(API_RATE_LIMIT=setting):
        assert rate_limit() == expected
