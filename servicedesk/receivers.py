"""How orders reach the service desk, without `orders` knowing it (ORD-6).

The orders signals are sent inside the transaction that changed the order: the audit's flag
commits with the payment, so a paid order never reaches the warehouse floor unchecked.
"""

from django.dispatch import receiver
from django.utils import timezone

from orders import signals

from .audit import audit_order
from .models import AuditFinding, Claim


@receiver(signals.order_paid, dispatch_uid="servicedesk.order_paid")
@receiver(signals.order_cod_accepted, dispatch_uid="servicedesk.order_cod_accepted")
def audit(sender, order_id: int, **kwargs) -> None:
    """ORD-6: every paid or cash-on-delivery order is audited; failing ones are held."""
    audit_order(order_id=order_id)


@receiver(signals.order_released, dispatch_uid="servicedesk.order_released")
@receiver(signals.order_cancelled, dispatch_uid="servicedesk.order_cancelled")
def resolved(sender, order_id: int, **kwargs) -> None:
    """The exception is dealt with: its findings are cleared and its claim ends."""
    AuditFinding.objects.filter(order_id=order_id, cleared_at__isnull=True).update(
        cleared_at=timezone.now()
    )
    Claim.objects.filter(order_id=order_id).delete()
