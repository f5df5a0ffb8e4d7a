"""Staff screens of the outgoing webhooks (API-2), for administrators: the endpoints, one
endpoint's settings, secret and delivery log, a delivery's attempts and payload; creating,
changing, rotating the secret, sending a test ping and replaying a delivery. Every change goes
through `webhooks.services`, which checks the permission again and keeps the audit trail."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import permission_required

from . import selectors, services
from .forms import DeliveryFilterForm, EndpointForm
from .models import WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 25
LOG_PAGE_SIZE = 20
PERMISSION = services.PERMISSION


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _fields(form: EndpointForm) -> services.EndpointFields:
    data = form.cleaned_data
    return services.EndpointFields(
        url=data["url"],
        description=data.get("description", ""),
        events=list(data["events"]),
        is_active=data.get("is_active", False),
    )


def _show_refusal(form: EndpointForm, error: services.InvalidEndpoint) -> None:
    for field, problems in error.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@permission_required(PERMISSION)
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.endpoints(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint_list.html",
        {"endpoints": page, "params": _query_without(request, "page")},
    )


@permission_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(actor=request.user, fields=_fields(form))
        except services.WebhookNotAllowed as error:
            raise PermissionDenied(error.message) from error
        except services.InvalidEndpoint as error:
            _show_refusal(form, error)
        else:
            messages.success(
                request,
                _(
                    "Endpoint %(url)s registered. Give its signing secret, shown below this "
                    "once, to the receiving system, then send a test ping."
                )
                % {"url": endpoint.url},
            )
            _reveal_once(request, endpoint)
            return redirect("webhooks:detail", endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@permission_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(
                actor=request.user, endpoint_id=endpoint.pk, fields=_fields(form)
            )
        except services.WebhookNotAllowed as error:
            raise PermissionDenied(error.message) from error
        except services.InvalidEndpoint as error:
            _show_refusal(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:detail", endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


# SEC-5: the signing secret is shown once, on the page that follows its creation or rotation,
# to the administrator who made it; afterwards only its last characters.
REVEAL_SESSION_KEY = "webhooks:reveal_secret"


def _reveal_once(request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    request.session[REVEAL_SESSION_KEY] = endpoint.pk


def _masked(secret: str) -> str:
    return f"{secret[:6]}…{secret[-4:]}"


@permission_required(PERMISSION)
@require_GET
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    reveal = request.session.get(REVEAL_SESSION_KEY) == endpoint.pk
    if reveal:
        del request.session[REVEAL_SESSION_KEY]
    form = DeliveryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    deliveries = Paginator(
        selectors.delivery_log(
            endpoint_id=endpoint.pk,
            state=filters.get("state", ""),
            event_type=filters.get("event", ""),
        ),
        LOG_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "secret": endpoint.secret if reveal else _masked(endpoint.secret),
            "secret_revealed": reveal,
            "form": form,
            "deliveries": deliveries,
            "params": _query_without(request, "page"),
        },
    )


@permission_required(PERMISSION)
@require_POST
def endpoint_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    try:
        endpoint = services.rotate_secret(actor=request.user, endpoint_id=endpoint.pk)
    except services.WebhookNotAllowed as error:
        raise PermissionDenied(error.message) from error
    messages.success(
        request,
        _(
            "New signing secret made, shown below this once. Deliveries carry a signature "
            "with the old secret too until %(until)s, so the receiver can switch over meanwhile."
        )
        % {
            "until": date_format(
                timezone.localtime(endpoint.previous_secret_expires_at), "SHORT_DATETIME_FORMAT"
            )
        },
    )
    _reveal_once(request, endpoint)
    return redirect("webhooks:detail", endpoint.pk)


@permission_required(PERMISSION)
@require_POST
def endpoint_ping(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
    try:
        delivery = services.send_ping(actor=request.user, endpoint_id=endpoint.pk)
    except services.WebhookNotAllowed as error:
        raise PermissionDenied(error.message) from error
    _say_outcome(request, delivery.pk, _("Test ping"))
    return redirect("webhooks:detail", endpoint.pk)


@permission_required(PERMISSION)
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        delivery = selectors.delivery_detail(delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "endpoint": delivery.endpoint,
            "payload": json.dumps(delivery.payload, ensure_ascii=False, indent=2),
        },
    )


@permission_required(PERMISSION)
@require_POST
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    original = get_object_or_404(WebhookDelivery, pk=delivery_id)
    try:
        delivery = services.replay_delivery(actor=request.user, delivery_id=original.pk)
    except services.WebhookNotAllowed as error:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
        return redirect("webhooks:delivery", original.pk)
    _say_outcome(request, delivery.pk, _("Replay"))
    return redirect("webhooks:delivery", delivery.pk)


def _say_outcome(request: HttpRequest, delivery_id: int, what: str) -> None:
    """The delivery is sent by a worker after the commit; with eager tasks (development) it
    has already been tried when the page comes back, and the message says how it went."""
    delivery = WebhookDelivery.objects.only("state", "last_status_code", "last_error").get(
        pk=delivery_id
    )
    if delivery.state == "delivered":
        messages.success(
            request,
            _("%(what)s delivered: the endpoint answered %(code)s.")
            % {"what": what, "code": delivery.last_status_code},
        )
    elif delivery.state == "failed":
        messages.warning(
            request,
            _("%(what)s not delivered: %(error)s. It will be retried.")
            % {"what": what, "error": delivery.last_error},
        )
    elif delivery.state == "given_up":
        messages.error(
            request,
            _("%(what)s not delivered: %(error)s.") % {"what": what, "error": delivery.last_error},
        )
    else:
        messages.success(request, _("%(what)s queued: it is sent in a moment.") % {"what": what})
