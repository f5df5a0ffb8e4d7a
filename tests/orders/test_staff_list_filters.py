"""The staff order list narrowed the way a report's figure drills down to its orders
(issue 9 item 7): payment method, province and city, a product or SKU on a line, and "sales
only" (the orders the sales report counts)."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from orders.models import Channel, OrderState, PaymentMethod
from tests.factories import ProductFactory, SKUFactory, UserFactory, make_address, make_order

pytestmark = pytest.mark.django_db


def _numbers(client, **params) -> set[str]:
    response = client.get(reverse("staff_orders:list"), params)
    assert response.status_code == 200
    assert not response.context["form"].errors
    return {order.number for order in response.context["page"].object_list}


@pytest.fixture
def manager_client(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    return client


def test_list_narrows_to_payment_method_province_and_city(manager_client):
    online = make_order(state=OrderState.PAID)
    cod = make_order(state=OrderState.PAID, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    suzhou = make_order(
        state=OrderState.PAID, address=make_address(province="江苏省", city="苏州市")
    )
    nanjing = make_order(
        state=OrderState.PAID, address=make_address(province="江苏省", city="南京市")
    )

    assert _numbers(manager_client, payment_method="cod") == {cod.number}
    assert _numbers(manager_client, province="江苏省") == {suzhou.number, nanjing.number}
    assert _numbers(manager_client, province="江苏省", city="苏州市") == {suzhou.number}
    assert online.number in _numbers(manager_client, payment_method="online")


def test_list_narrows_to_orders_with_a_line_of_a_product_or_sku_once_each(manager_client):
    product = ProductFactory(name="Linen <b>napkin</b>")
    red, blue = SKUFactory(product=product, color="red"), SKUFactory(product=product)
    other = SKUFactory()
    both = make_order(skus=[red, blue])
    only_blue = make_order(skus=[blue, other])
    unrelated = make_order(skus=[other])

    assert _numbers(manager_client, product=product.pk) == {both.number, only_blue.number}
    assert _numbers(manager_client, sku=red.pk) == {both.number}
    assert unrelated.number in _numbers(manager_client)

    html = manager_client.get(reverse("staff_orders:list"), {"sku": red.pk}).content.decode()
    assert "Only orders with:" in html
    assert red.code in html
    assert "Linen &lt;b&gt;napkin&lt;/b&gt;" in html
    # The narrowing survives the next filter change (the form carries it along).
    assert f'name="sku" value="{red.pk}"' in html


def test_sales_only_leaves_out_unpaid_cancellations_and_replacements(manager_client):
    paid = make_order(state=OrderState.PAID)
    unpaid = make_order()
    cancelled_unpaid = make_order(state=OrderState.CANCELLED)
    cancelled_paid = make_order(state=OrderState.CANCELLED, cancel_from=OrderState.PAID)
    replacement = make_order(state=OrderState.PAID, channel=Channel.REPLACEMENT)

    shown = _numbers(manager_client, sales_only="on")

    assert shown == {paid.number, unpaid.number, cancelled_paid.number}
    assert cancelled_unpaid.number not in shown and replacement.number not in shown


def test_unknown_product_is_named_by_its_id_and_lists_nothing(manager_client):
    make_order()

    response = manager_client.get(reverse("staff_orders:list"), {"product": 999999})

    assert list(response.context["page"].object_list) == []
    assert "#999999" in response.content.decode()


def test_list_with_drill_filters_keeps_a_constant_number_of_queries(
    manager_client, django_assert_max_num_queries
):
    sku = SKUFactory()
    url = reverse("staff_orders:list")
    params = {"sku": sku.pk, "product": sku.product_id, "province": "浙江省", "sales_only": "on"}
    make_order(skus=[sku], state=OrderState.PAID)
    with django_assert_max_num_queries(14) as few:
        manager_client.get(url, params)
    for _ in range(8):
        make_order(skus=[sku], state=OrderState.PAID)
    with django_assert_max_num_queries(14) as many:
        manager_client.get(url, params)
    assert len(few) == len(many)
