"""Write operations of the service desk (ORD-6, ORD-7, ORD-11, AFS-1).

Every action takes the acting agent and, where it changes an order, a reason; the order itself
changes only through `orders.services`, which lock the order, check the agent's permission and
write the order event. Refunds follow a cancellation by themselves (the payments app's
receiver on `order_cancelled`).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from core.audit import record_staff_action
from core.errors import DomainError
from fulfillment.models import FulfillmentState, Parcel
from orders import services as order_services
from orders.models import Order, OrderState

from . import audit
from .models import AuditRule, AuditRuleChange, Claim


class DeskActionNotAllowed(DomainError):
    """The agent may not do this, or not to this order now."""


class ClaimedByAnother(DeskActionNotAllowed):
    """Another agent has the order; taking it over must be asked for."""

    def __init__(self, message: str, claim: Claim):
        super().__init__(message)
        self.claim = claim


# --- audit rules ------------------------------------------------------------------------------
def may_configure_audit(user) -> bool:
    return user.role in (Role.MANAGER, Role.ADMIN) or user.has_perm("servicedesk.change_auditrule")


def update_audit_rule(*, code: str, enabled: bool, params: dict, actor, reason: str) -> AuditRule:
    """Switch a rule on or off and set its thresholds (typed values, as `RuleSpec.clean`
    gives them). Managers and administrators only, with a reason; the change is logged with
    the values before and after. Nothing is written when nothing changes."""
    spec = audit.REGISTRY.get(code)
    if spec is None:
        raise DeskActionNotAllowed(_("There is no such audit rule."))
    if not may_configure_audit(actor):
        raise DeskActionNotAllowed(_("Only managers and administrators may change audit rules."))
    if not reason.strip():
        raise DeskActionNotAllowed(_("Say why the rule is changed."))
    after = {"enabled": bool(enabled), "params": spec.to_json(params)}
    with transaction.atomic():
        AuditRule.objects.get_or_create(
            code=code,
            defaults={"enabled": spec.enabled_by_default, "params": spec.to_json(spec.defaults())},
        )
        row = AuditRule.objects.select_for_update().get(code=code)
        before = {
            "enabled": row.enabled,
            "params": spec.to_json(spec.settings_from(row.params)),
        }
        if before == after:
            return row
        row.enabled = after["enabled"]
        row.params = after["params"]
        row.updated_by = actor
        row.save()
        AuditRuleChange.objects.create(
            rule=row,
            changed_at=timezone.now(),
            actor=actor,
            reason=reason.strip()[:500],
            before=before,
            after=after,
        )
        record_staff_action(
            actor=actor,
            action="audit_rule.change",
            target=row,
            reason=reason,
            before=before,
            after=after,
        )
    return row


# --- claims -----------------------------------------------------------------------------------
def _require_agent(actor) -> None:
    if not actor.has_perm("orders.release_held_order"):
        raise DeskActionNotAllowed(_("You are not allowed to do this to this order."))


def _locked_exception(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not order.needs_review or order.state == OrderState.CANCELLED:
        raise DeskActionNotAllowed(_("This order is no longer in the exception queue."))
    return order


def claim_order(*, order_id: int, agent, take_over: bool = False) -> Claim:
    """`agent` takes the exception order. If another agent has it, `ClaimedByAnother` says who,
    unless `take_over` (the agent confirmed). Two agents claiming at once: the order's row lock
    makes one wait, and it then finds the other's claim."""
    _require_agent(agent)
    with transaction.atomic():
        order = _locked_exception(order_id)
        claim = Claim.objects.select_related("agent").filter(order_id=order_id).first()
        if claim is not None and claim.agent_id == agent.pk:
            return claim
        if claim is not None and not take_over:
            raise ClaimedByAnother(
                _("%(agent)s is already working on this order (since %(time)s).")
                % {
                    "agent": claim.agent,
                    "time": timezone.localtime(claim.claimed_at).strftime("%H:%M"),
                },
                claim,
            )
        if claim is None:
            return Claim.objects.create(order_id=order_id, agent=agent, claimed_at=timezone.now())
        previous = claim.agent
        claim.agent = agent
        claim.claimed_at = timezone.now()
        claim.save(update_fields=["agent", "claimed_at"])
        record_staff_action(
            actor=agent,
            action="order.take_over",
            target=order,
            before={"agent": str(previous)},
            after={"agent": str(agent)},
        )
        return claim


def unclaim_order(*, order_id: int, agent) -> None:
    """The agent puts the order back in the queue for anyone."""
    _require_agent(agent)
    Claim.objects.filter(order_id=order_id, agent=agent).delete()


def _claimed_for(order_id: int, agent) -> None:
    """Resolving an order is for the agent who has it: one not yet claimed is claimed now;
    one claimed by another must be taken over first."""
    claim_order(order_id=order_id, agent=agent)


# --- resolving exception orders ---------------------------------------------------------------
def fix_and_release(
    *, order_id: int, address: order_services.ShippingAddress, actor, reason: str
) -> Order:
    """The agent corrected the address or contact (if anything changed) and lets the order go
    on to the warehouse: both in one transaction, both in the timeline with the reason."""
    if not reason.strip():
        raise DeskActionNotAllowed(_("Say what was checked or fixed."))
    with transaction.atomic():
        _claimed_for(order_id, actor)
        order_services.change_address(
            order_id=order_id, address=address, actor=actor, reason=reason
        )
        return order_services.release_held_order(order_id=order_id, actor=actor, reason=reason)


def cancel_with_refund(*, order_id: int, actor, reason: str) -> Order:
    """The agent cancels the exception order: its stock goes back, the floor stops, and what
    was paid is refunded through the gateway once the cancellation commits."""
    if not reason.strip():
        raise DeskActionNotAllowed(_("Say why the order is cancelled."))
    with transaction.atomic():
        _claimed_for(order_id, actor)
        return order_services.cancel_order(order_id=order_id, actor=actor, reason=reason)


# --- agent order actions (ORD-7, AFS-1) -------------------------------------------------------
def labelled_parcels(order_id: int) -> list[str]:
    """Tracking numbers of the order's parcels labelled on the floor and not handed over: an
    address change gives them new labels to print (see `change_order_address`)."""
    return list(
        Parcel.objects.filter(
            fulfillment__order_id=order_id,
            fulfillment__state__in=[FulfillmentState.PICKED, FulfillmentState.PACKED],
            handed_over_at__isnull=True,
        )
        .order_by("pk")
        .values_list("tracking_number", flat=True)
    )


def change_order_address(
    *, order_id: int, address: order_services.ShippingAddress, actor, reason: str
) -> Order:
    """An agent changes where the order goes, at any point before shipment (ORD-7, AFS-1),
    the province too (the amounts stay as they were; the timeline says so).

    If parcels already carry labels with the old address, the warehouse floor hears of the
    change from the timeline entry (fulfillment's receiver, in this transaction) and refuses
    their hand-over until the packer has put new labels on."""
    if not reason.strip():
        raise DeskActionNotAllowed(_("Say why the address is changed."))
    if not actor.has_perm("orders.change_order_address"):
        raise DeskActionNotAllowed(_("You are not allowed to do this to this order."))
    return order_services.change_address(
        order_id=order_id, address=address, actor=actor, reason=reason
    )
