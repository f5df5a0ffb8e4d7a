"""Each staff role's home page: the queue or the figures its work starts from."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.access import role_required, staff_required
from accounts.roles import Role
from accounts.views import home_url_for
from core import health
from orders import selectors as order_selectors
from orders.models import OrderState

QUEUE_PAGE_SIZE = 25


@staff_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_for(request.user))


def _queue_page(request: HttpRequest, state: str):
    return Paginator(order_selectors.oldest_in_state(state), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )


@role_required(Role.WAREHOUSE)
@require_GET
def warehouse_home(request: HttpRequest) -> HttpResponse:
    counts = order_selectors.state_counts()
    return render(
        request,
        "workspace/warehouse_home.html",
        {
            "to_pick": counts.get(OrderState.PAID, 0),
            "to_ship": counts.get(OrderState.PICKED, 0),
            "page": _queue_page(request, OrderState.PAID),
            "now": timezone.now(),
        },
    )


@role_required(Role.SERVICE)
@require_GET
def service_home(request: HttpRequest) -> HttpResponse:
    counts = order_selectors.state_counts()
    return render(
        request,
        "workspace/service_home.html",
        {
            "awaiting_payment": counts.get(OrderState.PENDING_PAYMENT, 0),
            "paid": counts.get(OrderState.PAID, 0),
            "page": _queue_page(request, OrderState.PENDING_PAYMENT),
            "now": timezone.now(),
        },
    )


@role_required(Role.MANAGER)
@require_GET
def manager_home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    periods = {
        "today": today,
        "week": today - timedelta(days=6),
        "month": today - timedelta(days=29),
    }
    counts = order_selectors.state_counts()
    total = sum(counts.values())
    states = [
        (value, label, counts.get(value, 0), (100 * counts.get(value, 0) / total) if total else 0)
        for value, label in OrderState.choices
    ]
    return render(
        request,
        "workspace/manager_home.html",
        {
            "summary": order_selectors.sales_summary(periods=periods),
            "states": states,
            "total": total,
        },
    )


@role_required(Role.ADMIN)
@require_GET
def system_home(request: HttpRequest) -> HttpResponse:
    healthy, report = health.report()
    users_by_role = dict(
        get_user_model()
        .objects.filter(groups__isnull=False)
        .values_list("groups__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    roles = [(label, users_by_role.get(value, 0)) for value, label in Role.choices]
    return render(
        request,
        "workspace/system_home.html",
        {"healthy": healthy, "report": report, "roles": roles},
    )
