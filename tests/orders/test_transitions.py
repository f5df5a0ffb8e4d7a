"""Every allowed and every refused transition of the order lifecycle (SPEC §2)."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, PaymentMethod
from orders.services import OrderActionNotAllowed
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db

ALL_STATES = [choice.value for choice in OrderState]


def _act(action: str, order: Order, *, warehouse, service):
    """Run one lifecycle action on `order` as an actor who holds the permission for it."""
    if action == "pay":
        return services.record_payment(order_id=order.pk, amount=order.total_amount)
    if action == "accept_cod":
        return services.accept_cash_on_delivery(order_id=order.pk)
    if action == "pick":
        return services.mark_picked(order_id=order.pk, actor=warehouse)
    if action == "ship":
        return services.mark_shipped(order_id=order.pk, actor=warehouse)
    if action == "complete":
        return services.complete_order(order_id=order.pk, actor=service, reason="Customer phoned")
    if action == "cancel":
        return services.cancel_order(order_id=order.pk, actor=service, reason="Customer asked")
    raise AssertionError(action)


# (action, payment method, the states it may start from, the state it leads to)
LIFECYCLE = [
    ("pay", PaymentMethod.ONLINE, {OrderState.PENDING_PAYMENT}, OrderState.PAID),
    ("accept_cod", PaymentMethod.CASH_ON_DELIVERY, {OrderState.PENDING_PAYMENT}, OrderState.PAID),
    ("pick", PaymentMethod.ONLINE, {OrderState.PAID}, OrderState.PICKED),
    ("ship", PaymentMethod.ONLINE, {OrderState.PICKED}, OrderState.SHIPPED),
    ("complete", PaymentMethod.ONLINE, {OrderState.SHIPPED}, OrderState.COMPLETED),
    (
        "cancel",
        PaymentMethod.ONLINE,
        {OrderState.PENDING_PAYMENT, OrderState.PAID, OrderState.PICKED},
        OrderState.CANCELLED,
    ),
]

CASES = [
    pytest.param(action, method, state, state in sources, target, id=f"{action}-from-{state}")
    for action, method, sources, target in LIFECYCLE
    for state in ALL_STATES
]


@pytest.fixture
def staff():
    return {"warehouse": UserFactory(role="warehouse"), "service": UserFactory(role="service")}


@pytest.mark.parametrize(("action", "method", "state", "allowed", "target"), CASES)
def test_lifecycle_transition(action, method, state, allowed, target, staff):
    order = make_order(state=state, payment_method=method)
    events_before = order.events.count()

    if allowed:
        order = _act(action, order, **staff)
        assert order.state == target
        event = order.events.order_by("-id").first()
        assert (event.from_state, event.to_state) == (state, target)
        assert order.events.count() == events_before + 1
    else:
        with pytest.raises(OrderActionNotAllowed):
            _act(action, order, **staff)
        order.refresh_from_db()
        assert order.state == state
        assert order.events.count() == events_before


def test_online_order_cannot_be_accepted_as_cash_on_delivery():
    order = make_order(payment_method=PaymentMethod.ONLINE)

    with pytest.raises(OrderActionNotAllowed):
        services.accept_cash_on_delivery(order_id=order.pk)


def test_cash_on_delivery_order_cannot_be_marked_paid_online():
    order = make_order(payment_method=PaymentMethod.CASH_ON_DELIVERY)

    with pytest.raises(OrderActionNotAllowed):
        services.record_payment(order_id=order.pk, amount=order.total_amount)


def test_payment_that_does_not_match_the_total_changes_nothing():
    order = make_order()

    with pytest.raises(services.PaymentMismatch, match="does not match"):
        services.record_payment(order_id=order.pk, amount=order.total_amount - Decimal("0.01"))

    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.paid_amount == Decimal("0.00")


def test_second_payment_confirmation_is_refused_and_records_nothing():
    order = make_order()
    services.record_payment(order_id=order.pk, amount=order.total_amount)

    with pytest.raises(OrderActionNotAllowed):
        services.record_payment(order_id=order.pk, amount=order.total_amount)

    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1


def test_payment_stamps_amount_and_time():
    order = make_order()

    order = services.record_payment(order_id=order.pk, amount=order.total_amount, reference="T1")

    assert order.paid_amount == order.total_amount
    assert order.paid_at is not None
    assert order.events.get(kind=OrderEventKind.PAID).details["reference"] == "T1"


def test_writing_the_state_field_directly_is_refused():
    order = make_order()

    with pytest.raises(AttributeError):
        order.state = OrderState.SHIPPED


def test_customer_may_cancel_own_unpaid_order():
    order = make_order()

    order = services.cancel_order(order_id=order.pk, actor=order.customer, reason="Changed my mind")

    assert order.state == OrderState.CANCELLED
    event = order.events.get(kind=OrderEventKind.CANCELLED)
    assert event.actor == order.customer
    assert event.reason == "Changed my mind"
    assert order.cancelled_at is not None


def test_customer_may_not_cancel_someone_elses_order():
    order = make_order()
    stranger = UserFactory(role="customer")

    with pytest.raises(OrderActionNotAllowed):
        services.cancel_order(order_id=order.pk, actor=stranger, reason="Mischief")

    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


def test_customer_may_not_cancel_a_paid_order_only_an_agent_may():
    order = make_order(state=OrderState.PAID)

    with pytest.raises(OrderActionNotAllowed):
        services.cancel_order(order_id=order.pk, actor=order.customer, reason="Too late")

    agent = UserFactory(role="service")
    order = services.cancel_order(order_id=order.pk, actor=agent, reason="Customer called")
    assert order.state == OrderState.CANCELLED


def test_cancelling_needs_a_reason():
    order = make_order()

    with pytest.raises(OrderActionNotAllowed):
        services.cancel_order(order_id=order.pk, actor=order.customer, reason="  ")


def test_payment_deadline_cancels_as_the_system():
    order = make_order()

    order = services.cancel_order(order_id=order.pk, actor=None, reason="Payment deadline passed")

    assert order.events.get(kind=OrderEventKind.CANCELLED).actor is None


@pytest.mark.parametrize(
    ("role", "action", "state"),
    [
        ("service", "pick", OrderState.PAID),
        ("customer", "pick", OrderState.PAID),
        ("service", "ship", OrderState.PICKED),
        ("manager", "ship", OrderState.PICKED),
        ("warehouse", "cancel", OrderState.PAID),
        ("manager", "cancel", OrderState.PENDING_PAYMENT),
        ("warehouse", "complete", OrderState.SHIPPED),
    ],
)
def test_role_without_the_permission_is_refused(role, action, state):
    order = make_order(state=state)
    actor = UserFactory(role=role)
    call = {
        "pick": lambda: services.mark_picked(order_id=order.pk, actor=actor),
        "ship": lambda: services.mark_shipped(order_id=order.pk, actor=actor),
        "cancel": lambda: services.cancel_order(order_id=order.pk, actor=actor, reason="x"),
        "complete": lambda: services.complete_order(order_id=order.pk, actor=actor),
    }[action]

    with pytest.raises(OrderActionNotAllowed, match="not allowed"):
        call()

    order.refresh_from_db()
    assert order.state == state


def test_customer_confirms_receipt_of_own_order_but_not_of_anothers():
    order = make_order(state=OrderState.SHIPPED)

    with pytest.raises(OrderActionNotAllowed):
        services.complete_order(order_id=order.pk, actor=UserFactory(role="customer"))

    order = services.complete_order(order_id=order.pk, actor=order.customer)
    assert order.state == OrderState.COMPLETED
    assert order.completed_at is not None


def test_every_event_of_a_full_lifecycle_is_recorded_in_order():
    order = make_order(state=OrderState.COMPLETED)

    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))

    assert kinds == ["placed", "paid", "picked", "shipped", "completed"]


def test_cancelling_gives_back_the_stock_the_order_holds():
    from inventory.selectors import availability
    from tests.factories import stock_sku

    sku = stock_sku(5)
    order = make_order(skus=[sku], quantities=[3], state=OrderState.PICKED, stock=False)
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 2}

    services.cancel_order(order_id=order.pk, actor=UserFactory(role="service"), reason="Fraud")

    assert availability(sku_ids=[sku.pk]) == {sku.pk: 5}


def test_customer_cancelling_a_cancelled_order_is_told_its_state():
    order = make_order()
    services.cancel_order(order_id=order.pk, actor=order.customer, reason="Changed my mind")

    with pytest.raises(OrderActionNotAllowed, match="Cancelled"):
        services.cancel_order(order_id=order.pk, actor=order.customer, reason="Again")


def test_negative_shipping_fee_is_refused():
    from orders.services import InvalidOrder, LineRequest
    from tests.factories import SKUFactory, make_address

    with pytest.raises(InvalidOrder):
        services.create_order(
            customer=UserFactory(role="customer"),
            lines=[LineRequest(SKUFactory().pk, 1)],
            address=make_address(),
            shipping_amount=Decimal("-1.00"),
        )
