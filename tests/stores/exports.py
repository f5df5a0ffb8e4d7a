"""Marketplace exports for the import tests: rows in our field names, written as a store's CSV
file with its headers (the Tmall/Taobao Chinese set unless told)."""

import csv
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from stores.mapping import IMPORT_FIELDS, PRESETS
from stores.models import Store, StoreKind

FIELDS = [field.name for field in IMPORT_FIELDS]


def marketplace_store(**fields) -> Store:
    fields.setdefault("code", "tmall")
    fields.setdefault("name", "Tmall flagship")
    fields.setdefault("kind", StoreKind.MARKETPLACE)
    fields.setdefault("column_mapping", dict(PRESETS["tmall"]))
    return Store.objects.create(**fields)


def row(sku, external_id="TM-1001", *, quantity=1, unit_price="99.00", **values) -> dict:
    """One order line: by default a one-line order of `sku` with 8.00 shipping, its total
    adding up."""
    shipping = Decimal(values.get("shipping_fee", "8.00") or "0")
    discount = Decimal(values.get("line_discount", "") or "0")
    total = Decimal(unit_price) * quantity - discount + shipping
    base = {
        "external_id": external_id,
        "sku_code": sku.code,
        "quantity": str(quantity),
        "unit_price": unit_price,
        "line_discount": "",
        "shipping_fee": "8.00",
        "order_total": f"{total:.2f}",
        "buyer_email": "",
        "recipient_name": "张伟",
        "phone": "13812345678",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_line": "文三路 478 号华星时代广场 A 座 1203 室",
        "postcode": "310013",
        "buyer_note": "",
        "payment_method": "在线支付",
        "paid_at": "2026-11-20 10:15",
    }
    base.update(values)
    return base


def export_bytes(
    rows: list[dict],
    *,
    headers: dict[str, str] | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> bytes:
    headers = headers or PRESETS["tmall"]
    names = [name for name in FIELDS if name in headers]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([headers[name] for name in names])
    for values in rows:
        writer.writerow([values.get(name, "") for name in names])
    return buffer.getvalue().encode(encoding)


def upload(content: bytes, name: str = "export.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")
