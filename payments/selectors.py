"""Read queries for the payment screens."""

from orders.models import Order, OrderState

from .models import Payment, PaymentStatus


def payment_for_return(*, gateway: str, reference: str) -> Payment | None:
    return (
        Payment.objects.select_related("order").filter(gateway=gateway, reference=reference).first()
    )


def can_pay_online(order: Order) -> bool:
    """Whether a "Pay" button makes sense; `start_payment` still decides."""
    return order.awaits_online_payment()


def return_status(payment: Payment) -> str:
    """What the payer is told on coming back from the gateway: received, refund_due,
    confirming, review, failed or replaced."""
    if payment.status == PaymentStatus.SUCCEEDED:
        return "refund_due" if payment.order.state == OrderState.CANCELLED else "received"
    if payment.status == PaymentStatus.PENDING:
        return "confirming"
    if payment.status == PaymentStatus.AMOUNT_MISMATCH:
        return "review"
    if payment.order.paid_at is not None:
        return "received"  # paid by another attempt
    if payment.status == PaymentStatus.FAILED:
        return "failed"
    return "replaced"
