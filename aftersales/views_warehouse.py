"""The warehouse's returns screens (AFS-3; issue 8 items 4 and 6).

- The receiving home: scan the return parcel's tracking number or the request number; the
  returns expected, paginated, with their count.
- The inspection sheet of one request: each item scan counts one unit (sellable, or damaged
  when chosen), counts may be typed too, the bin for the sellable units is scanned or chosen in
  the warehouse worked in (the same session choice as receiving and the floor); "Receive" calls
  `aftersales.returns.receive_return`.
- `send_replacement`: the agent's button on the request's staff page (POST), calling
  `aftersales.replacements.send_replacement`.

Views parse input, call a service and render; the services decide. Without JavaScript every
form still works as a plain POST.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import permission_required
from inventory import selectors as inventory_selectors
from inventory.forms import WarehousePickForm
from inventory.working import working_warehouse

from . import replacements, returns
from .forms_warehouse import FindReturnForm, InspectionSheet
from .models import AfterSalesRequest

PAGE_SIZE = 50
inspect_permission = permission_required(returns.INSPECT_PERMISSION)


def _warehouse_context(warehouse, warehouses) -> dict:
    return {
        "warehouse": warehouse,
        "warehouse_form": WarehousePickForm(
            initial={"warehouse": warehouse.pk}, warehouses=warehouses
        ),
    }


# --- receiving home ----------------------------------------------------------------------------
@inspect_permission
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Scan to open a return; below, the returns expected (on their way first)."""
    warehouse, warehouses = working_warehouse(request)
    if warehouse is None:
        return render(request, "aftersales/warehouse/no_warehouse.html", {})
    form = FindReturnForm(request.GET if "scan" in request.GET else None)
    error = ""
    found: list[AfterSalesRequest] = []
    if form.is_bound and form.is_valid():
        found = returns.find_by_scan(form.cleaned_data["scan"])
        if len(found) == 1:
            return redirect("returns:inspect", pk=found[0].pk)
        if not found:
            error = _("“%(code)s” is no return we know of: no request or return parcel.") % {
                "code": form.cleaned_data["scan"]
            }
    expected = returns.awaiting_receipt().annotate(units=Sum("lines__quantity"))
    page = Paginator(expected, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "error": error,
        "found": found,
        "page": page,
        **_warehouse_context(warehouse, warehouses),
    }
    return render(request, "aftersales/warehouse/start.html", context)


# --- the inspection sheet ----------------------------------------------------------------------
@inspect_permission
@require_http_methods(["GET", "POST"])
def inspect(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        after_sales = returns.request_for_inspection(pk)
    except AfterSalesRequest.DoesNotExist:
        raise Http404 from None
    warehouse, warehouses = working_warehouse(request)
    if warehouse is None:
        return render(request, "aftersales/warehouse/no_warehouse.html", {})
    lines = list(after_sales.lines.all())
    refused = returns.refusal(after_sales)
    sheet = InspectionSheet(
        request.POST if request.method == "POST" else None,
        lines=lines,
        warehouse_id=warehouse.pk,
    )
    action = request.POST.get("action", "scan") if request.method == "POST" else ""
    scan = None  # the answer to the last scan: {"ok": bool, "text": str, "line_id": int}
    problems: list[str] = []
    if refused and request.method == "POST":
        problems.append(refused)
    elif action == "scan" and sheet.scanned:
        line = sheet.add_scan(sheet.scanned)
        if line is None:
            scan = {
                "ok": False,
                "text": _("%(code)s is not in this return: nothing was counted.")
                % {"code": sheet.scanned},
            }
        else:
            counted = sheet.counts[line.pk]
            scan = {
                "ok": True,
                "line_id": line.pk,
                "text": _(
                    "%(sku)s: %(sellable)d sellable, %(damaged)d damaged of %(expected)d expected."
                )
                % {
                    "sku": f"{line.order_line.sku_code} {line.order_line.product_name}",
                    "sellable": counted["sellable"],
                    "damaged": counted["damaged"],
                    "expected": line.quantity,
                },
            }
    elif action == "receive":
        bin_, bin_error = sheet.bin()
        if sheet.errors:
            problems.append(_("Some counts are not whole numbers of 0 or more."))
        if bin_error:
            problems.append(bin_error)
        if not problems:
            try:
                returns.receive_return(
                    request_id=after_sales.pk,
                    found=sheet.found(),
                    bin_id=bin_.pk if bin_ else None,
                    actor=request.user,
                    note=sheet.note,
                )
            except returns.ReturnRefused as error:
                problems.append(error.message)
            else:
                messages.success(request, _received_message(after_sales, sheet, bin_))
                return redirect("returns:start")

    context = {
        "after_sales": after_sales,
        "order": after_sales.order,
        "refused": refused,
        "sheet": sheet,
        "rows": sheet.rows(),
        "scan": scan,
        "problems": problems,
        "bin_codes": inventory_selectors.bin_codes(warehouse_id=warehouse.pk),
        **_warehouse_context(warehouse, warehouses),
    }
    template = (
        "aftersales/warehouse/_inspect_panel.html"
        if request.htmx
        else "aftersales/warehouse/inspect.html"
    )
    return render(request, template, context)


def _received_message(after_sales: AfterSalesRequest, sheet: InspectionSheet, bin_) -> str:
    found = sheet.found().values()
    sellable = sum(f.sellable for f in found)
    damaged = sum(f.damaged for f in found)
    expected = sum(line.quantity for line in sheet.lines)
    text = _(
        "Received %(number)s: %(sellable)d sellable, %(damaged)d damaged, %(expected)d expected."
    ) % {
        "number": after_sales.number,
        "sellable": sellable,
        "damaged": damaged,
        "expected": expected,
    }
    if sellable and bin_ is not None:
        text += " " + _("Sellable units are back in bin %(bin)s.") % {"bin": bin_.code}
    if sellable + damaged != expected:
        text += " " + _("Not what was expected: customer service will see it.")
    return text


# --- replacements (the agent's button) ---------------------------------------------------------
@permission_required(replacements.SEND_PERMISSION)
@require_POST
def send_replacement(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the replacement of an exchange or re-shipment; back to the page the button was on
    (`next`), with what was done or why not."""
    get_object_or_404(AfterSalesRequest.objects.only("pk"), pk=pk)
    try:
        after_sales = replacements.send_replacement(request_id=pk, actor=request.user)
    except replacements.ReplacementRefused as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Replacement order %(order)s placed for %(number)s: it is in the warehouse queue.")
            % {"order": after_sales.replacement_order.number, "number": after_sales.number},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("staff_orders:detail", args=[_order_number(pk)])
    return redirect(target)


def _order_number(pk: int) -> str:
    return AfterSalesRequest.objects.values_list("order__number", flat=True).get(pk=pk)
