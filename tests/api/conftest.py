"""Shared set-up of the JSON API tests: a sales channel of kind "api", keys issued through the
service (as the staff screen does), and a client that sends a key."""

import json

import pytest
from django.test import Client

from api import services
from api.models import ApiScope
from stores.models import Store, StoreKind
from tests.factories import UserFactory

ALL_SCOPES = list(ApiScope.values)


@pytest.fixture
def admin(db):
    return UserFactory(role="admin")


@pytest.fixture
def store(db):
    return Store.objects.create(code="erp", name="ERP", kind=StoreKind.API)


@pytest.fixture
def issue(admin):
    def issue(store, scopes=ALL_SCOPES, name="ERP production"):
        return services.issue_api_key(
            actor=admin, store_id=store.pk, name=name, scopes=scopes
        ).token

    return issue


@pytest.fixture
def token(issue, store):
    return issue(store)


class ApiClient:
    """A Django test client that sends `token` as a Bearer key (or X-API-Key)."""

    def __init__(self, token: str | None, *, header: str = "bearer", language: str = "en"):
        self.client = Client()
        self.headers = {"Accept-Language": language}
        if token and header == "bearer":
            self.headers["Authorization"] = f"Bearer {token}"
        elif token:
            self.headers["X-API-Key"] = token

    def get(self, path, params=None, **headers):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})

    def post(self, path, data, **headers):
        return self.client.post(
            path,
            json.dumps(data, default=str),
            content_type="application/json",
            headers={**self.headers, **headers},
        )


@pytest.fixture
def api(token):
    return ApiClient(token)


def order_payload(sku, *, external_id="ERP-1", quantity=1, price="99.00", **overrides):
    payload = {
        "external_id": external_id,
        "contact_email": "buyer@example.com",
        "address": {
            "recipient_name": "张伟",
            "recipient_phone": "+86 138-1234-5678",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address_line": "文三路 478 号华星时代广场 A 座 1203 室",
            "postcode": "310013",
        },
        "lines": [{"sku": sku.code, "quantity": quantity, "unit_price": price}],
        "shipping_amount": "8.00",
        "payment_method": "online",
        "note": "",
    }
    payload.update(overrides)
    return payload
