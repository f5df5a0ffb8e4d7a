"""Each staff role's home page: the queue or the figures its work starts from."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import role_required, staff_required
from accounts.roles import Role
from accounts.views import home_url_for
from core import health
from core import operations as operations_info
from fulfillment.views import home as floor_home
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from reports.views_dashboard import dashboard as reports_dashboard
from servicedesk.views import home as desk_home


@staff_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect(home_url_for(request.user))


@role_required(Role.WAREHOUSE)
@require_GET
def warehouse_home(request: HttpRequest) -> HttpResponse:
    """Warehouse staff start on the floor: its counters, queue and scanner screens (FUL-1)."""
    return floor_home(request)


@role_required(Role.SERVICE)
@require_GET
def service_home(request: HttpRequest) -> HttpResponse:
    """Agents start at the service desk: its queues with their counts and ages (issue 8)."""
    return desk_home(request)


@role_required(Role.MANAGER)
@require_GET
def manager_home(request: HttpRequest) -> HttpResponse:
    """Managers start on the reports dashboard: the period's sales beside the previous one,
    its charts and every report, each figure leading to its orders (RPT-6, issue 9)."""
    return reports_dashboard(request)


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


OPERATIONS_PAGE_SIZE = 25


@role_required(Role.ADMIN)
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    """For admins: the broker's queue, the outbox, the periodic jobs' last runs and the
    notifications that failed, with their errors (issue 6)."""
    failed = Paginator(notification_selectors.failed(), OPERATIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "workspace/operations.html",
        {
            "queue_depth": operations_info.queue_depth(),
            "outbox": notification_selectors.status_counts(),
            "oldest_pending": notification_selectors.oldest_pending(),
            "schedules": operations_info.schedules(),
            "failed": failed,
        },
    )


@role_required(Role.ADMIN)
@require_POST
def retry_notifications(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("notification") if value.isdigit()]
    count = notification_services.retry_failed(notification_ids=ids, actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification will be sent again.",
            "%(count)d notifications will be sent again.",
            count,
        )
        % {"count": count},
    )
    return redirect("workspace:operations")
