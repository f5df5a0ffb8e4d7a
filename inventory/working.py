"""Which warehouse a member of staff works in on the scanner screens (receiving, stock-take,
the floor, returns): chosen once, kept in the session, the same on every screen."""

from django.http import HttpRequest

from . import selectors
from .models import Warehouse

WAREHOUSE_SESSION_KEY = "inventory:warehouse_id"


def working_warehouse(request: HttpRequest) -> tuple[Warehouse | None, list[Warehouse]]:
    """The warehouse chosen (a `warehouse` field of this request, else the one kept in the
    session), else the first active one; and the active warehouses to choose from. (None, [])
    when there is no active warehouse."""
    active = {w.pk: w for w in selectors.warehouses() if w.is_active}
    if not active:
        return None, []
    chosen = request.POST.get("warehouse") or request.GET.get("warehouse")
    if chosen and chosen.isdigit() and int(chosen) in active:
        request.session[WAREHOUSE_SESSION_KEY] = int(chosen)
        return active[int(chosen)], list(active.values())
    remembered = request.session.get(WAREHOUSE_SESSION_KEY)
    return active.get(remembered) or next(iter(active.values())), list(active.values())
