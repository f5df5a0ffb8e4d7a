"""Tracking events in, three ways (FUL-6, ORD-9): typed by staff on the order's page, uploaded
as a CSV file, or pushed by a carrier to its signed webhook. All of them end in
`shipments.add_tracking_events`, which stores each event once."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import role_required
from accounts.roles import Role
from core.errors import DomainError

from . import shipments, tracking_io
from .forms import TrackingEventForm, TrackingImportForm
from .models import Shipment, TrackingStatus

logger = logging.getLogger(__name__)

ADD_TRACKING = "orders.add_trackingevent"
STAFF_ROLES = (Role.WAREHOUSE, Role.SERVICE, Role.MANAGER)


@role_required(*STAFF_ROLES)
@permission_required(ADD_TRACKING, raise_exception=True)
@require_POST
def add_tracking_event(request: HttpRequest, number: str, shipment_id: int) -> HttpResponse:
    """One carrier scan typed in on the order's page, for one of its parcels."""
    shipment = (
        Shipment.objects.filter(pk=shipment_id, order__number=number)
        .only("pk", "tracking_number")
        .first()
    )
    if shipment is None:
        raise Http404
    form = TrackingEventForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("No tracking event was added to parcel %(parcel)s: %(problems)s")
            % {"parcel": shipment.tracking_number, "problems": form.problems()},
        )
    else:
        try:
            _event, created = shipments.add_tracking_event(
                shipment_id=shipment.pk, **form.cleaned_data
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            status = TrackingStatus(form.cleaned_data["status"]).label
            if created:
                messages.success(
                    request,
                    _("“%(status)s” added to the tracking of parcel %(parcel)s.")
                    % {"status": status, "parcel": shipment.tracking_number},
                )
            else:
                messages.info(
                    request,
                    _("Parcel %(parcel)s already has this “%(status)s” event; nothing changed.")
                    % {"status": status, "parcel": shipment.tracking_number},
                )
    return redirect(f"{reverse('staff_orders:detail', args=[number])}#parcel-{shipment.pk}")


@role_required(*STAFF_ROLES)
@permission_required(ADD_TRACKING, raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_tracking(request: HttpRequest) -> HttpResponse:
    """Tracking events from a CSV file: every row is checked first; nothing is stored until the
    whole file is clean; events already known are counted, not stored again."""
    form = TrackingImportForm(request.POST or None, request.FILES or None)
    check = None
    refused = ""
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            check = tracking_io.check_rows(tracking_io.read_file(uploaded))
            if check.is_clean:
                result = tracking_io.import_events(check)
                messages.success(
                    request,
                    _("%(name)s: %(result)s")
                    % {"name": uploaded.name, "result": tracking_io.result_message(result)},
                )
                return redirect("staff_orders:tracking_import")
        except tracking_io.ImportRefused as error:
            refused = error.message
        except DomainError as error:
            refused = _("Nothing was imported: %(error)s") % {"error": error.message}
    error_summary = ""
    if check and check.errors:
        error_summary = ngettext(
            "%(count)d row has errors; nothing was imported.",
            "%(count)d rows have errors; nothing was imported.",
            len(check.errors),
        ) % {"count": len(check.errors)}
    return render(
        request,
        "orders/staff/tracking_import.html",
        {
            "form": form,
            "check": check,
            "refused": refused,
            "error_summary": error_summary,
            "max_kb": tracking_io.IMPORT_MAX_BYTES // 1024,
            "max_rows": tracking_io.IMPORT_MAX_ROWS,
            "statuses": TrackingStatus.choices,
            "header_example": tracking_io.HEADER_EXAMPLE,
        },
    )


# --- carrier webhook --------------------------------------------------------------------------
def _problem(refused: tracking_io.PushRefused, request: HttpRequest) -> JsonResponse:
    """A problem-details answer (RFC 9457)."""
    body = {
        "type": refused.type,
        "title": refused.title,
        "status": refused.status,
        "detail": refused.detail,
        "instance": request.path,
    }
    if refused.errors:
        body["errors"] = refused.errors
    response = JsonResponse(
        body,
        status=refused.status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
    if refused.status == 401:
        response["WWW-Authenticate"] = (
            f'HMAC-SHA256 realm="carrier webhooks", header="{tracking_io.SIGNATURE_HEADER}"'
        )
    return response


@csrf_exempt  # server to server: verified by the carrier's HMAC signature instead
def carrier_webhook(request: HttpRequest, code: str) -> HttpResponse:
    """A carrier pushes tracking events of one parcel (contract: `tracking_io`, README)."""
    if request.method != "POST":
        refused = tracking_io.PushRefused(
            405,
            "method-not-allowed",
            _("Method not allowed"),
            _("Send tracking events with POST."),
        )
        response = _problem(refused, request)
        response["Allow"] = "POST"
        return response
    try:
        result = tracking_io.receive_carrier_push(
            carrier_code=code,
            body=request.body,
            signature=request.headers.get(tracking_io.SIGNATURE_HEADER, ""),
        )
    except RequestDataTooBig:
        refused = tracking_io.PushRefused(
            413, "too-large", _("Body too large"), _("Send fewer events per push.")
        )
    except tracking_io.PushRefused as error:
        refused = error
    except DomainError as error:
        refused = tracking_io.PushRefused(422, "not-stored", _("Events not stored"), error.message)
    else:
        return JsonResponse({"created": result.created, "duplicates": result.duplicates})
    logger.warning("Carrier push to %s refused (%d): %s", code, refused.status, refused.detail)
    return _problem(refused, request)
