"""Order numbers (ORD-1): readable, sortable by time, unique under concurrent creation."""

import threading
from datetime import date

import pytest
from django.db import connection

from orders.models import Order
from orders.numbers import allocate_order_numbers
from tests.factories import UserFactory, make_order, stock_sku


@pytest.mark.django_db
def test_numbers_are_the_local_date_and_a_growing_counter():
    first, second = allocate_order_numbers(2, day=date(2026, 11, 23))
    (third,) = allocate_order_numbers(1, day=date(2026, 11, 23))

    assert (first, second, third) == ("2026112300000001", "2026112300000002", "2026112300000003")


@pytest.mark.django_db
def test_each_day_starts_its_own_counter_and_sorts_after_the_previous():
    (late,) = allocate_order_numbers(day=date(2026, 11, 23))
    allocate_order_numbers(500, day=date(2026, 11, 23))
    (next_day,) = allocate_order_numbers(day=date(2026, 11, 24))

    assert next_day == "2026112400000001"
    assert late < next_day


@pytest.mark.django_db
def test_a_block_of_numbers_is_consecutive():
    numbers = allocate_order_numbers(1000, day=date(2026, 1, 1))

    assert numbers[0] == "2026010100000001"
    assert numbers[-1] == "2026010100001000"
    assert len(set(numbers)) == 1000


@pytest.mark.django_db
def test_placed_orders_get_numbers_that_sort_in_placement_order():
    orders = [make_order() for _ in range(3)]

    assert [o.number for o in orders] == sorted(o.number for o in orders)
    assert len({o.number for o in orders}) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_creators_never_share_a_number():
    customer = UserFactory(role="customer")
    sku = stock_sku(80)
    barrier = threading.Barrier(8)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create_orders() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                order = make_order(customer=customer, skus=[sku], stock=False)
                with lock:
                    numbers.append(order.number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_orders) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(numbers) == 80
    assert len(set(numbers)) == 80
    assert Order.objects.count() == 80
