"""A marketplace store's column mapping (ORD-12): for each field the import reads, the header of
the column that holds it in that marketplace's CSV export, stored as `Store.column_mapping`
({field: header}).

A store without a mapping of its own reads files with the Chinese header set (`PRESETS`,
"tmall"), the headers of a typical Tmall/Taobao order export with the address in columns; the
English set suits a spreadsheet made by hand. Headers are compared without case and with
runs of spaces read as one.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

HEADER_MAX_LENGTH = 100


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str | Promise
    required: bool
    help_text: str | Promise = ""


IMPORT_FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "external_id",
        gettext_lazy("External order id"),
        True,
        gettext_lazy("The marketplace's order number; the rows of one order share it."),
    ),
    ImportField(
        "sku_code", gettext_lazy("Line SKU code"), True, gettext_lazy("Our SKU code (商家编码).")
    ),
    ImportField("quantity", gettext_lazy("Quantity"), True),
    ImportField("unit_price", gettext_lazy("Unit price"), True),
    ImportField(
        "line_discount",
        gettext_lazy("Line discount"),
        False,
        gettext_lazy("The discount on the whole line, not per unit."),
    ),
    ImportField("shipping_fee", gettext_lazy("Shipping fee"), False),
    ImportField(
        "order_total",
        gettext_lazy("Order total"),
        True,
        gettext_lazy("What the buyer paid for the whole order, shipping included."),
    ),
    ImportField("buyer_email", gettext_lazy("Buyer e-mail"), False),
    ImportField("recipient_name", gettext_lazy("Recipient name"), True),
    ImportField("phone", gettext_lazy("Phone"), True),
    ImportField("province", gettext_lazy("Province"), True),
    ImportField("city", gettext_lazy("City"), True),
    ImportField("district", gettext_lazy("District"), True),
    ImportField("address_line", gettext_lazy("Address line"), True),
    ImportField("postcode", gettext_lazy("Postcode"), False),
    ImportField("buyer_note", gettext_lazy("Buyer note"), False),
    ImportField(
        "payment_method",
        gettext_lazy("Payment method"),
        False,
        gettext_lazy("Paid online unless it says cash on delivery (cod, 货到付款)."),
    ),
    ImportField("paid_at", gettext_lazy("Paid at"), False),
)
FIELDS_BY_NAME = {field.name: field for field in IMPORT_FIELDS}
REQUIRED_FIELDS = tuple(field.name for field in IMPORT_FIELDS if field.required)
# The fields of the order as a whole: every row of one order must agree on them.
LINE_FIELDS = ("sku_code", "quantity", "unit_price", "line_discount")
ORDER_FIELDS = tuple(field.name for field in IMPORT_FIELDS if field.name not in LINE_FIELDS)

PRESETS: dict[str, dict[str, str]] = {
    "tmall": {
        "external_id": "订单编号",
        "sku_code": "商家编码",
        "quantity": "购买数量",
        "unit_price": "单价",
        "line_discount": "优惠金额",
        "shipping_fee": "运费",
        "order_total": "实付金额",
        "buyer_email": "买家邮箱",
        "recipient_name": "收货人",
        "phone": "联系手机",
        "province": "省",
        "city": "市",
        "district": "区",
        "address_line": "详细地址",
        "postcode": "邮编",
        "buyer_note": "买家留言",
        "payment_method": "支付方式",
        "paid_at": "付款时间",
    },
    "english": {
        "external_id": "order_id",
        "sku_code": "sku",
        "quantity": "quantity",
        "unit_price": "unit_price",
        "line_discount": "discount",
        "shipping_fee": "shipping",
        "order_total": "total",
        "buyer_email": "email",
        "recipient_name": "recipient",
        "phone": "phone",
        "province": "province",
        "city": "city",
        "district": "district",
        "address_line": "address",
        "postcode": "postcode",
        "buyer_note": "note",
        "payment_method": "payment_method",
        "paid_at": "paid_at",
    },
}
PRESET_LABELS = {
    "tmall": gettext_lazy("Tmall / Taobao (Chinese headers)"),
    "english": gettext_lazy("English headers"),
}
DEFAULT_PRESET = "tmall"


def header_key(header: str) -> str:
    """How headers are compared: without a byte-order mark, case or repeated spaces."""
    return " ".join(header.replace("\ufeff", "").split()).casefold()


def effective_mapping(stored: Mapping[str, str] | None) -> dict[str, str]:
    """{field: header} the import uses: the store's own mapping, or the default preset when it
    has none. Fields left empty are not read."""
    source = stored if stored else PRESETS[DEFAULT_PRESET]
    return {
        field.name: (source.get(field.name) or "").strip()
        for field in IMPORT_FIELDS
        if (source.get(field.name) or "").strip()
    }


def mapping_problems(mapping: Mapping[str, str]) -> dict[str, str]:
    """{field: message} for what makes `mapping` unusable: a required field without a header,
    a header too long, a header given to two fields. Empty when it is fine."""
    problems: dict[str, str] = {}
    seen: dict[str, str] = {}
    for field in IMPORT_FIELDS:
        header = (mapping.get(field.name) or "").strip()
        if not header:
            if field.required:
                problems[field.name] = _("Name the column that holds this field.")
            continue
        if len(header) > HEADER_MAX_LENGTH:
            problems[field.name] = _("A header has at most %(max)d characters.") % {
                "max": HEADER_MAX_LENGTH
            }
            continue
        key = header_key(header)
        if key in seen:
            problems[field.name] = _("“%(header)s” is already the column of “%(other)s”.") % {
                "header": header,
                "other": FIELDS_BY_NAME[seen[key]].label,
            }
            continue
        seen[key] = field.name
    return problems


def template_headers(mapping: Mapping[str, str]) -> list[str]:
    """The headers of a file this mapping reads, in the order of IMPORT_FIELDS."""
    return [mapping[field.name] for field in IMPORT_FIELDS if mapping.get(field.name)]
