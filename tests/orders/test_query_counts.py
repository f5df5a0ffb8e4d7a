"""List pages make a constant number of queries whatever the number of orders."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from orders.models import OrderState
from tests.factories import SKUFactory, UserFactory, make_order

pytestmark = pytest.mark.django_db


def _orders(n: int, *, customer=None, state=OrderState.PAID):
    skus = [SKUFactory(), SKUFactory()]
    for _ in range(n):
        make_order(customer=customer, skus=skus, state=state)


def _queries_for(client, django_assert_max_num_queries, url, limit):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("role", "url_name", "state", "limit"),
    [
        (Role.SERVICE, "staff_orders:list", OrderState.PAID, 12),
        # The floor home: counters, queue, held, short picks, stopped orders, open pick lists.
        (Role.WAREHOUSE, "workspace:warehouse", OrderState.PAID, 19),
        (Role.SERVICE, "workspace:service", OrderState.PENDING_PAYMENT, 12),
        # The reports dashboard: the sales report's fixed queries and the filters' choices.
        (Role.MANAGER, "workspace:manager", OrderState.PAID, 20),
        (Role.ADMIN, "workspace:system", OrderState.PAID, 12),
    ],
)
def test_staff_pages_query_count_does_not_grow(
    client, django_assert_max_num_queries, role, url_name, state, limit
):
    client.force_login(UserFactory(role=role))
    url = reverse(url_name)
    _orders(2, state=state)
    few = _queries_for(client, django_assert_max_num_queries, url, limit)

    _orders(30, state=state)
    many = _queries_for(client, django_assert_max_num_queries, url, limit)

    assert many == few


def test_my_orders_query_count_does_not_grow(client, django_assert_max_num_queries):
    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    url = reverse("orders:my_orders")
    _orders(2, customer=customer)
    few = _queries_for(client, django_assert_max_num_queries, url, 9)

    _orders(25, customer=customer)
    many = _queries_for(client, django_assert_max_num_queries, url, 9)

    assert many == few


def test_order_detail_query_count_does_not_grow_with_lines(client, django_assert_max_num_queries):
    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    small = make_order(customer=customer, skus=[SKUFactory()], state=OrderState.SHIPPED)
    large = make_order(
        customer=customer, skus=[SKUFactory() for _ in range(12)], state=OrderState.SHIPPED
    )

    few = _queries_for(
        client,
        django_assert_max_num_queries,
        reverse("orders:my_order_detail", args=[small.number]),
        10,
    )
    many = _queries_for(
        client,
        django_assert_max_num_queries,
        reverse("orders:my_order_detail", args=[large.number]),
        10,
    )

    assert many == few


@pytest.mark.parametrize("url_name", ["catalog:home", "catalog:search"])
def test_storefront_lists_query_count_does_not_grow(
    client, django_assert_max_num_queries, url_name
):
    url = reverse(url_name) + ("?q=Product" if url_name == "catalog:search" else "")
    for _ in range(2):
        SKUFactory()
    few = _queries_for(client, django_assert_max_num_queries, url, 6)

    for _ in range(30):
        SKUFactory()
    many = _queries_for(client, django_assert_max_num_queries, url, 6)

    assert many == few


def test_staff_order_detail_query_count_does_not_grow_with_lines(
    client, django_assert_max_num_queries
):
    client.force_login(UserFactory(role=Role.SERVICE))
    small = make_order(skus=[SKUFactory()], state=OrderState.PICKED)
    large = make_order(skus=[SKUFactory() for _ in range(12)], state=OrderState.PICKED)

    few = _queries_for(
        client,
        django_assert_max_num_queries,
        reverse("staff_orders:detail", args=[small.number]),
        12,
    )
    many = _queries_for(
        client,
        django_assert_max_num_queries,
        reverse("staff_orders:detail", args=[large.number]),
        12,
    )

    assert many == few
