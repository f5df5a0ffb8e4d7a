"""Staff stock screens (INV-2, INV-4, INV-7): overview, SKU page with its ledger, receiving,
stock-take, corrections, CSV export and the opening-stock import.

Warehouse, service and manager staff may look; only warehouse staff (and admins) change stock,
always through `inventory.services`; warehouse staff and managers may export.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.access import role_required
from accounts.roles import Role
from catalog.models import SKU

from . import csv_io, selectors, services
from .forms import (
    COUNT_PREFIX,
    AdjustForm,
    BinScanForm,
    MovementFilterForm,
    ReceiveForm,
    StockFilterForm,
    StockImportForm,
    StockTakeSheet,
    ThresholdForm,
    TransferForm,
    WarehousePickForm,
    WriteOffForm,
)
from .models import Bin, StockMovement
from .services import StockError
from .working import working_warehouse

PAGE_SIZE = 50
VIEW_ROLES = (Role.WAREHOUSE, Role.SERVICE, Role.MANAGER)
CHANGE_ROLES = (Role.WAREHOUSE,)
EXPORT_ROLES = (Role.WAREHOUSE, Role.MANAGER)

STOCK_TAKE_SESSION_KEY = "inventory:stock_take_result"


def _abilities(request: HttpRequest) -> dict[str, bool]:
    role = request.user.role
    return {
        "can_change_stock": role in (*CHANGE_ROLES, Role.ADMIN),
        "can_export_stock": role in (*EXPORT_ROLES, Role.ADMIN),
        "can_see_alerts": role in (Role.WAREHOUSE, Role.MANAGER, Role.ADMIN),
    }


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a full page load."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- overview and SKU page ---------------------------------------------------------------------
@role_required(*VIEW_ROLES)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    form = StockFilterForm(request.GET or None, warehouses=warehouses)
    filters = form.cleaned_data if form.is_valid() else {}
    search = filters.get("search", "").strip()
    warehouse_id = filters.get("warehouse")

    if search:
        scanned = selectors.sku_by_scan(search)
        if scanned is not None and scanned.barcode == search:
            return _redirect(request, reverse("inventory:sku", args=[scanned.pk]))

    page = Paginator(
        selectors.stock_overview(search=search, warehouse_id=warehouse_id), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    skus = list(page.object_list)
    for sku in skus:
        sku.totals = selectors.StockFigures(sku.on_hand, sku.reserved)
    if warehouse_id is None:
        columns = warehouses
        figures = selectors.figures_by_warehouse(sku_ids=[sku.pk for sku in skus])
        for sku in skus:
            mine = figures.get(sku.pk, {})
            sku.by_warehouse = [mine.get(warehouse.pk) for warehouse in columns]
    else:
        columns = []
    page.object_list = skus
    template = "inventory/_overview_rows.html" if request.htmx else "inventory/overview.html"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "columns": columns,
            "warehouse": next((w for w in warehouses if w.pk == warehouse_id), None),
            "query": _query_without_page(request),
            **_abilities(request),
        },
    )


_REFERENCE_LABELS = {
    "receipt": (gettext_lazy("Receipt"), gettext_lazy("Delivery note %(ref)s")),
    csv_io.IMPORT_REFERENCE: (
        gettext_lazy("Opening stock"),
        gettext_lazy("Opening stock from %(ref)s"),
    ),
    "stock_take": (gettext_lazy("Stock-take"), gettext_lazy("Stock-take")),
    "demand_line": (gettext_lazy("Demand line"), gettext_lazy("Demand line %(ref)s")),
}


def reference_label(movement: StockMovement) -> str:
    kind, ref = movement.reference_type, movement.reference_id
    if not kind:
        return ""
    if kind in _REFERENCE_LABELS:
        bare, with_ref = _REFERENCE_LABELS[kind]
        return str(with_ref) % {"ref": ref} if ref else str(bare)
    return f"{kind}: {ref}" if ref else kind


def _movement_page(request: HttpRequest, movements):
    page = Paginator(movements, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for movement in page.object_list:
        movement.reference_label = reference_label(movement)
    return page


def _get_sku(sku_id: int) -> SKU:
    return get_object_or_404(SKU.objects.select_related("product"), pk=sku_id)


def _render_sku(
    request: HttpRequest,
    sku: SKU,
    *,
    bins=None,
    warehouses=None,
    forms: dict | None = None,
    open_form: str = "",
) -> HttpResponse:
    warehouses = warehouses if warehouses is not None else selectors.warehouses()
    bins = bins if bins is not None else selectors.sku_bins(sku_id=sku.pk)
    filter_form = MovementFilterForm(request.GET or None, warehouses=warehouses)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    movements = selectors.movement_history(
        sku_id=sku.pk,
        kind=filters.get("kind", ""),
        warehouse_id=filters.get("warehouse"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = _movement_page(request, movements)
    context = {
        "sku": sku,
        "filter_form": filter_form,
        "page": page,
        "query": _query_without_page(request),
        **_abilities(request),
    }
    if request.htmx and request.method == "GET":
        return render(request, "inventory/_movement_rows.html", context)

    abilities = _abilities(request)
    forms = forms or {}
    storage_bins = [row for row in bins if not row.bin.is_staging]
    if abilities["can_change_stock"] and storage_bins:
        forms.setdefault(
            "transfer", TransferForm(bins=storage_bins, warehouses=warehouses, prefix="transfer")
        )
        forms.setdefault("adjust", AdjustForm(bins=storage_bins, prefix="adjust"))
        forms.setdefault("write_off", WriteOffForm(bins=storage_bins, prefix="write_off"))
    context.update(
        {
            "totals": selectors.sku_totals(sku_id=sku.pk),
            "bins": bins,
            "forms": forms,
            "open_form": open_form,
        }
    )
    return render(request, "inventory/sku_detail.html", context)


@role_required(*VIEW_ROLES)
@require_GET
def sku_detail(request: HttpRequest, sku_id: int) -> HttpResponse:
    return _render_sku(request, _get_sku(sku_id))


def _correction(request: HttpRequest, sku_id: int, name: str, form_class, apply) -> HttpResponse:
    """Shared shape of the three correction forms: validate, call the service, say what
    happened (or show the service's refusal beside the form)."""
    sku = _get_sku(sku_id)
    warehouses = selectors.warehouses()
    bins = selectors.sku_bins(sku_id=sku.pk)
    storage_bins = [row for row in bins if not row.bin.is_staging]
    extra = {"warehouses": warehouses} if form_class is TransferForm else {}
    form = form_class(request.POST, bins=storage_bins, prefix=name, **extra)
    if form.is_valid():
        try:
            done = apply(sku, form.cleaned_data)
        except StockError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, done)
            return redirect("inventory:sku", sku_id=sku.pk)
    return _render_sku(
        request, sku, bins=bins, warehouses=warehouses, forms={name: form}, open_form=name
    )


def _bin_code(bin_id: int) -> str:
    return Bin.objects.filter(pk=bin_id).values_list("code", flat=True).first() or ""


@role_required(*CHANGE_ROLES)
@require_POST
def sku_transfer(request: HttpRequest, sku_id: int) -> HttpResponse:
    def apply(sku, data):
        services.transfer(
            sku_id=sku.pk,
            from_bin_id=data["from_bin"],
            to_bin_id=data["to_bin_id"],
            quantity=data["quantity"],
            actor=request.user,
            reason=data["reason"],
        )
        return _("Moved %(quantity)d × %(sku)s from %(from)s to %(to)s.") % {
            "quantity": data["quantity"],
            "sku": sku.code,
            "from": _bin_code(data["from_bin"]),
            "to": data["to_bin_code"],
        }

    return _correction(request, sku_id, "transfer", TransferForm, apply)


@role_required(*CHANGE_ROLES)
@require_POST
def sku_adjust(request: HttpRequest, sku_id: int) -> HttpResponse:
    def apply(sku, data):
        services.adjust(
            sku_id=sku.pk,
            bin_id=data["bin"],
            change=data["change"],
            actor=request.user,
            reason=data["reason"],
        )
        return _("Adjusted %(sku)s in %(bin)s by %(change)+d.") % {
            "sku": sku.code,
            "bin": _bin_code(data["bin"]),
            "change": data["change"],
        }

    return _correction(request, sku_id, "adjust", AdjustForm, apply)


@role_required(*CHANGE_ROLES)
@require_POST
def sku_write_off(request: HttpRequest, sku_id: int) -> HttpResponse:
    def apply(sku, data):
        services.write_off(
            sku_id=sku.pk,
            bin_id=data["bin"],
            quantity=data["quantity"],
            actor=request.user,
            reason=data["reason"],
        )
        return _("Wrote off %(quantity)d × %(sku)s from %(bin)s.") % {
            "quantity": data["quantity"],
            "sku": sku.code,
            "bin": _bin_code(data["bin"]),
        }

    return _correction(request, sku_id, "write_off", WriteOffForm, apply)


# --- the warehouse a member of staff works in ---------------------------------------------------
def _working_warehouse(request: HttpRequest, warehouses):
    """The warehouse chosen on the receiving / stock-take screens (see inventory.working)."""
    return working_warehouse(request)[0]


def _warehouse_context(request: HttpRequest, warehouses, warehouse) -> dict:
    return {
        "warehouse": warehouse,
        "warehouse_form": WarehousePickForm(
            initial={"warehouse": warehouse.pk if warehouse else None}, warehouses=warehouses
        ),
        "bin_codes": selectors.bin_codes(warehouse_id=warehouse.pk) if warehouse else [],
    }


# --- receiving ---------------------------------------------------------------------------------
@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    warehouse = _working_warehouse(request, warehouses)
    if warehouse is None:
        return render(request, "inventory/no_warehouse.html", _abilities(request))
    form = ReceiveForm(request.POST or None, warehouse_id=warehouse.pk)
    received = ""
    if request.method == "POST" and form.is_valid():
        sku, bin_ = form.cleaned_data["barcode"], form.cleaned_data["bin"]
        quantity = form.cleaned_data["quantity"]
        try:
            services.receive(
                sku_id=sku.pk,
                bin_id=bin_.pk,
                quantity=quantity,
                actor=request.user,
                reference=("receipt", form.cleaned_data["delivery_note"]),
            )
        except StockError as error:
            form.add_error(None, error.message)
        else:
            received = _("Received %(quantity)d × %(sku)s into %(bin)s.") % {
                "quantity": quantity,
                "sku": f"{sku.code} {sku}",
                "bin": bin_.code,
            }
            if not request.htmx:
                messages.success(request, received)
                return redirect("inventory:receive")
            form = ReceiveForm(
                initial={"delivery_note": form.cleaned_data["delivery_note"]},
                warehouse_id=warehouse.pk,
            )
    form.focus_first_error()
    context = {
        "form": form,
        "received": received,
        "receipts": selectors.receipts_today(warehouse_id=warehouse.pk),
        **_warehouse_context(request, warehouses, warehouse),
        **_abilities(request),
    }
    template = "inventory/_receive_panel.html" if request.htmx else "inventory/receive.html"
    return render(request, template, context)


@role_required(*CHANGE_ROLES)
@require_GET
def scan_lookup(request: HttpRequest) -> HttpResponse:
    """What a scanned barcode is, as a line of feedback beside the scan field (htmx)."""
    code = request.GET.get("barcode", "").strip()
    sku = selectors.sku_by_scan(code) if code else None
    return render(request, "inventory/_scan_sku.html", {"code": code, "sku": sku})


# --- stock-take --------------------------------------------------------------------------------
@role_required(*CHANGE_ROLES)
@require_GET
def count_start(request: HttpRequest) -> HttpResponse:
    warehouses = selectors.warehouses()
    warehouse = _working_warehouse(request, warehouses)
    if warehouse is None:
        return render(request, "inventory/no_warehouse.html", _abilities(request))
    form = BinScanForm(request.GET if "bin" in request.GET else None, warehouse_id=warehouse.pk)
    if form.is_bound and form.is_valid():
        return redirect("inventory:count_sheet", bin_id=form.cleaned_data["bin"].pk)
    return render(
        request,
        "inventory/count_start.html",
        {
            "form": form,
            **_warehouse_context(request, warehouses, warehouse),
            **_abilities(request),
        },
    )


def _sheet_lines(sheet: StockTakeSheet, books, extra_skus: dict[int, SKU]) -> list[dict]:
    """One line per SKU on the books or counted: book figures, count and difference."""
    booked = {row.sku_id: row for row in books}
    lines = []
    for sku_id, counted in sheet.counts.items():
        row = booked.get(sku_id)
        sku = row.sku if row is not None else extra_skus[sku_id]
        on_hand = row.on_hand if row is not None else 0
        reserved = row.reserved if row is not None else 0
        lines.append(
            {
                "sku": sku,
                "field": f"{COUNT_PREFIX}{sku_id}",
                "on_books": row is not None,
                "on_hand": on_hand,
                "reserved": reserved,
                "counted": counted,
                "difference": counted - on_hand,
                "below_reserved": counted < reserved,
                "error": sheet.errors.get(sku_id, ""),
            }
        )
    lines.sort(key=lambda line: line["sku"].code)
    return lines


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def count_sheet(request: HttpRequest, bin_id: int) -> HttpResponse:
    """Count one bin. Blind: while counting, the sheet lists the SKUs the books place in the
    bin but not their quantities; book figures and differences appear at the review step."""
    bin_ = get_object_or_404(Bin.objects.select_related("warehouse"), pk=bin_id, is_staging=False)
    books = selectors.bin_contents(bin_id=bin_.pk)
    sheet = StockTakeSheet(request.POST if request.method == "POST" else None)
    if sheet.since is None:
        sheet.since = selectors.last_movement_id(bin_id=bin_.pk)
    for row in books:
        sheet.counts.setdefault(row.sku_id, 0)
    action = request.POST.get("action", "scan") if request.method == "POST" else "scan"

    booked_ids = {row.sku_id for row in books}
    extra_ids = set(sheet.counts) - booked_ids
    scanned_sku = None
    if action == "scan" and sheet.scanned:
        scanned_sku = selectors.sku_by_scan(sheet.scanned)
        if scanned_sku is not None:
            extra_ids.add(scanned_sku.pk)
    extra_skus = (
        {sku.pk: sku for sku in SKU.objects.select_related("product").filter(pk__in=extra_ids)}
        if extra_ids
        else {}
    )
    sheet.keep_only(booked_ids | set(extra_skus))

    scan = None  # feedback on the last scan: {"ok": bool, "text": str}
    step = "count"
    problems: list[str] = []
    if action == "scan" and sheet.scanned:
        if scanned_sku is None:
            scan = {
                "ok": False,
                "text": _("Unknown barcode %(code)s: nothing was counted.")
                % {"code": sheet.scanned},
            }
        else:
            count = sheet.add_scan(scanned_sku.pk)
            scan = {
                "ok": True,
                "text": _("%(sku)s: %(count)d counted.")
                % {"sku": f"{scanned_sku.code} {scanned_sku}", "count": count},
                "sku_id": scanned_sku.pk,
            }
    elif action in ("review", "post"):
        if sheet.errors:
            problems.append(_("Some counts are not whole numbers of 0 or more."))
        if not sheet.reason:
            problems.append(_("Say why the bin is counted (e.g. monthly count)."))
        if not problems:
            step = "review"

    if step == "review" and action == "post":
        try:
            movements = services.post_stock_take(
                bin_id=bin_.pk,
                counts=sheet.counts,
                actor=request.user,
                reason=sheet.reason,
                counted_since=sheet.since,
            )
        except StockError as error:
            problems.append(error.message)
        else:
            request.session[STOCK_TAKE_SESSION_KEY] = {
                "bin_id": bin_.pk,
                "movement_ids": [movement.pk for movement in movements],
                "skus_counted": len(sheet.counts),
                "units_counted": sum(sheet.counts.values()),
            }
            return _redirect(request, reverse("inventory:count_result"))

    lines = _sheet_lines(sheet, books, extra_skus)
    context = {
        "bin": bin_,
        "sheet": sheet,
        "lines": lines,
        "step": step,
        "scan": scan,
        "problems": problems,
        "differences": [line for line in lines if line["difference"]],
        "any_below_reserved": any(line["below_reserved"] for line in lines),
        **_abilities(request),
    }
    template = "inventory/_count_panel.html" if request.htmx else "inventory/count_sheet.html"
    return render(request, template, context)


@role_required(*CHANGE_ROLES)
@require_GET
def count_result(request: HttpRequest) -> HttpResponse:
    result = request.session.get(STOCK_TAKE_SESSION_KEY)
    if not result:
        return redirect("inventory:count")
    bin_ = get_object_or_404(Bin.objects.select_related("warehouse"), pk=result["bin_id"])
    movements = list(
        StockMovement.objects.filter(pk__in=result["movement_ids"])
        .select_related("sku__product")
        .order_by("sku__code")
    )
    return render(
        request,
        "inventory/count_result.html",
        {
            "bin": bin_,
            "movements": movements,
            "skus_counted": result["skus_counted"],
            "units_counted": result["units_counted"],
            **_abilities(request),
        },
    )


# --- CSV ---------------------------------------------------------------------------------------
@role_required(*EXPORT_ROLES)
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Stock as CSV, one row per SKU per bin holding something; streamed row by row."""
    warehouse_id = request.GET.get("warehouse", "")
    warehouse_id = int(warehouse_id) if warehouse_id.isdigit() else None
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_io.export_lines(warehouse_id=warehouse_id), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="stock-{stamp}.csv"'
    return response


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def import_stock(request: HttpRequest) -> HttpResponse:
    """Opening stock from CSV: every row is checked first; nothing is imported until the whole
    file is clean, then all of it in one transaction."""
    form = StockImportForm(
        request.POST or None, request.FILES or None, max_bytes=csv_io.IMPORT_MAX_BYTES
    )
    check = None
    refused = ""
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        filename = uploaded.name[:64]
        try:
            csv_io.refuse_if_imported(filename)
            check = csv_io.check_rows(csv_io.read_file(uploaded))
            if check.is_clean:
                csv_io.import_opening_stock(check=check, filename=filename, actor=request.user)
                messages.success(
                    request,
                    _("Imported %(summary)s from %(name)s as opening stock.")
                    % {"summary": csv_io.summary(check), "name": filename},
                )
                return redirect("inventory:import")
        except csv_io.ImportRefused as error:
            refused = error.message
        except StockError as error:
            refused = _("Nothing was imported: %(error)s") % {"error": error.message}
    return render(
        request,
        "inventory/import.html",
        {
            "form": form,
            "check": check,
            "refused": refused,
            "error_summary": (
                ngettext(
                    "%(count)d row has errors; nothing was imported.",
                    "%(count)d rows have errors; nothing was imported.",
                    len(check.errors),
                )
                % {"count": len(check.errors)}
                if check and check.errors
                else ""
            ),
            "max_kb": csv_io.IMPORT_MAX_BYTES // 1024,
            "max_rows": csv_io.IMPORT_MAX_ROWS,
            **_abilities(request),
        },
    )


ALERT_ROLES = (Role.WAREHOUSE, Role.MANAGER)
ALERTS_SHOWN = 200


@role_required(*ALERT_ROLES)
@require_http_methods(["GET", "POST"])
def alerts(request: HttpRequest) -> HttpResponse:
    """Open low-stock alerts, stock-outs with what their backorders wait for, and (for
    managers) the thresholds that raise the alerts (INV-5, INV-7)."""
    can_set = request.user.role in (Role.MANAGER, Role.ADMIN)
    form = ThresholdForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied
        if form.is_valid():
            sku, warehouse = form.cleaned_data["sku"], form.cleaned_data["warehouse"]
            services.set_threshold(
                sku_id=sku.pk,
                warehouse_id=warehouse.pk if warehouse else None,
                threshold=form.cleaned_data["threshold"],
                actor=request.user,
            )
            messages.success(
                request,
                _("Threshold of %(sku)s set to %(threshold)d.")
                % {"sku": sku.code, "threshold": form.cleaned_data["threshold"]},
            )
            return redirect("inventory:alerts")
    return render(
        request,
        "inventory/alerts.html",
        {
            **_abilities(request),
            "tab": "alerts",
            "alerts": selectors.open_alerts()[:ALERTS_SHOWN],
            "stock_outs": Paginator(selectors.stock_outs(), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "thresholds": selectors.thresholds()[:200] if can_set else None,
            "form": form if can_set else None,
        },
    )
