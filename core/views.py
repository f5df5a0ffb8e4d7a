from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.access import role_required
from accounts.roles import Role

from . import health
from .models import SentMail


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker both answer, 503 otherwise."""
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503)


def _require_debug() -> None:
    if not settings.DEBUG:
        raise Http404


@role_required(Role.ADMIN)
@require_GET
def sent_mail_list(request: HttpRequest) -> HttpResponse:
    """The embedded demo's outbox: every e-mail the shop sent (DEBUG only, for admins: it
    holds password-reset links)."""
    _require_debug()
    page = Paginator(SentMail.objects.all(), 25).get_page(request.GET.get("page"))
    return render(request, "core/sent_mail_list.html", {"page": page})


@role_required(Role.ADMIN)
@require_GET
def sent_mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_debug()
    mail = get_object_or_404(SentMail, pk=pk)
    return render(request, "core/sent_mail_detail.html", {"mail": mail})
