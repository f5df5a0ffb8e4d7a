"""The customer's message centre (SPEC §5): every message the shop sent them, newest first."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import selectors
from .rendering import order_url, render_message

PAGE_SIZE = 20


@login_required
@require_GET
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.inbox(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/message_list.html", {"page": page})


@login_required
@require_GET
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One message, as it was sent, in the language of the page; someone else's is a 404."""
    notification = get_object_or_404(selectors.inbox(user=request.user), pk=pk)
    return render(
        request,
        "notifications/message_detail.html",
        {
            "notification": notification,
            "message": render_message(notification),
            "order_link": order_url(notification, notification.order, absolute=False),
        },
    )
