"""Agent order actions (ORD-7, AFS-1): changing the address before shipment — the province
too, the amounts kept — and what happens when a parcel is already labelled."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from core.errors import DomainError
from orders.models import Order, OrderEvent, OrderEventKind, OrderState
from servicedesk import services
from tests.factories import UserFactory, make_address, make_order
from tests.fulfillment.kit import (
    fulfillment_of,
    make_floor,
    pack_everything,
    pick_everything,
    pick_list_for,
    stocked,
)

pytestmark = pytest.mark.django_db


def shenzhen() -> dict:
    from addresses import divisions

    found = divisions.find_by_names("广东省", "深圳市", "南山区")
    return dict(zip(("province", "city", "district"), (d.code for d in found), strict=True))


def post_data(reason: str, **fields) -> dict:
    data = {
        "recipient_name": "李娜",
        "recipient_phone": "13912345678",
        **shenzhen(),
        "address_line": "科技园南区 8 栋 101",
        "postcode": "",
        "reason": reason,
        **fields,
    }
    return {f"address-{k}": v for k, v in data.items()}


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.SERVICE)
    client.force_login(user)
    return user


@pytest.mark.parametrize("state", [OrderState.PAID, OrderState.PICKED])
def test_an_agent_changes_the_address_and_province_before_shipment(client, agent, state):
    order = make_order(state=state)
    names = ["广东省", "深圳市", "南山区"]
    detail = client.get(reverse("staff_orders:detail", args=[order.number]))
    assert reverse("servicedesk:change_address", args=[order.number]) in detail.content.decode()

    response = client.post(
        reverse("servicedesk:change_address", args=[order.number]),
        post_data("Customer moved to Shenzhen"),
    )

    assert response.status_code == 302
    after = Order.objects.get(pk=order.pk)
    assert [after.province, after.city, after.district] == names
    assert (
        after.total_amount == order.total_amount and after.shipping_amount == order.shipping_amount
    )
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.ADDRESS_CHANGED)
    assert event.actor == agent and event.reason == "Customer moved to Shenzhen"
    assert event.details["province_changed"] is True
    assert event.details["amounts_kept"] == str(order.total_amount)


def test_the_address_change_needs_a_reason(client, agent):
    order = make_order(state=OrderState.PAID)
    response = client.post(
        reverse("servicedesk:change_address", args=[order.number]), post_data("")
    )
    assert response.status_code == 400
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.ADDRESS_CHANGED).exists()


def test_a_shipped_order_keeps_its_address(client, agent):
    order = make_order(state=OrderState.SHIPPED)
    response = client.post(
        reverse("servicedesk:change_address", args=[order.number]), post_data("Too late")
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).province == order.province
    with pytest.raises(DomainError):
        services.change_order_address(
            order_id=order.pk, address=make_address(), actor=agent, reason="x"
        )


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER, Role.MANAGER])
def test_only_agents_change_addresses_on_the_desk(client, role):
    order = make_order(state=OrderState.PAID)
    client.force_login(UserFactory(role=role))
    url = reverse("servicedesk:change_address", args=[order.number])
    assert client.post(url, post_data("x")).status_code == 403


def test_a_change_after_packing_tells_the_floor_to_relabel(client, agent):
    floor = make_floor()
    staff = UserFactory(role=Role.WAREHOUSE)
    sku = stocked(floor, 5)
    order = make_order(skus=[sku], state=OrderState.PAID, stock=False)
    wave = pick_list_for(floor, [order], staff)
    pick_everything(wave, staff)
    parcel = pack_everything(fulfillment_of(order), staff, floor.carrier)

    page = client.get(reverse("servicedesk:change_address", args=[order.number]))
    assert parcel.tracking_number in page.content.decode()
    client.post(
        reverse("servicedesk:change_address", args=[order.number]), post_data("Wrong building")
    )

    order.refresh_from_db()
    assert order.address_line == "科技园南区 8 栋 101" and not order.needs_review
    from fulfillment import services as floor_services

    assert fulfillment_of(order).relabel_since is not None
    with pytest.raises(floor_services.FloorRefused, match="changed after it was labelled"):
        floor_services.record_hand_over(code=parcel.tracking_number, actor=staff)


def test_cancel_on_the_staff_order_page_still_works_for_a_paid_order(client, agent):
    order = make_order(state=OrderState.PAID)
    client.post(reverse("staff_orders:cancel", args=[order.number]), {"reason": "Asked by phone"})
    assert Order.objects.get(pk=order.pk).state == OrderState.CANCELLED
