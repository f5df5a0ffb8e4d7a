"""Write operations on after-sales requests (AFS-1 to AFS-4): submit, withdraw, decide, the
customer's return parcel, refunds and changes of information.

Every service locks the order row, then the request row (`_lock`), so that two services
touching requests of the same order never deadlock and the quantity and shipping caps are
checked against what they locked. It calls the request's FSM transition (never assigns the
state), writes a `RequestEvent` and tells the customer through the notification outbox, all in
one transaction. Refunds are the exception: the payment gateway is never called while a row is
locked (see `issue_refund`).

The warehouse side (receiving returns, replacement orders) lives in `aftersales.returns` and
`aftersales.replacements`; they use the same model transitions and may call `close_request`.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.audit import record_staff_action
from core.errors import DomainError
from notifications import conf as notification_conf
from notifications.models import NotificationKind
from notifications.services import customer_language, notify
from orders import services as order_services
from orders.models import Carrier, Order, OrderLine, OrderState
from orders.shipments import TRACKING_NUMBER, normalize_tracking_number
from payments import services as payment_services
from payments.models import Payment, Refund, RefundStatus

from .models import (
    REFUND_KINDS,
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestLine,
    RequestPhoto,
    RequestReason,
    RequestState,
)
from .selectors import refund_preview

ADD_PERMISSION = "aftersales.add_aftersalesrequest"
DECIDE_PERMISSION = "aftersales.decide_request"
INSPECT_PERMISSION = "aftersales.inspect_return"
REFUND_PERMISSION = "payments.refund_payment"

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# What a photo's first bytes must be; the file's name and the browser's type are not trusted.
PHOTO_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

# Goods must have reached the customer for these (AFS-2); a change of information may also
# come before shipment (AFS-1), the agent applying it.
SHIPPED_STATES = (OrderState.SHIPPED, OrderState.COMPLETED)
# Requests that no longer count against what may still be asked for.
DROPPED_STATES = (RequestState.REJECTED, RequestState.WITHDRAWN)
# Where a refund kind waits for its money.
REFUND_READY_STATE = {
    RequestKind.REFUND_ONLY: RequestState.APPROVED,
    RequestKind.RETURN_REFUND: RequestState.RECEIVED,
}
REASON_MAX = 500


class AfterSalesNotAllowed(DomainError):
    """The request or the step is refused: state, permission, quantities or amounts."""


class InvalidPhoto(AfterSalesNotAllowed):
    """A photo is not a JPEG, PNG or WebP image, is too large, or there are too many."""


# --- photos -----------------------------------------------------------------------------------
def photo_type(file) -> str | None:
    """The photo's type read from its first bytes ("image/jpeg", "image/png", "image/webp"),
    or None for anything else."""
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(12)
    file.seek(position)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photos(photos: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """Each photo with its type; `InvalidPhoto` names the first that is refused and why."""
    photos = [photo for photo in photos if photo]
    if len(photos) > MAX_PHOTOS:
        raise InvalidPhoto(
            _("At most %(max)d photos can be attached to a request.") % {"max": MAX_PHOTOS}
        )
    checked = []
    for photo in photos:
        if photo.size > MAX_PHOTO_BYTES:
            raise InvalidPhoto(
                _("“%(name)s” is larger than %(max)d MB; please send a smaller photo.")
                % {"name": photo.name, "max": MAX_PHOTO_BYTES // (1024 * 1024)}
            )
        content_type = photo_type(photo)
        if content_type is None:
            raise InvalidPhoto(
                _("“%(name)s” is not a JPEG, PNG or WebP image.") % {"name": photo.name}
            )
        checked.append((photo, content_type))
    return checked


def _store_photos(request: AfterSalesRequest, photos: list[tuple[UploadedFile, str]]) -> None:
    for photo, content_type in photos:
        # A name of our own: the customer's file name says nothing we need and may say more.
        photo.name = f"{uuid.uuid4().hex}{PHOTO_EXTENSIONS[content_type]}"
        RequestPhoto.objects.create(
            request=request, image=photo, content_type=content_type, size=photo.size
        )


# --- helpers ----------------------------------------------------------------------------------
def _locked_order(order_id: int) -> Order:
    """The order, locked (only its own row: the customer is read along, not locked)."""
    return Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order_id)


def _lock(request_id: int) -> tuple[AfterSalesRequest, Order]:
    """Lock the request's order, then the request (the same order in every service)."""
    order_id = (
        AfterSalesRequest.objects.filter(pk=request_id).values_list("order_id", flat=True).first()
    )
    if order_id is None:
        raise AfterSalesNotAllowed(_("This after-sales request does not exist."))
    order = _locked_order(order_id)
    request = AfterSalesRequest.objects.select_for_update().get(pk=request_id)
    request.order = order
    return request, order


def _refuse_state(request: AfterSalesRequest, action: str) -> AfterSalesNotAllowed:
    return AfterSalesNotAllowed(
        _("Request %(number)s is “%(state)s”: %(action)s is not possible now.")
        % {"number": request.number, "state": request.get_state_display(), "action": action}
    )


def _clean_reason(reason: str, missing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AfterSalesNotAllowed(missing)
    return reason[:REASON_MAX]


def _event(
    request: AfterSalesRequest,
    *,
    kind: str,
    actor,
    from_state: str = "",
    reason: str = "",
    details: dict | None = None,
) -> RequestEvent:
    event = RequestEvent.objects.create(
        request=request,
        created_at=timezone.now(),
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=request.state,
        reason=reason[:REASON_MAX],
        details=details or {},
    )
    # The audit trail (SEC-4) keeps the staff's steps; a customer's own are not staff actions.
    record_staff_action(
        actor=actor,
        action=f"aftersales.{kind}",
        target=request,
        reason=reason,
        before={"state": from_state} if from_state else None,
        after={"state": request.state, **(details or {})},
    )
    return event


def notify_customer(
    request: AfterSalesRequest,
    *,
    kind: str,
    key: str,
    details: dict | None = None,
    reason: Callable[[], str] | None = None,
) -> None:
    """Tell the request's customer (a guest at the order's e-mail) about a step, in their
    language, in the caller's transaction (the notification outbox): once per `key`.
    `reason`, if given, is called in the customer's language for the text under the message."""
    order = request.order
    language = customer_language(order)
    context = {"request": request.number, "request_id": request.pk}
    if order.customer_id is not None:
        context["request_url"] = notification_conf.site_url() + reverse(
            "my_aftersales:detail", args=[request.number]
        )
    if reason is not None:
        with translation.override(language):
            context["reason"] = str(reason())
    context.update(details or {})
    notify(
        kind=kind,
        key=key,
        order=order,
        recipient=order.customer,
        address=order.contact_email or (order.customer.email if order.customer else ""),
        language=language,
        context=context,
    )


def covered_quantities(*, order_id: int, exclude_request_id: int | None = None) -> dict[int, int]:
    """Units of each order line already asked for by the order's requests that still count
    (open or closed; not rejected or withdrawn)."""
    rows = (
        RequestLine.objects.filter(request__order_id=order_id)
        .exclude(request__state__in=DROPPED_STATES)
        .exclude(request_id=exclude_request_id)
        .values("order_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("order_line_id", "units")
    )
    return dict(rows)


# --- submit and withdraw ----------------------------------------------------------------------
def submit_request(
    *,
    order_id: int,
    kind: str,
    reason: str,
    description: str = "",
    lines: Iterable[tuple[int, int]] = (),
    photos: Sequence[UploadedFile] = (),
    actor,
    requested_change: str = "",
) -> AfterSalesRequest:
    """Open an after-sales request for order `order_id` (AFS-2, AFS-3).

    Only the order's customer, or an agent holding aftersales.add_aftersalesrequest (on the
    phone). Goods kinds need a shipped or completed order and at least one line; a change of
    information may come at any point before cancellation and says what to change. Units asked
    per line never exceed what was sold minus what the order's other requests (open or closed,
    not rejected or withdrawn) already cover: the order row is locked while that is checked.
    Photos are checked (type by their first bytes, size, count) before anything is written.
    Writes the "submitted" event and tells the customer.
    """
    if kind not in RequestKind.values:
        raise AfterSalesNotAllowed(_("Choose what you are asking for."))
    if reason not in RequestReason.values:
        raise AfterSalesNotAllowed(_("Choose a reason."))
    description = (description or "").strip()
    requested_change = (requested_change or "").strip()
    checked_photos = check_photos(photos)
    wanted: dict[int, int] = {}
    for order_line_id, quantity in lines:
        quantity = int(quantity)
        if quantity < 0:
            raise AfterSalesNotAllowed(_("Quantities cannot be negative."))
        if quantity:
            wanted[int(order_line_id)] = wanted.get(int(order_line_id), 0) + quantity

    with transaction.atomic():
        order = _locked_order(order_id)
        is_owner = actor is not None and order.customer_id is not None
        is_owner = is_owner and actor.pk == order.customer_id
        if not is_owner and not (actor is not None and actor.has_perm(ADD_PERMISSION)):
            raise AfterSalesNotAllowed(_("You are not allowed to open a request for this order."))
        if kind == RequestKind.CHANGE_INFO:
            if order.state == OrderState.CANCELLED:
                raise AfterSalesNotAllowed(
                    _("Order %(number)s is cancelled: there is nothing to change.")
                    % {"number": order.number}
                )
            if not requested_change:
                raise AfterSalesNotAllowed(_("Say what should be changed."))
        else:
            if order.state not in SHIPPED_STATES:
                raise AfterSalesNotAllowed(
                    _(
                        "Order %(number)s is “%(state)s”: returns, refunds, exchanges and "
                        "re-shipments are for orders that have been shipped."
                    )
                    % {"number": order.number, "state": order.get_state_display()}
                )
            if not wanted:
                raise AfterSalesNotAllowed(_("Choose at least one item and how many."))
        sold = dict(OrderLine.objects.filter(order=order).values_list("pk", "quantity"))
        unknown = set(wanted) - set(sold)
        if unknown:
            raise AfterSalesNotAllowed(_("Some of the items chosen are not in this order."))
        covered = covered_quantities(order_id=order.pk)
        names = dict(OrderLine.objects.filter(pk__in=wanted).values_list("pk", "product_name"))
        for line_id, quantity in wanted.items():
            left = sold[line_id] - covered.get(line_id, 0)
            if quantity > left:
                raise AfterSalesNotAllowed(
                    _(
                        "At most %(left)d of “%(name)s” can still be asked for "
                        "(%(sold)d bought, %(covered)d in other requests)."
                    )
                    % {
                        "left": max(left, 0),
                        "name": names[line_id],
                        "sold": sold[line_id],
                        "covered": covered.get(line_id, 0),
                    }
                )
        request = AfterSalesRequest.objects.create(
            order=order,
            customer=order.customer,
            kind=kind,
            reason=reason,
            description=description[:2000],
            requested_change=requested_change[:1000],
            submitted_by=actor,
            created_at=timezone.now(),
        )
        RequestLine.objects.bulk_create(
            RequestLine(request=request, order_line_id=line_id, quantity=quantity)
            for line_id, quantity in sorted(wanted.items())
        )
        _store_photos(request, checked_photos)
        _event(
            request,
            kind=RequestEventKind.SUBMITTED,
            actor=actor,
            details={
                "lines": {str(line_id): quantity for line_id, quantity in wanted.items()},
                "photos": len(checked_photos),
                "by_agent": not is_owner,
            },
        )
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_SUBMITTED,
            key=f"aftersales_submitted:{request.pk}",
        )
    return request


def withdraw_request(*, request_id: int, actor, reason: str = "") -> AfterSalesRequest:
    """The customer takes back their request while it waits for a decision."""
    with transaction.atomic():
        request, _order = _lock(request_id)
        if actor is None or request.customer_id is None or actor.pk != request.customer_id:
            raise AfterSalesNotAllowed(_("Only the customer who asked can withdraw a request."))
        if not can_proceed(request.withdraw):
            raise _refuse_state(request, _("withdrawing it"))
        from_state = request.state
        request.withdraw()
        request.closed_at = timezone.now()
        request.save()
        _event(
            request,
            kind=RequestEventKind.WITHDRAWN,
            actor=actor,
            from_state=from_state,
            reason=(reason or "").strip(),
        )
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_WITHDRAWN,
            key=f"aftersales_withdrawn:{request.pk}",
        )
    return request


# --- decisions --------------------------------------------------------------------------------
def _check_agent(actor, permission: str = DECIDE_PERMISSION) -> None:
    if actor is None or not actor.has_perm(permission):
        raise AfterSalesNotAllowed(_("You are not allowed to do this to after-sales requests."))


def approve_request(
    *, request_id: int, actor, reason: str, refund_shipping: bool = False
) -> AfterSalesRequest:
    """An agent accepts a request, with the refund it allows (AFS-3, AFS-4).

    For refund kinds each line's refund is its net amount per unit (rounded to the cent) ×
    units; the request that completes a line's units gets what is left of the line's net
    amount, so that all of a line's refunds add up to it exactly. With `refund_shipping`, the
    order's shipping is added, once per order (refused if another request already has it).
    The order is locked, so two approvals of the same order are computed one after the other.
    """
    _check_agent(actor)
    reason = _clean_reason(reason, _("Say why the request is approved."))
    with transaction.atomic():
        request, order = _lock(request_id)
        if not can_proceed(request.approve):
            raise _refuse_state(request, _("approving it"))
        preview = refund_preview(request, refund_shipping=refund_shipping)
        if preview.shipping_taken_by:
            raise AfterSalesNotAllowed(
                _("The shipping of order %(order)s is already refunded by request %(other)s.")
                % {"order": order.number, "other": preview.shipping_taken_by}
            )
        amounts = dict(preview.line_amounts)
        lines = list(request.lines.all())
        for line in lines:
            line.refund_amount = amounts.get(line.pk, Decimal("0.00"))
        RequestLine.objects.bulk_update(lines, ["refund_amount"])
        from_state = request.state
        request.approve()
        request.agent = actor
        request.decision_reason = reason
        request.decided_at = timezone.now()
        request.refund_shipping = preview.shipping > 0
        request.approved_refund = preview.total
        request.save()
        _event(
            request,
            kind=RequestEventKind.APPROVED,
            actor=actor,
            from_state=from_state,
            reason=reason,
            details={
                "refund": str(preview.total),
                "shipping": str(preview.shipping),
                "lines": {str(pk): str(amount) for pk, amount in preview.line_amounts},
            },
        )
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_APPROVED,
            key=f"aftersales_approved:{request.pk}",
            details={
                "reason": reason,
                "amount": str(preview.total) if preview.total else "",
                "return_needed": request.expects_return(),
            },
        )
    return request


def reject_request(*, request_id: int, actor, reason: str) -> AfterSalesRequest:
    """An agent refuses a request, with the reason the customer reads."""
    _check_agent(actor)
    reason = _clean_reason(reason, _("Say why the request is rejected."))
    with transaction.atomic():
        request, _order = _lock(request_id)
        if not can_proceed(request.reject):
            raise _refuse_state(request, _("rejecting it"))
        from_state = request.state
        request.reject()
        request.agent = actor
        request.decision_reason = reason
        request.decided_at = request.closed_at = timezone.now()
        request.save()
        _event(
            request,
            kind=RequestEventKind.REJECTED,
            actor=actor,
            from_state=from_state,
            reason=reason,
        )
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_REJECTED,
            key=f"aftersales_rejected:{request.pk}",
            details={"reason": reason},
        )
    return request


# --- the customer's return parcel -------------------------------------------------------------
def enter_return_shipment(
    *, request_id: int, carrier_code: str, tracking_number: str, actor
) -> AfterSalesRequest:
    """The customer sent the goods back: the carrier and tracking number, checked like the
    warehouse's own (AFS-3). An agent taking it on the phone may enter it too."""
    number = normalize_tracking_number(tracking_number)
    if not TRACKING_NUMBER.match(number):
        raise AfterSalesNotAllowed(
            _("“%(number)s” is not a tracking number: it should be 8 to 30 letters and digits.")
            % {"number": tracking_number}
        )
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if carrier is None:
        raise AfterSalesNotAllowed(_("Choose the carrier you sent the parcel with."))
    with transaction.atomic():
        request, _order = _lock(request_id)
        is_owner = actor is not None and actor.pk == request.customer_id
        if not is_owner and not (actor is not None and actor.has_perm(ADD_PERMISSION)):
            raise AfterSalesNotAllowed(_("You are not allowed to do this to this request."))
        if not can_proceed(request.ship_return):
            raise _refuse_state(request, _("entering a return parcel"))
        from_state = request.state
        request.ship_return()
        request.return_carrier = carrier
        request.return_tracking_number = number
        request.return_shipped_at = timezone.now()
        request.save()
        _event(
            request,
            kind=RequestEventKind.RETURN_SHIPPED,
            actor=actor,
            from_state=from_state,
            details={"carrier": carrier.code, "tracking_number": number},
        )
    return request


# --- refunds ----------------------------------------------------------------------------------
def _refund_reference(request: AfterSalesRequest, payment: Payment) -> str | None:
    """The reference of this request's refund of `payment`: the one already asked for (pending
    or succeeded), or a new one after a refund the gateway refused. Derived from the request,
    so two clicks at once ask for the same refund."""
    base = f"{AfterSalesRequest.NUMBER_PREFIX}{request.pk}-P{payment.pk}-"
    earlier = list(
        Refund.objects.filter(payment=payment, reference__startswith=base)
        .order_by("pk")
        .values_list("reference", "status")
    )
    if earlier and earlier[-1][1] != RefundStatus.FAILED:
        return earlier[-1][0]
    return f"{base}{len(earlier) + 1}"


def _check_refundable(request: AfterSalesRequest) -> None:
    if request.kind not in REFUND_KINDS:
        raise AfterSalesNotAllowed(
            _("Request %(number)s is not for a refund.") % {"number": request.number}
        )
    if request.state != REFUND_READY_STATE[request.kind]:
        raise _refuse_state(request, _("issuing its refund"))


def issue_refund(
    *, request_id: int, actor, reason: str = "", payout_reference: str = ""
) -> AfterSalesRequest:
    """Give the approved refund back and close the request (AFS-4): a refund-only request once
    approved, a return once its goods were received.

    Online orders: through `payments.services.refund_payment` for the order's paid payments,
    in pk order, with references derived from the request, so that a second click (at the same
    time or later) finds the same refund instead of making another; refund_payment caps it at
    what was paid minus earlier refunds and its refusal is passed on. The gateway is called
    with no row locked: the request is checked in one transaction, refunded, then closed in
    another (a request already closed by a concurrent click is returned as it is). A refund
    the gateway could not be reached for stays pending and the request open: ask again.

    Cash-on-delivery orders have no gateway: the refund is a manual payout, recorded with the
    agent and the `payout_reference` they typed (a bank transfer number), capped at the cash
    collected minus earlier payouts of the order, in one transaction. An order from another
    sales channel was paid there and is refunded there the same way (ORD-12): the reference is
    the channel's refund number.

    Needs payments.refund_payment (customer service; not the warehouse or managers).
    """
    _check_agent(actor, REFUND_PERMISSION)
    _check_agent(actor, DECIDE_PERMISSION)
    reason = (reason or "").strip()
    with transaction.atomic(durable=True):
        request, order = _lock(request_id)
        _check_refundable(request)
        if order.refunded_by_hand() or request.approved_refund == 0:
            return _record_manual_payout(
                request, order, actor=actor, reason=reason, reference=payout_reference
            )
        payments = list(
            Payment.objects.filter(
                order=order, status__in=payment_services.REFUNDABLE_STATUSES
            ).order_by("pk")
        )
        if not payments:
            raise AfterSalesNotAllowed(
                _("No payment of order %(number)s went through: there is nothing to refund.")
                % {"number": order.number}
            )
        amount = request.approved_refund
        refund_reason = reason or _("After-sales request %(number)s") % {"number": request.number}

    refunds = []
    remaining = amount
    for index, payment in enumerate(payments):
        if remaining <= 0:
            break
        reference = _refund_reference(request, payment)
        existing = Refund.objects.filter(reference=reference).first()
        if existing is not None:
            part = existing.amount
        elif index == len(payments) - 1:
            part = remaining  # refund_payment refuses it if more than what is left
        else:
            part = min(remaining, payment_services.refundable_amount(payment))
            if part <= 0:
                continue
        refund = payment_services.refund_payment(
            payment_id=payment.pk,
            amount=part,
            actor=actor,
            reason=refund_reason,
            reference=reference,
        )
        if refund.status == RefundStatus.FAILED:
            raise AfterSalesNotAllowed(
                _("The payment gateway refused refund %(reference)s: %(detail)s")
                % {"reference": refund.reference, "detail": refund.detail or "-"}
            )
        refunds.append(refund)
        remaining -= refund.amount

    with transaction.atomic(durable=True):
        request, order = _lock(request_id)
        if request.state == RequestState.CLOSED:
            return request  # closed by a concurrent click with the same refunds
        _check_refundable(request)
        _close_refunded(
            request,
            actor=actor,
            reason=reason,
            amount=sum((refund.amount for refund in refunds), Decimal("0.00")),
            details={
                "method": "gateway",
                "refunds": [refund.reference for refund in refunds],
            },
        )
    return request


def _manual_payouts_of(order: Order, *, exclude_request_id: int) -> Decimal:
    amounts = RequestEvent.objects.filter(
        request__order=order, kind=RequestEventKind.REFUNDED, details__method="manual"
    ).exclude(request_id=exclude_request_id)
    paid_out = amounts.values_list("details", flat=True)
    return sum((Decimal(details.get("amount", "0")) for details in paid_out), Decimal("0.00"))


def _record_manual_payout(
    request: AfterSalesRequest, order: Order, *, actor, reason: str, reference: str
) -> AfterSalesRequest:
    """A refund paid by hand (cash on delivery), or nothing to pay (an approved refund of 0):
    recorded and the request closed, with the order locked."""
    amount = request.approved_refund
    reference = (reference or "").strip()[:100]
    if amount > 0:
        if not reference and order.store_id is not None:
            raise AfterSalesNotAllowed(
                _(
                    "Order %(number)s was paid on %(store)s: refund it there and type the "
                    "refund's number."
                )
                % {"number": order.number, "store": order.store}
            )
        if not reference:
            raise AfterSalesNotAllowed(
                _(
                    "Order %(number)s was paid in cash on delivery: pay the refund out by hand "
                    "and type its reference (the transfer number)."
                )
                % {"number": order.number}
            )
        left = order.paid_amount - _manual_payouts_of(order, exclude_request_id=request.pk)
        if amount > left:
            raise AfterSalesNotAllowed(
                _(
                    "At most %(left)s of order %(number)s can still be paid out: the cash "
                    "collected minus earlier payouts."
                )
                % {"left": max(left, Decimal("0.00")), "number": order.number}
            )
        order_services.record_refund(
            order_id=order.pk,
            amount=amount,
            reference=reference,
            actor=actor,
            reason=reason or _("After-sales request %(number)s") % {"number": request.number},
        )
    _close_refunded(
        request,
        actor=actor,
        reason=reason,
        amount=amount,
        details={"method": "manual", "reference": reference, "agent": actor.pk},
    )
    return request


def _close_refunded(
    request: AfterSalesRequest, *, actor, reason: str, amount: Decimal, details: dict
) -> None:
    from_state = request.state
    _event(
        request,
        kind=RequestEventKind.REFUNDED,
        actor=actor,
        from_state=from_state,
        reason=reason,
        details={"amount": str(amount), **details},
    )
    request.close()
    request.closed_at = timezone.now()
    if request.agent_id is None:
        request.agent = actor
    request.save()
    _event(request, kind=RequestEventKind.CLOSED, actor=actor, from_state=from_state, reason=reason)
    notify_customer(
        request,
        kind=NotificationKind.AFTERSALES_REFUNDED,
        key=f"aftersales_refunded:{request.pk}",
        details={"amount": str(amount), "manual": details.get("method") == "manual"},
    )


# --- change of information and closing --------------------------------------------------------
def apply_info_change(
    *,
    request_id: int,
    actor,
    reason: str,
    address: order_services.ShippingAddress | None = None,
) -> AfterSalesRequest:
    """An agent applies a change of information and closes the request (AFS-1, AFS-2).

    With `address`, the order's shipping address changes through
    `orders.services.change_address` (which refuses it once the order shipped); otherwise
    `reason` says what was changed (invoice, contact). A request still waiting for a decision
    is approved on the way.
    """
    _check_agent(actor)
    reason = _clean_reason(reason, _("Say what was changed."))
    with transaction.atomic():
        request, order = _lock(request_id)
        if request.kind != RequestKind.CHANGE_INFO:
            raise AfterSalesNotAllowed(
                _("Request %(number)s is not a change of information.") % {"number": request.number}
            )
        if request.state not in (RequestState.SUBMITTED, RequestState.APPROVED):
            raise _refuse_state(request, _("applying the change"))
        if address is not None:
            order_services.change_address(
                order_id=order.pk, address=address, actor=actor, reason=reason
            )
        from_state = request.state
        now = timezone.now()
        if request.state == RequestState.SUBMITTED:
            request.approve()
            request.decision_reason = reason
            request.decided_at = now
            _event(request, kind=RequestEventKind.APPROVED, actor=actor, from_state=from_state)
        _event(
            request,
            kind=RequestEventKind.INFO_CHANGED,
            actor=actor,
            from_state=request.state,
            reason=reason,
            details={"address": vars(address)} if address is not None else {},
        )
        before_close = request.state
        request.close()
        request.agent = actor
        request.closed_at = now
        request.save()
        _event(request, kind=RequestEventKind.CLOSED, actor=actor, from_state=before_close)
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_CLOSED,
            key=f"aftersales_closed:{request.pk}",
            details={"reason": reason},
        )
    return request


def close_request(*, request_id: int, actor, reason: str) -> AfterSalesRequest:
    """Close a request that is resolved (or that will not be, with the reason why).

    An agent (aftersales.decide_request) may close any request the model lets close; the
    warehouse (aftersales.inspect_return) and the system (`actor=None`) only a request that
    sends a replacement: a refund is closed by `issue_refund`, which pays it.
    """
    reason = _clean_reason(reason, _("Say why the request is closed."))
    with transaction.atomic():
        request, _order = _lock(request_id)
        is_agent = actor is not None and actor.has_perm(DECIDE_PERMISSION)
        if not is_agent:
            may = actor is None or actor.has_perm(INSPECT_PERMISSION)
            if not may or not request.sends_replacement():
                raise AfterSalesNotAllowed(_("You are not allowed to close this request."))
        if not can_proceed(request.close):
            raise _refuse_state(request, _("closing it"))
        from_state = request.state
        request.close()
        request.closed_at = timezone.now()
        request.save()
        _event(
            request, kind=RequestEventKind.CLOSED, actor=actor, from_state=from_state, reason=reason
        )
        notify_customer(
            request,
            kind=NotificationKind.AFTERSALES_CLOSED,
            key=f"aftersales_closed:{request.pk}",
            details={"reason": reason},
        )
    return request
