"""The alerts screen: open alerts, stock-outs with backorders, thresholds set by managers."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from inventory import services
from inventory.models import StockAlert, StockThreshold
from inventory.services import DemandLine
from tests.factories import SKUFactory, UserFactory, WarehouseFactory, stock_sku

pytestmark = pytest.mark.django_db
URL = reverse("inventory:alerts")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.WAREHOUSE, 200),
        (Role.MANAGER, 200),
        (Role.ADMIN, 200),
        (Role.SERVICE, 403),
        (Role.CUSTOMER, 403),
    ],
)
def test_alerts_screen_is_for_warehouse_and_managers(client, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get(URL).status_code == status


def test_lists_open_alerts_and_stock_outs_with_waiting_units(client):
    low = stock_sku(3)
    StockThreshold.objects.create(sku=low, threshold=5)
    services.reserve(group="o", lines=[DemandLine("o:1", low.pk, 1)])
    gone = SKUFactory(code="SKU-GONE")
    services.reserve(
        group="b", lines=[DemandLine("b:1", gone.pk, 4)], backorder_since=timezone.now()
    )
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.get(URL)

    assert [a.sku for a in response.context["alerts"]] == [low]
    outs = {sku.code: sku.waiting for sku in response.context["stock_outs"]}
    assert outs == {"SKU-GONE": 4}
    assert response.context["form"] is None  # warehouse staff do not set thresholds


def test_manager_sets_a_threshold_by_barcode_and_the_alert_is_raised_at_once(client):
    sku = stock_sku(4)
    client.force_login(UserFactory(role=Role.MANAGER))

    response = client.post(URL, {"sku": sku.barcode, "warehouse": "", "threshold": "10"})

    assert response.status_code == 302
    assert StockThreshold.objects.get(sku=sku).threshold == 10
    assert StockAlert.objects.get(sku=sku).cleared_at is None


def test_threshold_zero_removes_it_and_clears_its_alert(client):
    sku = stock_sku(4)
    services.set_threshold(sku_id=sku.pk, warehouse_id=None, threshold=10, actor=None)
    client.force_login(UserFactory(role=Role.MANAGER))

    client.post(URL, {"sku": sku.code, "warehouse": "", "threshold": "0"})

    assert not StockThreshold.objects.exists()
    assert StockAlert.objects.get().cleared_at is not None


def test_unknown_sku_is_told_and_changes_nothing(client):
    client.force_login(UserFactory(role=Role.MANAGER))

    response = client.post(URL, {"sku": "NOPE", "warehouse": "", "threshold": "5"})

    assert response.status_code == 200
    assert "sku" in response.context["form"].errors
    assert not StockThreshold.objects.exists()


def test_warehouse_staff_cannot_set_thresholds(client):
    sku = stock_sku(4)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.post(URL, {"sku": sku.code, "warehouse": "", "threshold": "10"})

    assert response.status_code == 403
    assert not StockThreshold.objects.exists()


def test_alerts_screen_query_count_does_not_grow(client, django_assert_max_num_queries):
    client.force_login(UserFactory(role=Role.MANAGER))
    warehouse = WarehouseFactory()

    def add(n):
        for _ in range(n):
            sku = stock_sku(1)
            services.set_threshold(
                sku_id=sku.pk, warehouse_id=warehouse.pk, threshold=5, actor=None
            )
            services.set_threshold(sku_id=sku.pk, warehouse_id=None, threshold=5, actor=None)
            SKUFactory()

    add(2)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    add(15)
    with django_assert_max_num_queries(12) as many:
        client.get(URL)

    assert len(many) == len(few)
