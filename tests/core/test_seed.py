"""`seed_demo` and `seed_bulk` (SPEC §10): demo accounts per role, a believable catalogue and
order history built through the services, idempotent reruns, refusal in production, and bulk
orders that satisfy the order constraints."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from catalog.barcodes import validate_barcode
from catalog.models import SKU, Category, Product
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, PaymentMethod

DEMO_LOGINS = {
    "customer@example.com": Role.CUSTOMER,
    "warehouse@example.com": Role.WAREHOUSE,
    "service@example.com": Role.SERVICE,
    "manager@example.com": Role.MANAGER,
    "admin@example.com": Role.ADMIN,
}


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def assert_timeline_consistent(order: Order, events: list[OrderEvent]) -> None:
    """Events start with "placed" at the order's time, run forward in time in the order they were
    written, end in the order's state, and match the order's own timestamps."""
    assert events[0].kind == OrderEventKind.PLACED
    assert events[0].created_at == order.created_at
    times = [event.created_at for event in events]
    assert times == sorted(times), order.number
    assert len(set(times)) == len(times), order.number
    assert times[-1] <= timezone.now()
    assert events[-1].to_state == order.state
    for previous, event in zip(events, events[1:], strict=False):
        assert event.from_state == previous.to_state, order.number
    at = {event.kind: event.created_at for event in events}
    # Cash-on-delivery orders are paid when the courier collects the cash.
    assert order.paid_at == at.get(OrderEventKind.PAID, at.get(OrderEventKind.CASH_COLLECTED))
    assert order.shipped_at == at.get(OrderEventKind.SHIPPED)
    assert order.completed_at == at.get(OrderEventKind.COMPLETED)
    assert order.cancelled_at == at.get(OrderEventKind.CANCELLED)
    assert order.number.startswith(timezone.localtime(order.created_at).strftime("%Y%m%d"))


def assert_amounts_add_up(order: Order) -> None:
    lines = list(order.lines.all())
    assert 1 <= len(lines) <= 4
    assert order.goods_amount == sum(line.unit_price * line.quantity for line in lines)
    assert order.total_amount == order.goods_amount - order.discount_amount + order.shipping_amount
    amounts = (order.goods_amount, order.discount_amount, order.shipping_amount)
    assert min(*amounts, order.total_amount, order.paid_amount) >= 0
    assert order.customer_id is not None or order.contact_email
    if order.paid_at is not None:
        assert order.paid_amount == order.total_amount


@pytest.fixture(scope="class")
def demo_database(django_db_setup, django_db_blocker):
    """The demo data, seeded once for the test class and rolled back after it. Uses the same
    atomic blocks as Django's TestCase, so each test's own transaction nests inside."""
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
        try:
            call_command("seed_demo", stdout=StringIO())
            yield
        finally:
            TestCase._rollback_atomics(atomics)


@pytest.mark.django_db
@pytest.mark.usefixtures("demo_database")
class TestSeedDemo:
    def test_each_role_has_a_demo_login_with_the_demo_password(self):
        for email, role in DEMO_LOGINS.items():
            user = User.objects.get(email=email)
            assert user.role == role, email
            assert user.groups.filter(name=role).exists(), email
            assert user.check_password("demo1234"), email
            assert user.is_active

        admin = User.objects.get(email="admin@example.com")
        assert admin.is_staff and admin.is_superuser
        others = User.objects.filter(email__in=set(DEMO_LOGINS) - {"admin@example.com"})
        assert not others.filter(is_superuser=True).exists()

    def test_ten_more_demo_customers_can_log_in(self):
        customers = User.objects.filter(groups__name=Role.CUSTOMER).exclude(
            email="customer@example.com"
        )
        assert customers.count() >= 10
        assert all(user.check_password("demo1234") for user in customers)

    def test_catalogue_has_forty_products_in_nested_categories(self):
        assert Category.objects.count() >= 8
        assert Category.objects.filter(parent__isnull=False).exists()
        assert Product.objects.count() >= 40
        assert Product.objects.filter(is_active=False).exists()
        assert Product.objects.filter(is_active=True).count() >= 38

    def test_catalogue_has_a_hundred_skus_with_valid_unique_barcodes(self):
        skus = list(SKU.objects.all())
        assert len(skus) >= 100
        barcodes = [sku.barcode for sku in skus]
        assert len(set(barcodes)) == len(barcodes)
        for barcode in barcodes:
            assert len(barcode) == 13 and barcode.isdigit()
            validate_barcode(barcode)
        assert len({sku.code for sku in skus}) == len(skus)
        assert any(sku.is_fragile for sku in skus)
        assert any(sku.color for sku in skus) and any(sku.size for sku in skus)
        assert all(
            sku.price > 0 and sku.price == sku.price.quantize(Decimal("0.01")) for sku in skus
        )
        assert all(sku.weight_grams > 0 for sku in skus)

    def test_two_hundred_orders_cover_every_state_and_both_kinds_of_cancellation(self):
        orders = Order.objects.all()
        assert orders.count() >= 200
        assert set(orders.values_list("state", flat=True)) == set(OrderState.values)

        cancellations = OrderEvent.objects.filter(kind=OrderEventKind.CANCELLED)
        assert cancellations.filter(from_state=OrderState.PENDING_PAYMENT).exists()
        assert cancellations.filter(from_state__in=[OrderState.PAID, OrderState.PICKED]).exists()

    def test_orders_mix_customers_guests_channels_and_payment_methods(self):
        orders = Order.objects.all()
        by_customer = Counter(orders.values_list("customer__email", flat=True))
        assert by_customer.most_common(1)[0][0] == "customer@example.com"
        assert len([email for email in by_customer if email]) >= 10
        assert orders.filter(customer__isnull=True).exclude(contact_email="").exists()
        assert orders.filter(payment_method=PaymentMethod.CASH_ON_DELIVERY).exists()
        marketplace = orders.filter(channel="marketplace")
        assert marketplace.exists()
        assert not marketplace.filter(external_id="").exists()
        # One marketplace store, for the import screen, holds them (ORD-12).
        assert not marketplace.filter(store__isnull=True).exists()
        assert marketplace.values("store__code").distinct().count() == 1
        assert orders.filter(channel="storefront").count() > marketplace.count()

    def test_the_service_desk_has_two_exception_orders_to_work_on(self):
        held = Order.objects.filter(needs_review=True, state=OrderState.PAID)

        assert held.count() == 2
        assert held.filter(customer__email="customer@example.com").count() == 2
        assert all(held.values_list("review_reason", flat=True))  # the audit says why

    def test_an_order_waits_for_stock_for_an_agent_to_split_drop_or_substitute(self):
        from inventory.models import Backorder

        waiting = Backorder.objects.filter(filled_at__isnull=True, cancelled_at__isnull=True)

        assert waiting.count() == 1
        order = Order.objects.get(pk=int(waiting.get().group.split(":")[1]))
        assert (order.state, order.needs_review, order.ship_partial) == (
            OrderState.PAID,
            False,
            False,
        )

    def test_orders_were_built_by_the_services_and_moved_into_the_last_90_days(self):
        now = timezone.now()
        orders = Order.objects.prefetch_related("events", "lines")
        for order in orders:
            events = sorted(order.events.all(), key=lambda event: event.id)
            assert_timeline_consistent(order, events)
            assert_amounts_add_up(order)
            assert now - timedelta(days=91) < order.created_at < now
        # Spread out, not bunched on the day of seeding.
        days = {timezone.localtime(order.created_at).date() for order in orders}
        assert len(days) > 30
        staff_actors = set(
            OrderEvent.objects.filter(kind__in=["picked", "shipped"]).values_list(
                "actor__email", flat=True
            )
        )
        assert staff_actors == {"warehouse@example.com"}

    def test_running_it_again_changes_no_count(self):
        before = row_counts()

        out = StringIO()
        call_command("seed_demo", stdout=out)

        assert row_counts() == before
        assert "orders created      0" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_refuses_where_demo_accounts_are_not_allowed(settings):
    settings.DEMO_ACCOUNTS_ALLOWED = False

    with pytest.raises(CommandError, match="DEMO_ACCOUNTS_ALLOWED"):
        call_command("seed_demo", stdout=StringIO())

    assert not User.objects.exists()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_seed_bulk_refuses_where_demo_accounts_are_not_allowed(settings):
    settings.DEMO_ACCOUNTS_ALLOWED = False

    with pytest.raises(CommandError, match="DEMO_ACCOUNTS_ALLOWED"):
        call_command("seed_bulk", orders=10, stdout=StringIO())

    assert not Order.objects.exists()


@pytest.mark.django_db
def test_seed_bulk_inserts_orders_with_lines_events_and_valid_amounts():
    out = StringIO()
    call_command("seed_bulk", orders=500, stdout=out)

    assert "Inserted 500 orders" in out.getvalue()
    assert "orders/min" in out.getvalue()
    orders = list(Order.objects.prefetch_related("lines", "events"))
    assert len(orders) == 500
    assert len({order.number for order in orders}) == 500
    now = timezone.now()
    for order in orders:
        assert_amounts_add_up(order)
        assert_timeline_consistent(order, sorted(order.events.all(), key=lambda event: event.id))
        assert now - timedelta(days=366) < order.created_at < now
    # Spread over a year, most orders have run their course; some were cancelled.
    states = Counter(order.state for order in orders)
    assert states[OrderState.COMPLETED] > 250
    assert states[OrderState.CANCELLED] > 0
    assert any(order.customer_id is None for order in orders)
    assert any(order.discount_amount > 0 for order in orders)


@pytest.mark.django_db
def test_seed_bulk_adds_to_what_is_there():
    call_command("seed_bulk", orders=50, stdout=StringIO())
    call_command("seed_bulk", orders=50, seed=2, stdout=StringIO())

    assert Order.objects.count() == 100
    assert Order.objects.values("number").distinct().count() == 100
