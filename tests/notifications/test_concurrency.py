"""Deliveries and dispatchers running at once, with real threads on PostgreSQL (§5)."""

import threading
from collections import Counter

import pytest
from django.core import mail
from django.db import connection

from notifications import services, tasks
from notifications.models import Notification
from tests.factories import make_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _nothing_handed_over(monkeypatch):
    """The rows stay pending after their commit, as if the broker had not taken them."""
    monkeypatch.setattr(tasks.deliver_notification, "delay", lambda *args: None)


def run_at_once(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results, lock = [], threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = work()
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_eight_deliveries_of_one_message_at_once_send_it_once():
    note = make_order().notifications.get()

    outcomes = run_at_once(8, lambda: services.deliver(note.pk))

    assert Counter(outcomes) == Counter({True: 1, False: 7})
    assert len(mail.outbox) == 1


def test_dispatchers_running_at_once_hand_over_each_due_message_once(settings):
    settings.NOTIFICATION_DISPATCH_AFTER_SECONDS = 0
    for _ in range(30):
        make_order()

    batches = run_at_once(4, lambda: services.due_for_dispatch(limit=10))

    taken = [pk for batch in batches for pk in batch]
    assert len(taken) == len(set(taken)) == 30
    assert set(taken) == set(Notification.objects.values_list("pk", flat=True))
