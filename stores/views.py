"""Sales channel screens (ORD-12), under /staff/channels/: the stores with their order counts,
a marketplace store and its column mapping (managers: `stores.add_store`,
`stores.change_store`), and the marketplace order import (`stores.import_orders`): upload, the
list of imports, an import's progress and result, and a CSV template of a store's headers.

Every list is paginated with a fixed number of queries; every form has CSRF; warehouse staff
and customers hold none of these permissions and are refused.
"""

import csv
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import permission_required
from core.csv_upload import spreadsheet_safe
from core.errors import DomainError

from . import imports, selectors, services
from . import mapping as column_mapping
from .forms import ColumnMappingForm, ImportFilterForm, ImportUploadForm, StoreForm
from .models import Store, StoreImport, StoreKind

VIEW_STORES = (
    "stores.view_store",
    "stores.add_store",
    "stores.change_store",
    "stores.import_orders",
)
ADD_STORE = "stores.add_store"
CHANGE_STORE = "stores.change_store"
IMPORT_ORDERS = "stores.import_orders"
PAGE_SIZE = 50
ORDERS_PAGE_SIZE = 50
# An import's page shows this many errors; all of them are in its errors CSV.
ERRORS_SHOWN = 500


def _params(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- stores -----------------------------------------------------------------------------------
@permission_required(*VIEW_STORES)
@require_GET
def store_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.stores_with_order_counts(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "stores/store_list.html",
        {
            "page": page,
            "may_add": request.user.has_perm(ADD_STORE),
            "may_change": request.user.has_perm(CHANGE_STORE),
            "may_import": request.user.has_perm(IMPORT_ORDERS),
        },
    )


@permission_required(ADD_STORE)
@require_http_methods(["GET", "POST"])
def store_create(request: HttpRequest) -> HttpResponse:
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.create_marketplace_store(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            messages.success(
                request,
                _(
                    "Store “%(name)s” created. It reads files with the Tmall/Taobao headers; "
                    "check its column mapping against an export."
                )
                % {"name": store.name},
            )
            return redirect("stores:mapping", store_id=store.pk)
    return render(
        request,
        "stores/store_form.html",
        {"form": form, "store": None},
        status=400 if form.errors else 200,
    )


@permission_required(CHANGE_STORE)
@require_http_methods(["GET", "POST"])
def store_edit(request: HttpRequest, store_id: int) -> HttpResponse:
    store = get_object_or_404(Store, pk=store_id)
    form = StoreForm(
        request.POST or None,
        store=store,
        initial={"name": store.name, "is_active": store.is_active},
    )
    if request.method == "POST" and form.is_valid():
        services.update_store(actor=request.user, store_id=store.pk, **form.cleaned_data)
        messages.success(
            request, _("Store “%(name)s” saved.") % {"name": form.cleaned_data["name"]}
        )
        return redirect("stores:list")
    return render(
        request,
        "stores/store_form.html",
        {"form": form, "store": store},
        status=400 if form.errors else 200,
    )


@permission_required(CHANGE_STORE)
@require_http_methods(["GET", "POST"])
def store_mapping(request: HttpRequest, store_id: int) -> HttpResponse:
    """The headers of the store's export. `?preset=english` fills the form with a preset
    (saved only when submitted)."""
    store = get_object_or_404(Store, pk=store_id, kind=StoreKind.MARKETPLACE)
    if request.method == "POST":
        form = ColumnMappingForm(request.POST)
        if form.is_valid():
            try:
                services.save_column_mapping(
                    actor=request.user, store_id=store.pk, mapping=form.mapping()
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, _("Column mapping of “%(name)s” saved.") % {"name": store.name}
                )
                return redirect("stores:list")
    else:
        preset = request.GET.get("preset")
        initial = (
            column_mapping.PRESETS[preset]
            if preset in column_mapping.PRESETS
            else column_mapping.effective_mapping(store.column_mapping)
        )
        form = ColumnMappingForm(initial=initial)
    rows = [(form[field.name], field.required) for field in column_mapping.IMPORT_FIELDS]
    return render(
        request,
        "stores/mapping_form.html",
        {
            "store": store,
            "form": form,
            "rows": rows,
            "presets": list(column_mapping.PRESET_LABELS.items()),
        },
        status=400 if form.errors else 200,
    )


@permission_required(IMPORT_ORDERS, CHANGE_STORE)
@require_GET
def mapping_template(request: HttpRequest, store_id: int) -> HttpResponse:
    """An empty CSV file (UTF-8 with BOM, which spreadsheet programs read) with the store's
    headers."""
    store = get_object_or_404(Store, pk=store_id, kind=StoreKind.MARKETPLACE)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(
        column_mapping.template_headers(column_mapping.effective_mapping(store.column_mapping))
    )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{store.code}-template.csv"'
    return response


# --- imports ----------------------------------------------------------------------------------
@permission_required(IMPORT_ORDERS)
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and the imports (filtered by store and state); POST: an export →
    a queued import, then its page."""
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                store_import, new = imports.request_import(
                    store=form.cleaned_data["store"],
                    uploaded=form.cleaned_data["file"],
                    actor=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if new:
                    messages.success(
                        request,
                        _("%(name)s is queued for checking and import.")
                        % {"name": store_import.filename},
                    )
                else:
                    messages.info(
                        request,
                        _("This file is being imported already: here is that import."),
                    )
                return redirect("stores:import", import_id=store_import.pk)
        status = 400
    else:
        initial = {}
        if request.GET.get("store", "").isdigit():
            initial["store"] = int(request.GET["store"])
        form = ImportUploadForm(initial=initial)
        status = 200
    filters = ImportFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.imports(
        store_id=data["store"].pk if data.get("store") else None, state=data.get("state", "")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "stores/import_list.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "params": _params(request),
            "max_kb": imports.IMPORT_MAX_BYTES // 1024,
            "max_rows": imports.IMPORT_MAX_ROWS,
        },
        status=status,
    )


@permission_required(IMPORT_ORDERS)
@require_GET
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import's progress (htmx polls the status part every second until it is finished),
    its counts, its errors by line, and the orders it placed or found."""
    store_import = get_object_or_404(
        StoreImport.objects.select_related("store", "uploaded_by").defer("content"), pk=import_id
    )
    context = {
        "imp": store_import,
        "result": imports.result_message(store_import) if store_import.is_finished else "",
    }
    if request.htmx:
        response = render(request, "stores/_import_status.html", context)
        if store_import.is_finished:
            # Finished while being watched: load the whole page, with errors and orders.
            response["HX-Refresh"] = "true"
        return response
    page = Paginator(selectors.import_orders(store_import), ORDERS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context.update(
        {
            "errors": store_import.errors[:ERRORS_SHOWN],
            "errors_hidden": max(0, len(store_import.errors) - ERRORS_SHOWN),
            "page": page,
            "params": _params(request),
        }
    )
    return render(request, "stores/import_detail.html", context)


@permission_required(IMPORT_ORDERS)
@require_GET
def import_errors_csv(request: HttpRequest, import_id: int) -> HttpResponse:
    """Every error of an import as CSV (line, message)."""
    store_import = get_object_or_404(StoreImport.objects.only("pk", "errors"), pk=import_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Line"), _("Problem")])
    for error in store_import.errors:
        # The message may quote a cell of the uploaded file.
        writer.writerow([error.get("line", 0), spreadsheet_safe(error.get("message", ""))])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{store_import.pk}-errors.csv"'
    return response
