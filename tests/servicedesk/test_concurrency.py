"""Two agents claiming the same exception order at the same moment: one claim (PostgreSQL)."""

import threading

import pytest
from django.db import close_old_connections

from accounts.roles import Role
from servicedesk import services
from servicedesk.models import Claim
from tests.factories import UserFactory

from .helpers import exception_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_agents_claiming_at_once_make_one_claim():
    order = exception_order()
    agents = [UserFactory(role=Role.SERVICE), UserFactory(role=Role.SERVICE)]
    barrier = threading.Barrier(len(agents))
    outcomes: list[str] = []

    def claim(agent):
        try:
            barrier.wait()
            services.claim_order(order_id=order.pk, agent=agent)
            outcomes.append("claimed")
        except services.ClaimedByAnother:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=claim, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["claimed", "refused"]
    assert Claim.objects.filter(order=order).count() == 1


def test_dropping_waiting_units_while_their_stock_arrives_gives_them_one_fate():
    """INV-5: stock arriving fills the backorder or the agent's drop closes it, never both:
    the units are either reserved for the order or free, and the ledger balances."""
    from django.core.management import call_command

    from inventory import services as inventory_services
    from inventory.models import Allocation, Backorder
    from inventory.selectors import availability
    from servicedesk import waiting

    from .test_waiting_lines import short_line, waiting_order

    for _round in range(3):
        order = waiting_order(have=1, want=3)
        line = short_line(order)
        bin_id = Allocation.objects.filter(line=f"order_line:{line.pk}").first().stock.bin_id
        agent = UserFactory(role=Role.SERVICE)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def drop(order=order, line=line, agent=agent, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                waiting.drop_waiting_units(
                    order_id=order.pk, line_id=line.pk, actor=agent, reason="Discontinued"
                )
                outcomes["drop"] = "dropped"
            except waiting.WaitingLineRefused:
                outcomes["drop"] = "refused"
            finally:
                close_old_connections()

        def arrive(line=line, bin_id=bin_id, barrier=barrier):
            try:
                barrier.wait()
                inventory_services.receive(sku_id=line.sku_id, bin_id=bin_id, quantity=2)
            finally:
                close_old_connections()

        threads = [threading.Thread(target=drop), threading.Thread(target=arrive)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        backorder = Backorder.objects.get(group=f"order:{order.pk}")
        line.refresh_from_db()
        free = availability(sku_ids=[line.sku_id])[line.sku_id]
        if outcomes["drop"] == "dropped":
            assert backorder.cancelled_at is not None and backorder.filled == 0
            assert (line.quantity, free) == (1, 2)
        else:
            assert backorder.filled_at is not None
            assert (line.quantity, free) == (3, 0)
        call_command("check_stock_ledger")
