"""Schemathesis against the API's own OpenAPI description (API-1): generated requests, valid and
invalid, with a valid key never get a server error. Bounded: 20 examples per operation,
derandomized."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.factories import stock_sku

pytestmark = pytest.mark.django_db


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
# Valid requests and invalid ones (wrong types, missing fields, out-of-range values).
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def keep_connection():
    """As Django's test client does: a request's end must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_no_generated_request_gets_a_server_error(case, token, settings, keep_connection):
    settings.API_RATE_LIMIT = "100000/minute"
    stock_sku(3)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )
    # The key holds every scope: each request reached its operation.
    assert response.status_code not in (401, 403)


def test_the_description_documents_both_key_schemes_and_every_operation(client):
    description = client.get("/api/openapi.json").json()

    assert description["info"]["title"] == "Shop API"
    assert set(description["components"]["securitySchemes"]) == {"ApiKeyBearer", "ApiKeyHeader"}
    assert set(description["paths"]) == {
        "/api/orders",
        "/api/orders/{number}",
        "/api/shipments/{tracking_number}/events",
        "/api/stock",
    }


def test_the_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger" in page.lower()
    assert "cdn." not in page and "unpkg" not in page
