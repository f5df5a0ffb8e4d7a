"""The audit trail of staff actions (SEC-4).

Every service a staff member acts through calls `record_staff_action` once, inside its own
transaction, so the entry and the change commit or roll back together:

    record_staff_action(
        actor=actor, action="order.cancel", target=order, reason=reason,
        before={"state": old_state}, after={"state": order.state},
    )

Customers' own actions (and the system's) are not staff actions: for them the call does nothing;
the order timeline keeps them. Managers search the trail at /staff/audit/.

`AuditRequestMiddleware`, when installed, lets each entry carry the client's address without
the services knowing about requests.
"""

import contextvars
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .http import client_ip

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_request_ip", default=None
)


class _TrailEncoder(DjangoJSONEncoder):
    """Decimals, dates and enums as Django writes them; model instances by their label, sets as
    sorted lists: anything a service has at hand can go into `before` and `after`."""

    def default(self, o: Any) -> Any:
        if isinstance(o, models.Model):
            return target_label(o)
        if isinstance(o, set | frozenset):
            return sorted(o, key=str)
        return super().default(o)


def _jsonable(value: Mapping[str, Any] | None) -> dict | None:
    if value is None:
        return None
    return json.loads(json.dumps(dict(value), cls=_TrailEncoder))


def target_label(target: models.Model) -> str:
    """How people name the target: an order's number, a coupon's or SKU's code, else str()."""
    for attribute in ("number", "code"):
        value = getattr(target, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(target)[:200]


def is_staff_actor(actor: Any) -> bool:
    """A person acting as staff: one of the workspace roles, or a Django admin."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.is_superuser or actor.is_staff:
        return True
    if "role" not in actor.__dict__ and hasattr(actor, "_perm_cache"):
        # The service has just checked a permission: customers hold none, every staff role
        # some. Saves a query in the bulk services, whose statements are counted.
        return bool(actor._perm_cache)
    return actor.is_workspace_member


def record_staff_action(
    *,
    actor: Any,
    action: str,
    target: models.Model | Callable[[], models.Model],
    reason: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    label: str | Callable[[], str] | None = None,
):
    """Append one entry to the trail and return it; None (and nothing written) when `actor` is
    None or not staff. `action` is "<family>.<verb>" (e.g. "order.cancel"); `target` is the
    model instance acted on; `label` overrides how it is named. `target` and `label` may be
    callables, only called for staff, so they may query. Call it inside the service's
    transaction."""
    if not is_staff_actor(actor):
        return None
    from .models import StaffAction

    if callable(target):
        target = target()
    return StaffAction.objects.create(
        **_entry(
            actor, action, target, reason, before, after, label() if callable(label) else label
        )
    )


def record_staff_actions(
    *,
    actor: Any,
    action: str,
    targets: Iterable[models.Model],
    reason: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> int:
    """The same entry for each of many targets (bulk actions, FUL-7), in batched inserts: a
    fixed number of statements whatever the number. `targets` may be a lazy queryset: it is
    only read for staff. Returns how many entries were written."""
    if not is_staff_actor(actor):
        return 0
    from .models import StaffAction

    entries = [
        StaffAction(**_entry(actor, action, target, reason, before, after, None))
        for target in targets
    ]
    StaffAction.objects.bulk_create(entries, batch_size=500)
    return len(entries)


def _entry(actor, action, target, reason, before, after, label) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": action,
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_label": (label or target_label(target))[:200],
        "reason": (reason or "").strip(),
        "before": _jsonable(before),
        "after": _jsonable(after),
        "ip_address": _request_ip.get(),
    }


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None):
    """(field, before, after) for every field whose value differs, in a stable order: the
    readable diff of the manager screen."""
    before = before or {}
    after = after or {}
    keys = list(before) + [key for key in after if key not in before]
    return [
        (key, before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key) or key not in before or key not in after
    ]


class AuditRequestMiddleware:
    """Remembers the client's address for the entries the request writes (optional)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_ip.set(_valid_ip(client_ip(request)))
        try:
            return self.get_response(request)
        finally:
            _request_ip.reset(token)


def _valid_ip(value: str) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def search_staff_actions(
    *,
    actor: str = "",
    action: str = "",
    target: str = "",
    text: str = "",
    since=None,
    until=None,
):
    """The trail for the managers' screen, newest first, each entry with its actor: `actor`
    matches the e-mail or name, `action` the code or its family ("order" finds "order.cancel"),
    `target` the label (an order number, a SKU code…), `text` the reason; `since` and `until`
    are dates, both included."""
    from django.db.models import Q

    from .models import StaffAction

    rows = StaffAction.objects.select_related("actor")
    if actor:
        rows = rows.filter(
            Q(actor__email__icontains=actor)
            | Q(actor__first_name__icontains=actor)
            | Q(actor__last_name__icontains=actor)
        )
    if action:
        rows = rows.filter(Q(action=action) | Q(action__startswith=f"{action.rstrip('.')}."))
    if target:
        rows = rows.filter(target_label__icontains=target)
    if text:
        rows = rows.filter(reason__icontains=text)
    if since:
        rows = rows.filter(at__date__gte=since)
    if until:
        rows = rows.filter(at__date__lte=until)
    return rows.order_by("-at", "-pk")


def action_codes() -> list[str]:
    """Every action code in the trail, for the screen's suggestions (one query)."""
    from .models import StaffAction

    return list(StaffAction.objects.order_by("action").values_list("action", flat=True).distinct())
