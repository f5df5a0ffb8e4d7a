"""Marketplace order import (ORD-12): staff upload a store's CSV export; a worker checks every
row, then places each order through `stores.services.place_channel_order`.

- `request_import` stores the file (at most IMPORT_MAX_BYTES) as a `StoreImport`, queued, and
  hands it to the worker after the commit. The same file of the same store uploaded again while
  the first is still queued or running finds the first (its SHA-256, a partial unique index);
  uploaded again later, it is a new import that finds every order already imported.
- `run_import` (the task `stores.tasks.run_store_import`) reads the file with the store's
  column mapping (`core.csv_upload`: size and row limits, UTF-8 or GB18030, comma, semicolon or
  tab) and checks the whole file first (`check_rows`): every bad row is reported with its line
  in the file (the header is line 1). One bad row and nothing is imported: the import is
  refused.
- A clean file's orders (its rows grouped by external order id) are placed one by one, each in
  its own transaction. An order that cannot be placed at that moment — its stock is short, a
  SKU went off sale since the check — is reported with its lines and the others go on: a
  marketplace order is already sold and paid, and holding back hundreds of good orders for one
  short SKU would delay them all. Staff receive the stock and upload the same file again: the
  orders already imported are found (unique store + external id) and only the missing ones are
  placed.
- Running an import twice (a redelivered task) is safe: a finished import is left alone, and
  one left running by a lost worker starts over, finding the orders it already placed.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language, ngettext, override
from django.utils.translation import gettext as _

from addresses import divisions
from addresses.validators import normalize_mobile, validate_postcode
from catalog.models import SKU
from core.audit import record_staff_action
from core.csv_upload import ImportRefused, read_rows, too_big_message
from core.errors import DomainError
from orders import services as order_services
from orders.models import NO_CONTACT_EMAIL_DOMAIN, Order, PaymentMethod
from orders.tracking_io import parse_time, time_problem

from . import mapping as column_mapping
from .models import (
    RUNNING_IMPORT_STATES,
    ImportedOrder,
    ImportState,
    Store,
    StoreImport,
    StoreKind,
)

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
# Progress is written after this many orders (and after the last).
PROGRESS_EVERY = 20
# A queued import this old lost its hand-over to the broker; a running one whose progress has
# not moved for this long lost its worker (the task's time limit is shorter).
REQUEUE_QUEUED_AFTER = timedelta(minutes=10)
REQUEUE_RUNNING_AFTER = timedelta(minutes=40)
# Marketplaces rarely pass on the buyer's e-mail; an order needs a contact address, and one in
# the reserved .invalid domain (RFC 2606) can never reach anybody (notifications skip it).
NO_EMAIL_DOMAIN = NO_CONTACT_EMAIL_DOMAIN
MAX_QUANTITY = 10_000
EXTERNAL_ID_MAX = Order._meta.get_field("external_id").max_length
TEXT_LIMITS = {
    "recipient_name": Order._meta.get_field("recipient_name").max_length,
    "address_line": Order._meta.get_field("address_line").max_length,
    "buyer_note": Order._meta.get_field("customer_note").max_length,
}
MONEY_EXAMPLE = "128.50"
CASH_ON_DELIVERY_WORDS = {"cod", "cash on delivery", "cash_on_delivery", "货到付款", "到付"}
ONLINE_WORDS = {
    "online",
    "paid",
    "prepaid",
    "在线支付",
    "在线付款",
    "已付款",
    "支付宝",
    "alipay",
    "微信",
    "微信支付",
    "wechat",
    "wechat pay",
    "银行卡",
    "花呗",
}


class UploadRefused(DomainError):
    """An upload refused before anything was stored (an inactive store, a file too big)."""


# --- values -----------------------------------------------------------------------------------
def parse_money(text: str) -> Decimal | None:
    """A non-negative amount with at most two decimal places ("¥1,299.5" → 1299.50), or None."""
    text = text.strip().lstrip("¥￥").replace(",", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        return None
    return amount.quantize(Decimal("0.01"))


def parse_quantity(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        return None
    quantity = int(text)
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


def parse_payment_method(text: str) -> str | None:
    key = " ".join(text.split()).casefold()
    if not key or key in ONLINE_WORDS:
        return PaymentMethod.ONLINE
    if key in CASH_ON_DELIVERY_WORDS:
        return PaymentMethod.CASH_ON_DELIVERY
    return None


def _field_label(name: str) -> str:
    return str(column_mapping.FIELDS_BY_NAME[name].label)


def placeholder_email(store: Store, external_id: str) -> str:
    digest = hashlib.sha256(external_id.encode()).hexdigest()[:12]
    return f"{store.code}.{digest}@{NO_EMAIL_DOMAIN}"


# --- reading and checking ---------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class PlannedOrder:
    """One order of a clean file, ready for `place_channel_order`."""

    external_id: str
    lines_in_file: list[int]
    lines: list[order_services.LineRequest]
    address: order_services.ShippingAddress
    contact_email: str
    shipping_amount: Decimal
    payment_method: str
    customer_note: str
    # When the buyer paid the marketplace, if the export says: the order is recorded paid then
    # (the sales reports count it on that day).
    paid_at: datetime | None = None


@dataclass
class ImportCheck:
    orders: list[PlannedOrder] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def is_clean(self) -> bool:
        return not self.errors and bool(self.orders)


def _header_map(store_mapping: dict[str, str]):
    def header_map(header: list[str]) -> dict[str, int]:
        positions: dict[str, int] = {}
        keys = [column_mapping.header_key(cell) for cell in header]
        for name, wanted in store_mapping.items():
            key = column_mapping.header_key(wanted)
            if key in keys:
                positions[name] = keys.index(key)
        missing = [
            store_mapping[name]
            for name in column_mapping.REQUIRED_FIELDS
            if name not in positions and name in store_mapping
        ]
        missing += [
            str(column_mapping.FIELDS_BY_NAME[name].label)
            for name in column_mapping.REQUIRED_FIELDS
            if name not in store_mapping
        ]
        if missing:
            raise ImportRefused(
                _(
                    "The header row lacks the column(s): %(columns)s. Check the store's column "
                    "mapping or download its template."
                )
                % {"columns": ", ".join(f"“{name}”" for name in missing)}
            )
        return positions

    return header_map


def read_file(store: Store, raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {field: text}) for each non-blank row of the file, read with the store's
    mapping; fields the file lacks (optional ones) read as ""."""
    store_mapping = column_mapping.effective_mapping(store.column_mapping)
    rows = read_rows(
        ContentFile(raw),
        header_map=_header_map(store_mapping),
        max_bytes=IMPORT_MAX_BYTES,
        max_rows=IMPORT_MAX_ROWS,
    )
    names = [f.name for f in column_mapping.IMPORT_FIELDS]
    return [(line, {name: values.get(name, "") for name in names}) for line, values in rows]


def _skus(codes: Iterable[str]) -> dict[str, SKU]:
    codes = sorted(set(codes) - {""})
    found: dict[str, SKU] = {}
    for start in range(0, len(codes), 500):
        for sku in SKU.objects.filter(code__in=codes[start : start + 500]).select_related(
            "product"
        ):
            found[sku.code] = sku
    return found


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    ok: bool
    sku: SKU | None = None
    quantity: int = 0
    unit_price: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    payment_method: str = PaymentMethod.ONLINE
    phone: str = ""
    divisions: tuple = ()
    paid_at: datetime | None = None


def _money(values: dict[str, str], name: str, problems: list[str], *, required: bool) -> Decimal:
    text = values[name]
    label = column_mapping.FIELDS_BY_NAME[name].label
    if not text.strip():
        if required:
            problems.append(_("no %(field)s") % {"field": str(label).lower()})
        return Decimal("0.00")
    amount = parse_money(text)
    if amount is None:
        problems.append(
            _(
                "%(field)s “%(value)s” is not an amount such as %(example)s (at most two "
                "decimal places, not negative)"
            )
            % {"field": label, "value": text, "example": MONEY_EXAMPLE}
        )
        return Decimal("0.00")
    return amount


def _check_row(line: int, values: dict[str, str], skus: dict[str, SKU], now) -> tuple[_Row, list]:
    problems: list[str] = []
    row = _Row(line=line, values=values, ok=False)

    external_id = values["external_id"]
    if not external_id:
        problems.append(_("no order id"))
    elif len(external_id) > EXTERNAL_ID_MAX:
        problems.append(
            _("the order id is longer than %(limit)d characters") % {"limit": EXTERNAL_ID_MAX}
        )

    code = values["sku_code"]
    if not code:
        problems.append(_("no SKU code"))
    else:
        sku = skus.get(code)
        if sku is None:
            problems.append(_("unknown SKU code “%(code)s”") % {"code": code})
        elif not (sku.is_active and sku.product.is_active):
            problems.append(_("SKU “%(code)s” is not on sale") % {"code": code})
        else:
            row.sku = sku

    if not values["quantity"]:
        problems.append(_("no quantity"))
    else:
        quantity = parse_quantity(values["quantity"])
        if quantity is None:
            problems.append(
                _("quantity “%(value)s” is not a whole number from 1 to %(max)d")
                % {"value": values["quantity"], "max": MAX_QUANTITY}
            )
        else:
            row.quantity = quantity

    before = len(problems)
    row.unit_price = _money(values, "unit_price", problems, required=True)
    row.discount = _money(values, "line_discount", problems, required=False)
    row.shipping = _money(values, "shipping_fee", problems, required=False)
    row.total = _money(values, "order_total", problems, required=True)
    if len(problems) == before and row.quantity and row.discount > row.unit_price * row.quantity:
        problems.append(
            _("the line discount %(discount)s is more than the line's amount %(amount)s")
            % {"discount": row.discount, "amount": row.unit_price * row.quantity}
        )

    for name in ("recipient_name", "address_line"):
        if not values[name]:
            problems.append(
                _("no %(field)s")
                % {"field": str(column_mapping.FIELDS_BY_NAME[name].label).lower()}
            )
    for name, limit in TEXT_LIMITS.items():
        if len(values[name]) > limit:
            problems.append(
                _("%(field)s is longer than %(limit)d characters")
                % {"field": column_mapping.FIELDS_BY_NAME[name].label, "limit": limit}
            )

    if not values["phone"]:
        problems.append(_("no phone number"))
    else:
        try:
            row.phone = normalize_mobile(values["phone"])
        except ValidationError:
            problems.append(
                _("phone “%(value)s” is not a mainland China mobile number")
                % {"value": values["phone"]}
            )

    names = (values["province"], values["city"], values["district"])
    if not all(names):
        problems.append(_("the province, city and district are all needed"))
    else:
        found = divisions.find_by_names(*names)
        if found is None:
            problems.append(
                _("“%(province)s %(city)s %(district)s” is not a province, city and district")
                % dict(zip(("province", "city", "district"), names, strict=True))
            )
        else:
            row.divisions = found

    if values["postcode"]:
        try:
            validate_postcode(values["postcode"])
        except ValidationError:
            problems.append(
                _("postcode “%(value)s” is not 6 digits") % {"value": values["postcode"]}
            )

    if values["buyer_email"]:
        try:
            validate_email(values["buyer_email"])
        except ValidationError:
            problems.append(
                _("e-mail “%(value)s” is not an e-mail address") % {"value": values["buyer_email"]}
            )

    method = parse_payment_method(values["payment_method"])
    if method is None:
        problems.append(
            _("payment method “%(value)s” is neither online nor cash on delivery (cod, 货到付款)")
            % {"value": values["payment_method"]}
        )
    else:
        row.payment_method = method

    if values["paid_at"]:
        paid_at = parse_time(values["paid_at"])
        if paid_at is None:
            problems.append(
                _("paid at “%(value)s” is not a date and time such as 2025-03-01 14:30")
                % {"value": values["paid_at"]}
            )
        elif problem := time_problem(paid_at, now=now):
            problems.append(problem)
        else:
            row.paid_at = paid_at

    row.ok = not problems
    return row, problems


def _order_value(row: _Row, name: str):
    """What two rows of one order must agree on: amounts by value, text as written."""
    if name in ("shipping_fee", "order_total"):
        amount = parse_money(row.values[name]) if row.values[name] else Decimal("0.00")
        return amount if amount is not None else row.values[name]
    return " ".join(row.values[name].split())


def check_rows(store: Store, rows: list[tuple[int, dict[str, str]]]) -> ImportCheck:
    """Check every row, then every order (its rows agree on the order's fields, its amounts
    add up). A fixed number of queries per 500 distinct SKU codes."""
    check = ImportCheck(rows=len(rows))
    skus = _skus(values["sku_code"] for _line, values in rows)
    now = timezone.now()
    groups: dict[str, list[_Row]] = {}
    for line, values in rows:
        row, problems = _check_row(line, values, skus, now)
        if problems:
            check.errors.append(RowError(line, "; ".join(problems)))
        if values["external_id"]:
            groups.setdefault(values["external_id"], []).append(row)

    order_fields = [name for name in column_mapping.ORDER_FIELDS if name != "external_id"]
    for external_id, group in groups.items():
        first = group[0]
        for row in group[1:]:
            differing = [
                name
                for name in order_fields
                if _order_value(row, name) != _order_value(first, name)
            ]
            if differing:
                row.ok = False
                check.errors.append(
                    RowError(
                        row.line,
                        _("order %(id)s: %(fields)s differ(s) from line %(line)d")
                        % {
                            "id": external_id,
                            "fields": ", ".join(
                                str(column_mapping.FIELDS_BY_NAME[name].label).lower()
                                for name in differing
                            ),
                            "line": first.line,
                        },
                    )
                )
        if not all(row.ok for row in group):
            continue
        goods = sum((row.unit_price * row.quantity - row.discount for row in group), Decimal(0))
        if goods + first.shipping != first.total:
            check.errors.append(
                RowError(
                    first.line,
                    _(
                        "order %(id)s (lines %(lines)s): the lines (%(goods)s) and shipping "
                        "(%(shipping)s) add up to %(sum)s, but the order total is %(total)s"
                    )
                    % {
                        "id": external_id,
                        "lines": ", ".join(str(row.line) for row in group),
                        "goods": goods,
                        "shipping": first.shipping,
                        "sum": goods + first.shipping,
                        "total": first.total,
                    },
                )
            )
            continue
        province, city, district = first.divisions
        values = first.values
        check.orders.append(
            PlannedOrder(
                external_id=external_id,
                lines_in_file=[row.line for row in group],
                lines=[
                    order_services.LineRequest(
                        sku_id=row.sku.pk,
                        quantity=row.quantity,
                        unit_price=row.unit_price,
                        discount=row.discount,
                    )
                    for row in group
                ],
                address=order_services.ShippingAddress(
                    recipient_name=values["recipient_name"],
                    recipient_phone=first.phone,
                    province=province.name,
                    city=city.name,
                    district=district.name,
                    address_line=values["address_line"],
                    postcode=values["postcode"],
                ),
                contact_email=values["buyer_email"] or placeholder_email(store, external_id),
                shipping_amount=first.shipping,
                payment_method=first.payment_method,
                customer_note=values["buyer_note"],
                paid_at=first.paid_at,
            )
        )
    check.errors.sort(key=lambda error: error.line)
    return check


# --- the import -------------------------------------------------------------------------------
def request_import(*, store: Store, uploaded, actor) -> tuple[StoreImport, bool]:
    """Record an uploaded export of `store` and hand it to the worker after the commit.
    Returns (the import, whether it is new): the same file of the same store already queued or
    running is returned instead of a second one. Refuses an inactive or API store and a file
    over IMPORT_MAX_BYTES (`UploadRefused`)."""
    if store.kind != StoreKind.MARKETPLACE:
        raise UploadRefused(_("Only marketplace stores import files."))
    if not store.is_active:
        raise UploadRefused(_("This store is inactive: it cannot import orders."))
    if uploaded.size > IMPORT_MAX_BYTES:
        raise UploadRefused(too_big_message(uploaded.size, IMPORT_MAX_BYTES))
    raw = uploaded.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        raise UploadRefused(too_big_message(len(raw), IMPORT_MAX_BYTES))
    digest = hashlib.sha256(raw).hexdigest()
    running = _running_import(store, digest)
    if running is not None:
        return running, False
    try:
        with transaction.atomic():
            store_import = StoreImport.objects.create(
                store=store,
                uploaded_by=actor,
                filename=(getattr(uploaded, "name", "") or "upload.csv")[:200],
                content=raw,
                sha256=digest,
            )
            record_staff_action(
                actor=actor,
                action="store.import_orders",
                target=store_import,
                label=f"{store.code} #{store_import.pk}",
                after={"file": store_import.filename, "sha256": digest, "bytes": len(raw)},
            )
            from .tasks import run_store_import

            transaction.on_commit(
                partial(run_store_import.delay, store_import.pk, get_language() or "")
            )
    except IntegrityError:
        running = _running_import(store, digest)
        if running is None:
            raise
        return running, False
    return store_import, True


def _running_import(store: Store, digest: str) -> StoreImport | None:
    return (
        StoreImport.objects.filter(store=store, sha256=digest, state__in=RUNNING_IMPORT_STATES)
        .defer("content")
        .first()
    )


def _claim(import_id: int) -> bool:
    """Mark the import validating unless it is finished; a redelivered task for an import left
    running by a lost worker starts over."""
    claimed = StoreImport.objects.filter(pk=import_id, state__in=RUNNING_IMPORT_STATES).update(
        state=ImportState.VALIDATING,
        rows_done=0,
        orders_created=0,
        orders_known=0,
        orders_failed=0,
        errors=[],
        updated_at=timezone.now(),
    )
    return bool(claimed)


def _finish(import_id: int, state: str, **fields) -> None:
    now = timezone.now()
    StoreImport.objects.filter(pk=import_id).update(
        state=state, finished_at=now, updated_at=now, **fields
    )


def _error_dicts(errors: Iterable[RowError]) -> list[dict]:
    return [{"line": error.line, "message": error.message} for error in errors]


def run_import(import_id: int, *, language: str = "") -> bool:
    """Check and import the file of `import_id`. Returns whether this run did the work (False
    for an import already finished). Safe to run twice."""
    if not _claim(import_id):
        return False
    with override(language or settings.LANGUAGE_CODE):
        try:
            return _run(import_id)
        except Exception as error:
            logger.exception("store import %s failed", import_id)
            _finish(
                import_id,
                ImportState.FAILED,
                errors=[
                    {
                        "line": 0,
                        "message": _("The import stopped on an unexpected error: %(error)s")
                        % {"error": str(error)[:300]},
                    }
                ],
            )
            return False


def _run(import_id: int) -> bool:
    store_import = StoreImport.objects.select_related("store").get(pk=import_id)
    store = store_import.store
    if not store.is_active:
        _finish(
            import_id,
            ImportState.REFUSED,
            errors=[{"line": 0, "message": _("This store is inactive: it cannot import orders.")}],
        )
        return True
    try:
        rows = read_file(store, bytes(store_import.content))
    except ImportRefused as refused:
        _finish(import_id, ImportState.REFUSED, errors=[{"line": 0, "message": refused.message}])
        return True
    StoreImport.objects.filter(pk=import_id).update(rows_total=len(rows), updated_at=timezone.now())
    check = check_rows(store, rows)
    if check.errors:
        _finish(
            import_id,
            ImportState.REFUSED,
            orders_total=len({values["external_id"] for _line, values in rows} - {""}),
            errors=_error_dicts(check.errors),
        )
        return True

    StoreImport.objects.filter(pk=import_id).update(
        state=ImportState.IMPORTING, orders_total=len(check.orders), updated_at=timezone.now()
    )
    counts = {"created": 0, "known": 0, "failed": 0, "rows": 0}
    errors: list[dict] = []
    for index, planned in enumerate(check.orders, start=1):
        problem = _place(store_import, planned, counts)
        if problem:
            counts["failed"] += 1
            errors.append(
                {
                    "line": planned.lines_in_file[0],
                    "lines": planned.lines_in_file,
                    "message": _("order %(id)s (lines %(lines)s) was not imported: %(problem)s")
                    % {
                        "id": planned.external_id,
                        "lines": ", ".join(map(str, planned.lines_in_file)),
                        "problem": problem,
                    },
                }
            )
        counts["rows"] += len(planned.lines_in_file)
        if index % PROGRESS_EVERY == 0:
            StoreImport.objects.filter(pk=import_id).update(
                rows_done=counts["rows"],
                orders_created=counts["created"],
                orders_known=counts["known"],
                orders_failed=counts["failed"],
                updated_at=timezone.now(),
            )
    _finish(
        import_id,
        ImportState.DONE,
        rows_done=counts["rows"],
        orders_created=counts["created"],
        orders_known=counts["known"],
        orders_failed=counts["failed"],
        errors=errors,
    )
    return True


def _place(store_import: StoreImport, planned: PlannedOrder, counts: dict) -> str:
    """Place one order of the file in its own transaction, with the record of this import's
    orders. Returns why it could not be placed, or ""."""
    from .services import place_channel_order

    try:
        with transaction.atomic():
            placed = place_channel_order(
                store=store_import.store,
                external_id=planned.external_id,
                lines=planned.lines,
                address=planned.address,
                contact_email=planned.contact_email,
                shipping_amount=planned.shipping_amount,
                payment_method=planned.payment_method,
                customer_note=planned.customer_note,
                paid_at=planned.paid_at,
            )
            ImportedOrder.objects.get_or_create(
                store_import=store_import,
                order=placed.order,
                defaults={"created": placed.created, "first_line": planned.lines_in_file[0]},
            )
    except DomainError as error:
        return error.message
    counts["created" if placed.created else "known"] += 1
    return ""


def result_message(store_import: StoreImport) -> str:
    """What a finished import did, in one sentence."""
    if store_import.state == ImportState.REFUSED:
        return ngettext(
            "%(count)d problem found; nothing was imported.",
            "%(count)d problems found; nothing was imported.",
            len(store_import.errors),
        ) % {"count": len(store_import.errors)}
    if store_import.state == ImportState.FAILED:
        return _("The import failed; orders placed before the failure stay.")
    parts = [
        ngettext(
            "%(count)d order created",
            "%(count)d orders created",
            store_import.orders_created,
        )
        % {"count": store_import.orders_created},
        _("already imported: %(count)d") % {"count": store_import.orders_known},
    ]
    if store_import.orders_failed:
        parts.append(
            ngettext(
                "%(count)d order could not be imported",
                "%(count)d orders could not be imported",
                store_import.orders_failed,
            )
            % {"count": store_import.orders_failed}
        )
    return "; ".join(parts) + "."


def tidy_imports() -> int:
    """Hand the broker again the imports still queued after REQUEUE_QUEUED_AFTER (their
    enqueue at commit was lost) and those running with no progress for REQUEUE_RUNNING_AFTER
    (their worker was lost). Returns how many were handed over. Safe beside itself: an import
    run twice places each order once."""
    from .tasks import run_store_import

    now = timezone.now()
    stale = (
        StoreImport.objects.filter(
            state=ImportState.QUEUED, updated_at__lt=now - REQUEUE_QUEUED_AFTER
        )
        | StoreImport.objects.filter(
            state__in=[ImportState.VALIDATING, ImportState.IMPORTING],
            updated_at__lt=now - REQUEUE_RUNNING_AFTER,
        )
    ).values_list("pk", flat=True)[:50]
    handed = 0
    for import_id in stale:
        try:
            run_store_import.delay(import_id, "")
        except Exception:
            logger.exception("handing over store import %s failed", import_id)
            continue
        handed += 1
    return handed
