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
