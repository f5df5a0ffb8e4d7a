"""The warehouse floor's screens (FUL-1 to FUL-5): the floor home with its queue, pick lists,
and the three scanner screens — picking, packing, hand-over.

The scanner screens post each scan with htmx and swap one panel: the answer (green with a
blip, or red with a low beep) and the progress. Without JavaScript every form still works as
a plain POST. Views parse input, call `fulfillment.services` and render; the services decide.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import permission_required
from inventory.forms import WarehousePickForm
from inventory.working import working_warehouse

from . import selectors, services
from .forms import ParcelForm, ReasonForm, ScanForm, ShortPickForm, WaveForm
from .models import Fulfillment, FulfillmentState, Parcel, Wave, WaveState

PAGE_SIZE = 50
work_floor = permission_required("fulfillment.work_floor")
plan_waves = permission_required("fulfillment.plan_waves")


# The floor home and pick lists: pickers and planners (managers) alike.
_see_floor = permission_required("fulfillment.work_floor", "fulfillment.plan_waves")


def _warehouse_context(warehouse, warehouses) -> dict:
    return {
        "warehouse": warehouse,
        "warehouse_form": WarehousePickForm(
            initial={"warehouse": warehouse.pk}, warehouses=warehouses
        ),
    }


def _abilities(request: HttpRequest) -> dict[str, bool]:
    return {
        "can_work": request.user.has_perm("fulfillment.work_floor"),
        "can_plan": request.user.has_perm("fulfillment.plan_waves"),
    }


# --- the floor home ---------------------------------------------------------------------------
@_see_floor
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Counters, the queue (oldest first, paginated), short picks and stopped orders."""
    warehouse, warehouses = working_warehouse(request)
    if warehouse is None:
        return render(request, "fulfillment/no_warehouse.html", {})
    queue = selectors.queue(warehouse_id=warehouse.pk).select_related("order", "carrier")
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    to_put_back, to_relabel = selectors.needing_attention(warehouse_id=warehouse.pk)
    context = {
        "counts": selectors.floor_counts(warehouse_id=warehouse.pk),
        "page": page,
        "held": selectors.held(warehouse_id=warehouse.pk)[:PAGE_SIZE],
        "shorts": selectors.open_short_picks(warehouse_id=warehouse.pk),
        "to_put_back": to_put_back,
        "to_relabel": to_relabel,
        "open_waves": selectors.open_waves(warehouse_id=warehouse.pk),
        "activity": selectors.activity_today(warehouse_id=warehouse.pk),
        "wave_form": WaveForm(),
        **_warehouse_context(warehouse, warehouses),
        **_abilities(request),
    }
    return render(request, "fulfillment/home.html", context)


@plan_waves
@require_POST
def create_waves(request: HttpRequest) -> HttpResponse:
    """Pick lists from the queue by filters, or one order's own pick list (`single`)."""
    warehouse, _warehouses = working_warehouse(request)
    if warehouse is None:
        raise PermissionDenied
    single = request.POST.get("single", "")
    form = WaveForm(request.POST)
    try:
        if single.isdigit():
            waves = services.create_waves(
                warehouse_id=warehouse.pk,
                actor=request.user,
                fulfillment_ids=[int(single)],
                wave_size=1,
            )
        elif form.is_valid():
            data = form.cleaned_data
            waves = services.create_waves(
                warehouse_id=warehouse.pk,
                actor=request.user,
                carrier_id=data["carrier"].pk if data["carrier"] else None,
                cutoff=data["cutoff"],
                size=data["size"],
                wave_size=data["wave_size"],
                max_waves=data["max_waves"],
                picker=data["picker"],
            )
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("floor:home")
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
        return redirect("floor:home")
    orders = sum(wave.order_count for wave in waves)
    messages.success(
        request,
        ngettext(
            "%(lists)d pick list made with %(orders)d orders: %(numbers)s.",
            "%(lists)d pick lists made with %(orders)d orders: %(numbers)s.",
            len(waves),
        )
        % {
            "lists": len(waves),
            "orders": orders,
            "numbers": ", ".join(wave.number for wave in waves[:10])
            + ("…" if len(waves) > 10 else ""),
        },
    )
    if len(waves) == 1:
        return redirect("floor:wave", waves[0].pk)
    return redirect("floor:waves")


@plan_waves
@require_POST
def hold_or_release(request: HttpRequest) -> HttpResponse:
    """Hold the chosen orders of the queue (with a reason) or release the chosen held ones."""
    ids = [int(pk) for pk in request.POST.getlist("fulfillment") if pk.isdigit()]
    if not ids:
        messages.error(request, _("Choose at least one order."))
        return redirect("floor:home")
    try:
        if request.POST.get("action") == "release":
            count = services.release(actor=request.user, fulfillment_ids=ids)
            message = ngettext(
                "%(count)d order released to the queue.",
                "%(count)d orders released to the queue.",
                count,
            )
        else:
            form = ReasonForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Say why the orders are held."))
                return redirect("floor:home")
            count = services.hold(
                fulfillment_ids=ids, actor=request.user, reason=form.cleaned_data["reason"]
            )
            message = ngettext("%(count)d order held.", "%(count)d orders held.", count)
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, message % {"count": count})
    return redirect("floor:home")


@work_floor
@require_POST
def put_back(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    try:
        services.confirm_put_back(fulfillment_id=fulfillment_id, actor=request.user)
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Thank you: the goods are back in their bins."))
    return redirect("floor:home")


@permission_required("fulfillment.view_fulfillment")
@require_GET
def order_status(request: HttpRequest, number: str) -> HttpResponse:
    """Where an order is on the floor, per warehouse: for the staff order page (loaded into it
    by htmx) and on its own without JavaScript."""
    parts = selectors.order_on_floor(number=number)
    template = "fulfillment/_order_status.html" if request.htmx else "fulfillment/order_status.html"
    return render(request, template, {"parts": parts, "number": number, **_abilities(request)})


# --- pick lists -------------------------------------------------------------------------------
@_see_floor
@require_GET
def waves(request: HttpRequest) -> HttpResponse:
    warehouse, warehouses = working_warehouse(request)
    if warehouse is None:
        return render(request, "fulfillment/no_warehouse.html", {})
    state = request.GET.get("state", "")
    rows = selectors.waves(warehouse_id=warehouse.pk, state=state)
    context = {
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "state": state,
        "states": WaveState.choices,
        **_warehouse_context(warehouse, warehouses),
        **_abilities(request),
    }
    return render(request, "fulfillment/waves.html", context)


@_see_floor
@require_GET
def wave(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = get_object_or_404(
        Wave.objects.select_related("warehouse", "picker", "carrier"), pk=wave_id
    )
    context = {"pick_list": selectors.pick_list(wave), "wave": wave, **_abilities(request)}
    return render(request, "fulfillment/wave.html", context)


@plan_waves
@require_POST
def cancel_wave(request: HttpRequest, wave_id: int) -> HttpResponse:
    try:
        wave = services.cancel_wave(wave_id=wave_id, actor=request.user)
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
        return redirect("floor:wave", wave_id)
    messages.success(
        request,
        _("Pick list %(number)s cancelled: its orders are back in the queue.")
        % {"number": wave.number},
    )
    return redirect("floor:waves")


# --- picking (FUL-2) --------------------------------------------------------------------------
@work_floor
@require_http_methods(["GET", "POST"])
def pick_start(request: HttpRequest) -> HttpResponse:
    """Scan a pick list to start (or take over) picking it."""
    form = ScanForm(request.POST or None, label=_("Scan the pick list"))
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            wave = services.start_picking(code=form.cleaned_data["scan"], actor=request.user)
        except services.FloorRefused as refused:
            error = refused.message
        else:
            return redirect("floor:picking", wave.pk)
    context = {
        "form": form,
        "error": error,
        "mine": selectors.waves_of_picker(user=request.user),
    }
    return render(request, "fulfillment/pick_start.html", context, status=422 if error else 200)


def _picking_context(request, wave: Wave, *, result=None, error=None, short_form=None) -> dict:
    pick_list = selectors.pick_list(wave)
    next_line = next((line for line in pick_list.lines if line.left), None)
    return {
        "wave": wave,
        "pick_list": pick_list,
        "next_line": next_line,
        "form": ScanForm(label=_("Scan an item")),
        "short_form": short_form or ShortPickForm(pick_list=pick_list),
        "result": result,
        "error": error,
        "shorts": selectors.short_picks_of(wave),
    }


@work_floor
@require_http_methods(["GET", "POST"])
def picking(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = get_object_or_404(Wave.objects.select_related("warehouse", "picker"), pk=wave_id)
    result = error = None
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            try:
                result = services.record_pick_scan(
                    wave_id=wave.pk, code=form.cleaned_data["scan"], actor=request.user
                )
            except services.FloorRefused as refused:
                error = refused
        else:
            error = services.ScanRefused(_("Scan an item's barcode."), kind="unknown")
        wave.refresh_from_db()
    elif wave.state == WaveState.PICKING and services.close_wave_if_done(wave_id=wave.pk):
        wave.refresh_from_db()
    context = _picking_context(request, wave, result=result, error=error)
    template = "fulfillment/_picking_panel.html" if request.htmx else "fulfillment/picking.html"
    return render(request, template, context, status=422 if error and not request.htmx else 200)


@work_floor
@require_POST
def short_pick(request: HttpRequest, wave_id: int) -> HttpResponse:
    wave = get_object_or_404(Wave, pk=wave_id)
    form = ShortPickForm(request.POST, pick_list=selectors.pick_list(wave))
    if form.is_valid():
        bin_id, sku_id = form.cleaned_data["line"]
        try:
            shorts = services.report_short_pick(
                wave_id=wave.pk,
                sku_id=sku_id,
                bin_id=bin_id,
                quantity=form.cleaned_data["quantity"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except services.FloorRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.warning(
                request,
                ngettext(
                    "Short pick recorded: %(orders)s set aside for customer service.",
                    "Short pick recorded: %(orders)s set aside for customer service.",
                    len(shorts),
                )
                % {"orders": ", ".join(s.fulfillment.order.number for s in shorts)},
            )
            return redirect("floor:picking", wave.pk)
    wave.refresh_from_db()
    context = _picking_context(request, wave, short_form=form)
    return render(request, "fulfillment/picking.html", context, status=422)


# --- packing (FUL-3) --------------------------------------------------------------------------
@work_floor
@require_http_methods(["GET", "POST"])
def pack_start(request: HttpRequest) -> HttpResponse:
    """Scan an order number or a pick list: one order opens, a pick list lists its orders."""
    warehouse, _warehouses = working_warehouse(request)
    form = ScanForm(request.POST or request.GET or None, label=_("Scan the order or pick list"))
    error = ""
    found: list[Fulfillment] = []
    if form.is_bound and form.is_valid():
        found = selectors.find_by_code(
            form.cleaned_data["scan"], warehouse_id=warehouse.pk if warehouse else None
        )
        to_pack = [f for f in found if f.state == FulfillmentState.PICKED]
        if len(found) == 1 or len(to_pack) == 1:
            return redirect("floor:packing", (to_pack or found)[0].pk)
        if not found:
            error = _("“%(code)s” is no order or pick list of this warehouse.") % {
                "code": form.cleaned_data["scan"]
            }
    context = {
        "form": form,
        "error": error,
        "found": found,
        "ready": selectors.ready_to_pack(warehouse_id=warehouse.pk)[:20] if warehouse else [],
    }
    return render(request, "fulfillment/pack_start.html", context, status=422 if error else 200)


def _packing_context(fulfillment: Fulfillment, *, result=None, error=None, parcel_form=None):
    lines = selectors.pack_lines(fulfillment)
    return {
        "fulfillment": fulfillment,
        "order": fulfillment.order,
        "lines": lines,
        "all_confirmed": all(line.done for line in lines),
        "confirmed": sum(min(line.confirmed, line.quantity) for line in lines),
        "units": sum(line.quantity for line in lines),
        "parcels": list(fulfillment.parcels.select_related("carrier")),
        "form": ScanForm(label=_("Scan each item")),
        "parcel_form": parcel_form or ParcelForm(initial={"carrier": fulfillment.carrier_id}),
        "result": result,
        "error": error,
        "weight_warning": isinstance(error, services.WeightMismatch),
    }


def _fulfillment(fulfillment_id: int) -> Fulfillment:
    return get_object_or_404(
        Fulfillment.objects.select_related("order", "warehouse", "carrier"), pk=fulfillment_id
    )


@work_floor
@require_http_methods(["GET", "POST"])
def packing(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    fulfillment = _fulfillment(fulfillment_id)
    result = error = None
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            try:
                result = services.record_pack_scan(
                    fulfillment_id=fulfillment.pk,
                    code=form.cleaned_data["scan"],
                    actor=request.user,
                )
            except services.FloorRefused as refused:
                error = refused
        else:
            error = services.ScanRefused(_("Scan an item's barcode."), kind="unknown")
        fulfillment = _fulfillment(fulfillment_id)
    elif fulfillment.state == FulfillmentState.CANCELLED:
        error = services.ScanRefused(
            _("STOP: order %(number)s was cancelled. Do not pack it; put the goods back.")
            % {"number": fulfillment.order.number},
            kind="stopped",
        )
    context = _packing_context(fulfillment, result=result, error=error)
    template = "fulfillment/_packing_panel.html" if request.htmx else "fulfillment/packing.html"
    return render(request, template, context, status=422 if error and not request.htmx else 200)


@work_floor
@require_POST
def add_parcel(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    fulfillment = _fulfillment(fulfillment_id)
    form = ParcelForm(request.POST)
    error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            parcel = services.add_parcel(
                fulfillment_id=fulfillment.pk,
                package_type=data["package_type"],
                weight_grams=form.weight_grams,
                carrier_id=data["carrier"].pk,
                service=data["service"],
                tracking_number=data["tracking_number"],
                last=not data["more_to_come"],
                weight_confirmed=data["weight_confirmed"],
                actor=request.user,
            )
        except services.FloorRefused as refused:
            error = refused
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                _("Parcel %(number)s packed. Print its label and stick it on.")
                % {"number": parcel.tracking_number},
            )
            return redirect("floor:packing", fulfillment.pk)
    context = _packing_context(fulfillment, parcel_form=form)
    context["weight_warning"] = isinstance(error, services.WeightMismatch)
    return render(request, "fulfillment/packing.html", context, status=422)


@work_floor
@require_POST
def remove_parcel(request: HttpRequest, parcel_id: int) -> HttpResponse:
    parcel = get_object_or_404(Parcel, pk=parcel_id)
    try:
        services.remove_parcel(parcel_id=parcel.pk, actor=request.user)
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, _("Parcel %(number)s removed.") % {"number": parcel.tracking_number}
        )
    return redirect("floor:packing", parcel.fulfillment_id)


@work_floor
@require_POST
def relabelled(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    try:
        services.confirm_relabelled(fulfillment_id=fulfillment_id, actor=request.user)
    except services.FloorRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Thank you: the parcels may be handed over."))
    return redirect("floor:packing", fulfillment_id)


# --- hand-over (FUL-5) ------------------------------------------------------------------------
@work_floor
@require_http_methods(["GET", "POST"])
def hand_over(request: HttpRequest) -> HttpResponse:
    warehouse, warehouses = working_warehouse(request)
    if warehouse is None:
        return render(request, "fulfillment/no_warehouse.html", {})
    result = error = None
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            try:
                result = services.record_hand_over(
                    code=form.cleaned_data["scan"], actor=request.user
                )
            except services.FloorRefused as refused:
                error = refused
        else:
            error = services.ScanRefused(_("Scan a parcel's tracking number."), kind="unknown")
    context = {
        "form": ScanForm(label=_("Scan the parcel's label")),
        "result": result,
        "error": error,
        "today": selectors.handed_over_today(warehouse_id=warehouse.pk),
        "waiting": selectors.parcels_waiting(warehouse_id=warehouse.pk),
        **_warehouse_context(warehouse, warehouses),
    }
    template = "fulfillment/_hand_over_panel.html" if request.htmx else "fulfillment/hand_over.html"
    return render(request, template, context, status=422 if error and not request.htmx else 200)
