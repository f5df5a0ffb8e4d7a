"""The address book under concurrent requests of one customer (ORD-3), real threads on
PostgreSQL: the services lock the customer's row first, so the rules hold."""

import threading
from collections import Counter

import pytest
from django.db import connection

from addresses import services
from addresses.models import Address
from tests.factories import UserFactory

from .helpers import add_address

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_concurrently(count: int, action) -> Counter:
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            action()
            result = "saved"
        except services.AddressBookFull:
            result = "full"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_simultaneous_first_addresses_make_exactly_one_default():
    customer = UserFactory(role="customer")

    outcomes = _run_concurrently(6, lambda: add_address(customer))

    assert outcomes == Counter({"saved": 6})
    assert Address.objects.filter(customer=customer).count() == 6
    assert Address.objects.filter(customer=customer, is_default=True).count() == 1


def test_simultaneous_additions_never_exceed_the_limit():
    customer = UserFactory(role="customer")
    for _ in range(services.MAX_ADDRESSES - 2):
        add_address(customer)

    outcomes = _run_concurrently(6, lambda: add_address(customer))

    assert outcomes == Counter({"saved": 2, "full": 4})
    assert Address.objects.filter(customer=customer).count() == services.MAX_ADDRESSES
