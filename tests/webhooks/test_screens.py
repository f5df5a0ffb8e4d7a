"""The webhook screens at /staff/webhooks/ (API-2): administrators only; register, edit,
rotate, ping, read the log and replay, each audited; the log's queries do not grow with it."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from core.models import StaffAction
from orders.models import OrderState
from tests.factories import UserFactory, make_order
from webhooks import services
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def pages(endpoint, delivery):
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("post", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[endpoint.pk])),
        ("get", reverse("webhooks:edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:rotate_secret", args=[endpoint.pk])),
        ("post", reverse("webhooks:ping", args=[endpoint.pk])),
        ("get", reverse("webhooks:delivery", args=[delivery.pk])),
        ("post", reverse("webhooks:replay", args=[delivery.pk])),
    ]


@pytest.mark.parametrize("role", [Role.SERVICE, Role.MANAGER, Role.WAREHOUSE, Role.CUSTOMER])
def test_only_administrators_open_the_webhook_screens(client, admin, receiver, role):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    make_order(state=OrderState.PAID)
    delivery = WebhookDelivery.objects.get()
    secret = endpoint.secret
    client.force_login(UserFactory(role=role))

    for method, url in pages(endpoint, delivery):
        response = getattr(client, method)(url, {"url": "https://evil.example.com/"})
        assert response.status_code == 403, (method, url)
        assert secret not in response.content.decode()

    endpoint.refresh_from_db()
    assert endpoint.secret == secret and endpoint.url == receiver.url
    assert WebhookDelivery.objects.count() == 1
    assert receiver.requests == []


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("webhooks:list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("webhooks:create"),
        {
            "url": "https://erp.example.com/hooks",
            "description": "ERP",
            "events": ["order.paid", "aftersales.refunded"],
            "is_active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["order.paid", "aftersales.refunded"]
    assert endpoint.created_by == admin and endpoint.is_active
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    page = response.content.decode()
    assert endpoint.secret in page
    assert "registered" in page
    # SEC-5: never again after that page.
    again = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in again and endpoint.secret[-4:] in again
    entry = StaffAction.objects.get(action="webhook.create")
    assert entry.actor == admin
    assert endpoint.secret not in str(entry.after)

    listing = client.get(reverse("webhooks:list")).content.decode()
    assert "https://erp.example.com/hooks" in listing


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"url": "ftp://erp.example.com/", "events": ["order.paid"]}, "Enter an http:// or"),
        ({"url": "javascript:alert(1)", "events": ["order.paid"]}, "Enter a valid URL"),
        ({"url": "https://erp.example.com/", "events": []}, "Choose at least one event"),
        ({"url": "https://erp.example.com/", "events": ["ping"]}, "valid choice"),
    ],
)
def test_bad_endpoints_are_refused_with_a_message(client, admin, data, field_message):
    client.force_login(admin)
    response = client.post(reverse("webhooks:create"), data)
    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_service_refuses_other_schemes_too(admin):
    with pytest.raises(services.InvalidEndpoint) as refused:
        services.create_endpoint(
            actor=admin,
            fields=services.EndpointFields(
                url="file:///etc/passwd", description="", events=["order.paid"], is_active=True
            ),
        )
    assert "url" in refused.value.errors
    with pytest.raises(services.WebhookNotAllowed):
        services.create_endpoint(
            actor=UserFactory(role=Role.MANAGER),
            fields=services.EndpointFields(
                url="https://x.example.com/", description="", events=["order.paid"], is_active=True
            ),
        )


def test_an_admin_edits_rotates_and_pings(client, admin, receiver):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    old_secret = endpoint.secret
    client.force_login(admin)

    response = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": receiver.url, "description": "Warehouse ERP", "events": ["order.shipped"]},
        follow=True,
    )
    assert "Endpoint saved." in response.content.decode()
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.events, endpoint.is_active) == (
        "Warehouse ERP",
        ["order.shipped"],
        False,
    )
    edit = StaffAction.objects.get(action="webhook.update")
    assert edit.before["events"] == ["order.paid"] and edit.after["events"] == ["order.shipped"]

    response = client.post(reverse("webhooks:rotate_secret", args=[endpoint.pk]), follow=True)
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.previous_secret == old_secret
    assert endpoint.secret in response.content.decode()
    assert "New signing secret" in response.content.decode()
    again = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in again
    assert StaffAction.objects.filter(action="webhook.rotate_secret").count() == 1

    # The test ping goes out even while the endpoint is switched off.
    with_callbacks = client.post(reverse("webhooks:ping", args=[endpoint.pk]), follow=True)
    assert StaffAction.objects.filter(action="webhook.ping").count() == 1
    ping = WebhookDelivery.objects.get(event_type="ping")
    assert ping.endpoint == endpoint
    assert with_callbacks.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_ping_message_says_how_it_went(client, admin, receiver):
    """Committed for real, as in production: with eager tasks the ping has been sent by the
    time the page answers, and the message says how it went."""
    endpoint = make_endpoint(admin, receiver.url)
    client.force_login(admin)
    response = client.post(reverse("webhooks:ping", args=[endpoint.pk]), follow=True)
    assert "Test ping delivered: the endpoint answered 200." in response.content.decode()
    assert len(receiver.requests) == 1


def test_replay_from_the_delivery_page(client, admin, receiver, django_capture_on_commit_callbacks):
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    make_order(state=OrderState.PAID)
    delivery = WebhookDelivery.objects.get()
    client.force_login(admin)

    page = client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert str(delivery.event_id) in page and delivery.payload["data"]["order_number"] in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:replay", args=[delivery.pk]), follow=True)
    # The test's transaction commits after the page: the page saw it queued.
    assert "Replay queued" in response.content.decode()
    replay = WebhookDelivery.objects.get(replay_of=delivery)
    assert replay.event_id == delivery.event_id
    assert replay.state == DeliveryState.DELIVERED
    assert receiver.requests[0].headers["X-Webhook-Id"] == str(delivery.event_id)


def test_replay_to_a_switched_off_endpoint_is_refused(client, admin, receiver):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    make_order(state=OrderState.PAID)
    delivery = WebhookDelivery.objects.get()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    client.force_login(admin)

    response = client.post(reverse("webhooks:replay", args=[delivery.pk]), follow=True)
    assert "switched off" in response.content.decode()
    assert WebhookDelivery.objects.count() == 1


def test_the_log_filters_and_shows_each_attempt(client, admin, receiver):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    receiver.answers = [500]
    make_order(state=OrderState.PAID)
    make_order(state=OrderState.PAID)
    failing, fine = WebhookDelivery.objects.order_by("pk")
    services.deliver(failing.pk, 1)
    services.deliver(fine.pk, 1)
    client.force_login(admin)

    url = reverse("webhooks:detail", args=[endpoint.pk])
    page = client.get(url).content.decode()
    assert "HTTP 500" in page and ">200<" in page and " ms" in page

    failed_only = client.get(url, {"state": "failed"}).content.decode()
    assert str(failing.event_id) in failed_only and str(fine.event_id) not in failed_only
    by_event = client.get(url, {"event": "order.created"}).content.decode()
    assert "No deliveries match." in by_event


def test_the_log_page_queries_do_not_grow_with_its_rows(
    client, admin, receiver, django_assert_max_num_queries
):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    receiver.answers = [500] * 60
    for _ in range(25):
        make_order(state=OrderState.PAID)
    for delivery_id in WebhookDelivery.objects.values_list("pk", flat=True):
        services.deliver(delivery_id, 1)
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
    client.force_login(admin)

    url = reverse("webhooks:detail", args=[endpoint.pk])
    with django_assert_max_num_queries(10):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("HTTP 500") == 20  # one page of the log
    with django_assert_max_num_queries(10):
        assert client.get(url, {"page": 2, "state": "failed"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("webhooks:list")).status_code == 200
