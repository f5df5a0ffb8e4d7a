"""The automated order audit (ORD-6): the rules an order is checked against when it is paid or
accepted for cash on delivery, and the registry they live in.

Adding a rule is one function:

    @rule("no_po_box", _("No PO box"), _("The address is not a PO box."),
          params=[Param("words", _("Words"), WORDS, ["信箱"])])
    def no_po_box(order: AuditedOrder, params: dict) -> str:
        hit = next((w for w in params["words"] if w in order.order.address_line), None)
        return _("The address looks like a PO box (“%(word)s”).") % {"word": hit} if hit else ""

It returns "" when the order passes, else the reason shown to the agent. Its thresholds are
declared with `Param`, typed and validated; staff change them (and switch the rule off) on the
audit rules screen, which stores them in `AuditRule`. A rule without a row runs with its
defaults.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from addresses import divisions
from addresses.validators import normalize_mobile
from orders import services as order_services
from orders.models import Order, OrderLine, OrderState

from .models import AuditFinding, AuditRule

logger = logging.getLogger(__name__)

DECIMAL, INTEGER, BOOLEAN, WORDS = "decimal", "integer", "boolean", "words"


@dataclass(frozen=True)
class Param:
    """One threshold of a rule. `kind` is DECIMAL (money), INTEGER, BOOLEAN or WORDS (a list of
    words or phrases)."""

    name: str
    label: str | Promise
    kind: str
    default: Any
    min_value: int | None = None
    help_text: str | Promise = ""

    def parse(self, raw: Any) -> Any:
        """The typed value of `raw` (as stored in JSON or typed in a form); ValidationError if
        it is not one."""
        if self.kind == BOOLEAN:
            if isinstance(raw, str):
                return raw.strip().lower() in ("1", "true", "on", "yes")
            return bool(raw)
        if self.kind == WORDS:
            items = raw.splitlines() if isinstance(raw, str) else list(raw or [])
            return [str(item).strip() for item in items if str(item).strip()]
        try:
            value = Decimal(str(raw).strip()) if self.kind == DECIMAL else int(str(raw).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError(_("Enter a number.")) from None
        if self.kind == DECIMAL and (
            not value.is_finite() or value != value.quantize(Decimal("0.01"))
        ):
            raise ValidationError(_("Enter an amount with at most two decimal places."))
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(_("Enter %(min)s or more.") % {"min": self.min_value})
        return value

    def to_json(self, value: Any) -> Any:
        return str(value) if self.kind == DECIMAL else value


Check = Callable[["AuditedOrder", dict], str]


@dataclass(frozen=True)
class RuleSpec:
    code: str
    label: str | Promise
    description: str | Promise
    check: Check
    params: tuple[Param, ...] = field(default_factory=tuple)
    enabled_by_default: bool = True

    def defaults(self) -> dict[str, Any]:
        return {param.name: param.default for param in self.params}

    def settings_from(self, stored: dict | None) -> dict[str, Any]:
        """The typed thresholds from a stored row's JSON; a missing or unreadable value falls
        back to its default, so a bad row cannot stop the audit."""
        values = self.defaults()
        for param in self.params:
            if stored and param.name in stored:
                try:
                    values[param.name] = param.parse(stored[param.name])
                except ValidationError:
                    logger.warning("audit rule %s: bad %s, default used", self.code, param.name)
        return values

    def clean(self, raw: dict) -> dict[str, Any]:
        """Typed thresholds from a form's strings; ValidationError naming each bad one."""
        values, errors = {}, {}
        for param in self.params:
            try:
                values[param.name] = param.parse(raw.get(param.name, param.default))
            except ValidationError as error:
                errors[param.name] = error.messages
        if errors:
            raise ValidationError(errors)
        return values

    def to_json(self, values: dict) -> dict:
        return {param.name: param.to_json(values[param.name]) for param in self.params}


REGISTRY: dict[str, RuleSpec] = {}


def rule(
    code: str,
    label: str | Promise,
    description: str | Promise,
    *,
    params: list[Param] | tuple[Param, ...] = (),
    enabled: bool = True,
) -> Callable[[Check], Check]:
    """Register `check` as the audit rule `code` (see the module's docstring)."""

    def register(check: Check) -> Check:
        if code in REGISTRY:
            raise ValueError(f"audit rule {code!r} is registered twice")
        REGISTRY[code] = RuleSpec(code, label, description, check, tuple(params), enabled)
        return check

    return register


class AuditedOrder:
    """The order under audit with what the rules read, each loaded once and only if asked."""

    def __init__(self, order: Order):
        self.order = order

    @cached_property
    def lines(self) -> list[OrderLine]:
        return list(self.order.lines.all())

    def buyer_filter(self) -> Q:
        """Orders of the same buyer: the same account, or the same contact e-mail for guests."""
        if self.order.customer_id is not None:
            return Q(customer_id=self.order.customer_id)
        return Q(customer__isnull=True, contact_email__iexact=self.order.contact_email)

    def same_address_filter(self) -> Q:
        o = self.order
        return Q(
            province=o.province,
            city=o.city,
            district=o.district,
            address_line__iexact=o.address_line.strip(),
        )

    def others(self):
        return Order.objects.exclude(pk=self.order.pk).exclude(state=OrderState.CANCELLED)


# --- the rules --------------------------------------------------------------------------------
@rule(
    "address",
    gettext_lazy("Address complete and valid"),
    gettext_lazy(
        "Recipient, province, city and district known to the division data, and a street "
        "address long enough to deliver to."
    ),
    params=[
        Param(
            "min_line_length",
            gettext_lazy("Shortest street address (characters)"),
            INTEGER,
            5,
            min_value=1,
        )
    ],
)
def check_address(audited: AuditedOrder, params: dict) -> str:
    order = audited.order
    problems = []
    if not order.recipient_name.strip():
        problems.append(_("no recipient"))
    if divisions.find_by_names(order.province, order.city, order.district) is None:
        problems.append(
            _("“%(region)s” is not a known province, city and district")
            % {"region": " ".join(filter(None, (order.province, order.city, order.district)))}
        )
    if len(order.address_line.strip()) < params["min_line_length"]:
        problems.append(_("the street address is missing or too short"))
    if not problems:
        return ""
    return _("Address: %(problems)s.") % {"problems": "; ".join(problems)}


@rule(
    "phone",
    gettext_lazy("Mobile phone valid"),
    gettext_lazy("The recipient's phone is a valid mainland China mobile number."),
)
def check_phone(audited: AuditedOrder, params: dict) -> str:
    try:
        normalize_mobile(audited.order.recipient_phone)
    except ValidationError:
        return _("Phone: “%(phone)s” is not a valid mainland mobile number.") % {
            "phone": audited.order.recipient_phone
        }
    return ""


@rule(
    "amounts",
    gettext_lazy("Amounts add up"),
    gettext_lazy(
        "Unit price × quantity of the lines makes the goods amount, the lines' discounts the "
        "discount, goods − discount + shipping the total; a prepaid order was paid its total."
    ),
)
def check_amounts(audited: AuditedOrder, params: dict) -> str:
    order = audited.order
    goods = sum((line.unit_price * line.quantity for line in audited.lines), Decimal("0.00"))
    discount = sum((line.discount_amount for line in audited.lines), Decimal("0.00"))
    problems = []
    if goods != order.goods_amount:
        problems.append(
            _("the lines come to %(lines)s, the goods amount is %(goods)s")
            % {"lines": goods, "goods": order.goods_amount}
        )
    if discount != order.discount_amount:
        problems.append(
            _("the lines' discounts come to %(lines)s, the order's discount is %(discount)s")
            % {"lines": discount, "discount": order.discount_amount}
        )
    expected_total = order.goods_amount - order.discount_amount + order.shipping_amount
    if expected_total != order.total_amount or order.total_amount < 0:
        problems.append(
            _("goods − discount + shipping is %(expected)s, the total is %(total)s")
            % {"expected": expected_total, "total": order.total_amount}
        )
    if order.is_prepaid() and order.paid_at is not None and order.paid_amount != order.total_amount:
        problems.append(
            _("paid %(paid)s for a total of %(total)s")
            % {"paid": order.paid_amount, "total": order.total_amount}
        )
    if not problems:
        return ""
    return _("Amounts: %(problems)s.") % {"problems": "; ".join(problems)}


@rule(
    "duplicate",
    gettext_lazy("No near-duplicate order"),
    gettext_lazy(
        "No other order (not cancelled) from the same customer — or the same contact e-mail "
        "for guests — to the same address placed within the window; with “same items only”, "
        "only one with exactly the same SKUs counts."
    ),
    params=[
        Param("window_minutes", gettext_lazy("Window (minutes)"), INTEGER, 30, min_value=1),
        Param("same_items_only", gettext_lazy("Same items only"), BOOLEAN, True),
    ],
)
def check_duplicate(audited: AuditedOrder, params: dict) -> str:
    order = audited.order
    if order.total_amount == 0:
        return ""  # an after-sales replacement repeats its original order on purpose
    window = timedelta(minutes=params["window_minutes"])
    candidates = list(
        audited.others()
        .filter(audited.buyer_filter(), audited.same_address_filter())
        .exclude(total_amount=0)
        .filter(
            created_at__gte=order.created_at - window, created_at__lte=order.created_at + window
        )
        .order_by("created_at")
        .values_list("pk", "number")[:20]
    )
    if candidates and params["same_items_only"]:
        mine = sorted((line.sku_id, line.quantity) for line in audited.lines)
        theirs: dict[int, list] = {pk: [] for pk, _number in candidates}
        for order_id, sku_id, quantity in OrderLine.objects.filter(
            order_id__in=list(theirs)
        ).values_list("order_id", "sku_id", "quantity"):
            theirs[order_id].append((sku_id, quantity))
        candidates = [(pk, n) for pk, n in candidates if sorted(theirs[pk]) == mine]
    if not candidates:
        return ""
    return _(
        "Possible duplicate: order(s) %(numbers)s from the same buyer to the same address "
        "within %(minutes)d minutes."
    ) % {
        "numbers": ", ".join(number for _pk, number in candidates),
        "minutes": params["window_minutes"],
    }


@rule(
    "note",
    gettext_lazy("No buyer note needing a person"),
    gettext_lazy(
        "The customer's note contains none of the words below (any case); with “any note”, "
        "every order with a note goes to a person."
    ),
    params=[
        Param(
            "keywords",
            gettext_lazy("Words that need a person (one a line)"),
            WORDS,
            [
                "改地址",
                "换地址",
                "地址错",
                "联系我",
                "打电话",
                "加急",
                "取消",
                "退款",
                "change address",
                "call me",
                "urgent",
                "cancel",
                "refund",
            ],
        ),
        Param("any_note", gettext_lazy("Any note at all"), BOOLEAN, False),
    ],
)
def check_note(audited: AuditedOrder, params: dict) -> str:
    note = audited.order.customer_note.strip()
    if not note:
        return ""
    if params["any_note"]:
        return _("Buyer note to read: “%(note)s”.") % {"note": note[:100]}
    lowered = note.lower()
    hits = [word for word in params["keywords"] if word.lower() in lowered]
    if not hits:
        return ""
    return _("Buyer note mentions %(words)s: “%(note)s”.") % {
        "words": ", ".join(f"“{word}”" for word in hits),
        "note": note[:100],
    }


@rule(
    "max_value",
    gettext_lazy("Not above the order value limit"),
    gettext_lazy("Orders whose total is above the limit are checked by a person."),
    params=[Param("amount", gettext_lazy("Limit"), DECIMAL, Decimal("20000.00"), min_value=0)],
)
def check_max_value(audited: AuditedOrder, params: dict) -> str:
    if audited.order.total_amount <= params["amount"]:
        return ""
    return _("Order value %(total)s is above the limit of %(limit)s.") % {
        "total": audited.order.total_amount,
        "limit": params["amount"],
    }


@rule(
    "first_order_value",
    gettext_lazy("Risk: a new buyer's large first order"),
    gettext_lazy(
        "A buyer with no earlier paid or shipped order (same account, or same contact e-mail "
        "for guests) whose first order is above the amount: the usual pattern of stolen "
        "cards and fake addresses, worth a phone call."
    ),
    params=[Param("amount", gettext_lazy("Amount"), DECIMAL, Decimal("5000.00"), min_value=0)],
)
def check_first_order_value(audited: AuditedOrder, params: dict) -> str:
    order = audited.order
    if order.total_amount <= params["amount"]:
        return ""
    earlier = (
        audited.others()
        .filter(audited.buyer_filter(), created_at__lt=order.created_at)
        .exclude(state=OrderState.PENDING_PAYMENT)
        .exists()
    )
    if earlier:
        return ""
    return _("First order of a new buyer, %(total)s, is above %(amount)s.") % {
        "total": order.total_amount,
        "amount": params["amount"],
    }


@rule(
    "orders_per_address",
    gettext_lazy("Risk: many orders to one address in a day"),
    gettext_lazy(
        "More than the given number of orders (any buyer, not cancelled) to the same address "
        "in the 24 hours before this one: resellers and fraud rings. Off by default, as offices "
        "and campuses receive many orders."
    ),
    params=[Param("max_orders", gettext_lazy("Most orders a day"), INTEGER, 5, min_value=1)],
    enabled=False,
)
def check_orders_per_address(audited: AuditedOrder, params: dict) -> str:
    order = audited.order
    count = (
        audited.others()
        .filter(
            audited.same_address_filter(),
            created_at__gte=order.created_at - timedelta(days=1),
            created_at__lte=order.created_at,
        )
        .count()
    )
    if count + 1 <= params["max_orders"]:
        return ""
    return _("%(count)d orders to this address within a day (limit %(max)d).") % {
        "count": count + 1,
        "max": params["max_orders"],
    }


# --- running the audit ------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    code: str
    reason: str


def active_rules() -> list[tuple[RuleSpec, dict]]:
    """The enabled rules with their thresholds, in registry order (one query)."""
    stored = {row.code: row for row in AuditRule.objects.all()}
    active = []
    for code, spec in REGISTRY.items():
        row = stored.get(code)
        enabled = row.enabled if row is not None else spec.enabled_by_default
        if enabled:
            active.append((spec, spec.settings_from(row.params if row is not None else None)))
    return active


def findings_for(order: Order) -> list[Finding]:
    """Every enabled rule `order` fails. A rule that breaks is a finding too: an order nobody
    could check goes to a person rather than to the warehouse."""
    audited = AuditedOrder(order)
    rules = active_rules()
    findings = []
    try:
        with transaction.atomic():  # a database error in a rule must not end the payment
            for spec, params in rules:
                try:
                    reason = spec.check(audited, params)
                except DatabaseError:
                    raise
                except Exception:
                    logger.exception("audit rule %s failed on order %s", spec.code, order.pk)
                    reason = _("The “%(rule)s” check could not run.") % {"rule": spec.label}
                if reason:
                    findings.append(Finding(spec.code, str(reason)))
    except DatabaseError:
        logger.exception("the audit of order %s failed", order.pk)
        findings = [Finding("audit", _("The automated audit could not run."))]
    return findings


def audit_order(*, order_id: int) -> list[Finding]:
    """Check the order against every enabled rule, in the caller's transaction. If any fails,
    the order is held with every reason (`orders.services.flag_for_review`, which writes the
    order event and tells the agents) and the findings are kept for the queue's filters;
    otherwise nothing is written and the order goes on to the warehouse by itself."""
    order = Order.objects.get(pk=order_id)
    findings = findings_for(order)
    if not findings:
        return []
    now = timezone.now()
    AuditFinding.objects.bulk_create(
        [
            AuditFinding(order_id=order_id, code=f.code, reason=f.reason[:500], found_at=now)
            for f in findings
        ]
    )
    order_services.flag_for_review(
        order_id=order_id,
        reason="; ".join(f.reason for f in findings),
        details={"rules": [{"code": f.code, "reason": f.reason} for f in findings]},
    )
    return findings
