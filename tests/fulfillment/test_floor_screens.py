"""The floor screens over HTTP: who may open them, scans answered in colour and sound, the
parcel form's weight warning, and query counts that do not grow with the pick list."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from fulfillment.models import Fulfillment, FulfillmentState, Parcel, WaveState
from orders import services as order_services
from orders.models import OrderState
from tests.factories import UserFactory

from .kit import fulfillment_of, make_floor, paid_order, pick_everything, pick_list_for, stocked

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def floor():
    return make_floor()


@pytest.fixture
def picker(client):
    user = UserFactory(role=Role.WAREHOUSE)
    client.force_login(user)
    return user


SCREENS = ["floor:home", "floor:waves", "floor:pick", "floor:pack", "floor:hand_over"]


@pytest.mark.parametrize("name", SCREENS)
def test_customers_and_agents_are_refused_and_strangers_sent_to_log_in(client, name):
    url = reverse(name)
    assert client.get(url).status_code == 302
    for role in (Role.CUSTOMER, Role.SERVICE):
        client.force_login(UserFactory(role=role))
        assert client.get(url).status_code == 403


def test_managers_see_the_floor_but_do_not_scan(client, floor):
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.get(reverse("floor:home")).status_code == 200
    assert client.get(reverse("floor:pick")).status_code == 403


def test_the_home_lists_the_queue_and_makes_a_pick_list_for_one_order(client, floor, picker):
    order = paid_order([stocked(floor, 1)])
    fulfillment = fulfillment_of(order)

    page = client.get(reverse("floor:home"), {"warehouse": floor.warehouse.pk}).content.decode()
    assert order.number in page

    response = client.post(
        reverse("floor:create_waves"),
        {"single": fulfillment.pk, "warehouse": floor.warehouse.pk},
    )
    wave = Fulfillment.objects.get(pk=fulfillment.pk).wave
    assert response.url == reverse("floor:wave", args=[wave.pk])
    assert order.number in client.get(response.url).content.decode()


def test_pick_lists_by_filters_from_the_home_form(client, floor, picker):
    sku = stocked(floor, 10)
    for _ in range(3):
        paid_order([sku])

    client.post(
        reverse("floor:create_waves"),
        {"warehouse": floor.warehouse.pk, "size": "single", "wave_size": 2, "max_waves": 5},
    )

    assert sorted(f.wave.order_count for f in Fulfillment.objects.all()) == [1, 2, 2]


def test_a_bad_filter_changes_nothing_and_says_why(client, floor, picker):
    paid_order([stocked(floor, 1)])

    response = client.post(
        reverse("floor:create_waves"),
        {"warehouse": floor.warehouse.pk, "size": "any", "wave_size": 0, "max_waves": 1},
        follow=True,
    )

    errors = [m for m in response.context["messages"] if m.level_tag == "error"]
    assert errors  # the form's message for a list of 0 orders
    assert not Fulfillment.objects.filter(wave__isnull=False).exists()


def test_hold_and_release_from_the_queue(client, floor, picker):
    fulfillment = fulfillment_of(paid_order([stocked(floor, 1)]))

    client.post(reverse("floor:hold_or_release"), {"fulfillment": fulfillment.pk, "reason": ""})
    assert not Fulfillment.objects.get(pk=fulfillment.pk).held
    client.post(
        reverse("floor:hold_or_release"),
        {"fulfillment": fulfillment.pk, "reason": "Address query", "action": "hold"},
    )
    assert Fulfillment.objects.get(pk=fulfillment.pk).held
    client.post(
        reverse("floor:hold_or_release"), {"fulfillment": fulfillment.pk, "action": "release"}
    )
    assert not Fulfillment.objects.get(pk=fulfillment.pk).held


def test_picking_by_scanner_answers_each_scan(client, floor, picker):
    sku = stocked(floor, 2)
    stranger = stocked(floor, 1)
    order = paid_order([sku])
    wave = pick_list_for(floor, [order], picker)

    start = client.post(reverse("floor:pick"), {"scan": wave.number})
    assert start.url == reverse("floor:picking", args=[wave.pk])

    wrong = client.post(start.url, {"scan": stranger.barcode}, **HTMX).content.decode()
    assert 'data-scan-result="error"' in wrong and stranger.code in wrong

    right = client.post(start.url, {"scan": sku.barcode}, **HTMX).content.decode()
    assert 'data-scan-result="ok"' in right and order.number in right
    order.refresh_from_db()
    assert order.state == OrderState.PICKED

    page = client.get(start.url).content.decode()
    assert reverse("floor:pack") in page  # done: on to packing


def test_a_plain_post_without_javascript_works_too(client, floor, picker):
    sku = stocked(floor, 1)
    wave = pick_list_for(floor, [paid_order([sku])], picker)
    client.post(reverse("floor:pick"), {"scan": wave.number})

    wrong = client.post(reverse("floor:picking", args=[wave.pk]), {"scan": "nope"})

    assert wrong.status_code == 422
    assert "<html" in wrong.content.decode()


def test_a_short_pick_from_the_screen(client, floor, picker):
    sku = stocked(floor, 2)
    order = paid_order([sku])
    wave = pick_list_for(floor, [order], picker)
    client.post(reverse("floor:pick"), {"scan": wave.number})
    bin_id = sku.stock.get(bin__is_staging=False).bin_id

    response = client.post(
        reverse("floor:short_pick", args=[wave.pk]),
        {"line": f"{bin_id}:{sku.pk}", "quantity": 1, "reason": "not_in_bin"},
    )

    assert response.status_code == 302
    assert fulfillment_of(order).state == FulfillmentState.SHORT
    wave.refresh_from_db()
    assert wave.state == WaveState.DONE


def test_the_picking_screen_query_count_does_not_grow(
    client, floor, picker, django_assert_max_num_queries
):
    def queries(orders: int) -> int:
        sku = stocked(floor, orders)
        wave = pick_list_for(floor, [paid_order([sku]) for _ in range(orders)], picker)
        client.post(reverse("floor:pick"), {"scan": wave.number})
        url = reverse("floor:picking", args=[wave.pk])
        with django_assert_max_num_queries(70) as captured:
            client.post(url, {"scan": sku.barcode}, **HTMX)
        return len(captured)

    queries(2)  # warm the process-wide caches (content types) first
    assert queries(2) == queries(12)


def test_packing_warns_about_the_weight_until_confirmed(client, floor, picker):
    sku = stocked(floor, 2, weight_grams=1000)
    order = paid_order([sku])
    pick_everything(pick_list_for(floor, [order], picker), picker)
    fulfillment = fulfillment_of(order)

    found = client.post(reverse("floor:pack"), {"scan": order.number})
    assert found.url == reverse("floor:packing", args=[fulfillment.pk])
    answer = client.post(found.url, {"scan": sku.barcode}, **HTMX).content.decode()
    assert 'data-scan-result="ok"' in answer

    parcel = {
        "package_type": "box_s",
        "weight_kg": "1.60",
        "carrier": floor.carrier.pk,
        "service": "express",
    }
    warned = client.post(reverse("floor:add_parcel", args=[fulfillment.pk]), parcel)
    assert warned.status_code == 422
    assert 'name="weight_confirmed"' in warned.content.decode()
    assert not Parcel.objects.exists()

    done = client.post(
        reverse("floor:add_parcel", args=[fulfillment.pk]), {**parcel, "weight_confirmed": "on"}
    )
    assert done.status_code == 302
    assert Parcel.objects.get().weight_grams == 1600
    assert fulfillment_of(order).state == FulfillmentState.PACKED


def test_hand_over_screen_ships_and_refuses_a_second_scan(client, floor, picker):
    sku = stocked(floor, 1)
    order = paid_order([sku])
    pick_everything(pick_list_for(floor, [order], picker), picker)
    from .kit import pack_everything

    parcel = pack_everything(fulfillment_of(order), picker, floor.carrier)
    url = reverse("floor:hand_over")

    first = client.post(url, {"scan": parcel.tracking_number}, **HTMX).content.decode()
    second = client.post(url, {"scan": parcel.tracking_number}, **HTMX).content.decode()

    assert 'data-scan-result="ok"' in first and order.number in first
    assert 'data-scan-result="error"' in second
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_a_stopped_order_shows_stop_on_the_packing_screen_and_is_put_back(client, floor, picker):
    sku = stocked(floor, 1)
    order = paid_order([sku])
    pick_everything(pick_list_for(floor, [order], picker), picker)
    order_services.cancel_order(
        order_id=order.pk, actor=UserFactory(role=Role.SERVICE), reason="Customer cancelled"
    )
    fulfillment = fulfillment_of(order)

    page = client.get(reverse("floor:packing", args=[fulfillment.pk]))
    assert page.status_code == 422
    assert "scan-answer--stop" in page.content.decode()

    home = client.get(reverse("floor:home")).content.decode()
    assert order.number in home
    client.post(reverse("floor:put_back", args=[fulfillment.pk]))
    assert Fulfillment.objects.get(pk=fulfillment.pk).put_back_at is not None


def test_the_home_shows_what_each_person_did_today(client, floor, picker):
    order = paid_order([stocked(floor, 2)], [2])
    pick_everything(pick_list_for(floor, [order], picker), picker)

    page = client.get(reverse("floor:home")).content.decode()

    assert "activity-title" in page
    assert picker.first_name in page


def test_the_staff_order_page_loads_where_the_order_is_on_the_floor(client, floor, picker):
    order = paid_order([stocked(floor, 1)])
    wave = pick_list_for(floor, [order], picker)
    client.force_login(UserFactory(role=Role.SERVICE))

    page = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()
    status = client.get(reverse("floor:order_status", args=[order.number]), **HTMX)

    assert reverse("floor:order_status", args=[order.number]) in page
    assert status.status_code == 200
    assert wave.number in status.content.decode()
    client.force_login(UserFactory(role=Role.CUSTOMER))
    assert client.get(reverse("floor:order_status", args=[order.number])).status_code == 403
