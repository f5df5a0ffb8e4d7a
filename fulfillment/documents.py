"""Printed documents of the warehouse floor (FUL-4): shipping labels, pick lists, packing slips.

Two renderings of the same data (`fulfillment.document_data`):

- HTML pages with print CSS (templates/fulfillment/documents/), whose barcodes are inline SVG
  made here by `barcode_svg`;
- PDFs drawn page by page on a reportlab canvas straight into a file-like object: the writers
  take an iterable of documents (the `document_data.iter_…` generators read them in chunks),
  so a batch of 2,000 labels never holds more than one chunk of rows and, in the PDF, only the
  compressed pages drawn so far.

Text is drawn in Helvetica when it fits the PDF's standard Latin encoding (order and tracking
numbers, phone numbers: they can be read back from the file) and otherwise in the CJK font
STSong-Light, one of the PDF's standard CID fonts: readers supply it, nothing is embedded.
Every caption goes through gettext in the active language; background batches activate the
language of the person who asked for them.
"""

import functools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import code128, createBarcodeDrawing
from reportlab.lib.colors import black, grey, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from .document_data import Label, PackingSlip, PickListDocument

LABEL_SIZE = (100 * mm, 150 * mm)
CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
# A progress callback hears about every this many documents (and once at the end).
PROGRESS_EVERY = 25

Progress = Callable[[int], None] | None


@functools.cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


# --- barcodes -----------------------------------------------------------------------------------
def is_barcodable(value: str) -> bool:
    """Code 128 carries printable ASCII only; anything else is printed as text alone."""
    return bool(value) and value.isascii() and value.isprintable()


_SVG_NOISE = [
    re.compile(r"<title>.*?</title>\s*", re.S),
    re.compile(r"<desc>.*?</desc>\s*", re.S),
    re.compile(r"<clipPath.*?</clipPath>\s*", re.S),
    re.compile(r' style="clip-path: url\(#clip\)"'),
    re.compile(r' id="group"'),
    # Every bar repeats the same style: black, set once on the root instead.
    re.compile(r' style="[^"]*fill: rgb\(0%,0%,0%\)[^"]*"'),
]


def barcode_svg(value: str, *, bar_height: float = 40, css_class: str = "barcode") -> SafeString:
    """`value` as a Code 128 barcode in inline SVG (no human-readable text: the page prints
    the number beside it). It scales to the CSS box of `css_class`. Empty for a value Code 128
    cannot carry."""
    if not is_barcodable(value):
        return mark_safe("")
    drawing = createBarcodeDrawing(
        "Code128", value=value, barWidth=1, barHeight=bar_height, quiet=False, humanReadable=False
    )
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    for pattern in _SVG_NOISE:
        svg = pattern.sub("", svg)
    width, height = drawing.width, drawing.height
    svg = re.sub(
        r"<svg [^>]*>",
        f'<svg class="{css_class}" viewBox="0 0 {width:g} {height:g}" '
        'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg" fill="#000" '
        'role="img" aria-hidden="true">',
        svg,
        count=1,
    )
    # The value itself never reaches the SVG (no title, no text), only bars we drew.
    return mark_safe(svg.strip())


def _draw_barcode(
    canvas: Canvas,
    value: str,
    *,
    x: float,
    y: float,
    width: float,
    height: float,
    max_bar: float = 0.5 * mm,
    align: str = "center",
) -> None:
    """A Code 128 barcode with its bottom at `y`, as wide as fits `width` (bars at most
    `max_bar` wide), aligned in that box."""
    if not is_barcodable(value):
        return
    modules = code128.Code128(value, barWidth=1, quiet=False).width
    bar = min(max_bar, width / modules)
    barcode = code128.Code128(value, barWidth=bar, barHeight=height, quiet=False)
    left = x
    if align == "center":
        left = x + (width - barcode.width) / 2
    elif align == "right":
        left = x + width - barcode.width
    barcode.drawOn(canvas, left, y)


# --- text -------------------------------------------------------------------------------------
def _is_latin(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _font(text: str, bold: bool = False) -> str:
    if _is_latin(text):
        return LATIN_BOLD if bold else LATIN_FONT
    return CJK_FONT


def _text(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    align: str = "left",
    font: str | None = None,
) -> None:
    canvas.setFont(font or _font(text, bold), size)
    if align == "right":
        canvas.drawRightString(x, y, text)
    elif align == "center":
        canvas.drawCentredString(x, y, text)
    else:
        canvas.drawString(x, y, text)


_TOKENS = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*|\s+|.")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width`: Latin words kept whole where they fit, Chinese
    broken between any two characters."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text.replace("\n", " ")):
        if pdfmetrics.stringWidth(line + token.rstrip(), font, size) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = token.lstrip()
        while line and pdfmetrics.stringWidth(line.rstrip(), font, size) > width:
            cut = len(line) - 1
            while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _paragraph(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    width: float,
    *,
    leading: float | None = None,
    bold: bool = False,
    max_lines: int | None = None,
) -> float:
    """Draw `text` wrapped to `width`, first baseline at `y`; returns the next baseline."""
    font = _font(text, bold)
    leading = leading or size * 1.25
    lines = _wrap(text, font, size, width)
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= leading
    return y


def _height(text: str, size: float, width: float, *, leading: float | None = None) -> float:
    return len(_wrap(text, _font(text), size, width)) * (leading or size * 1.25)


def _rule(canvas: Canvas, x1: float, x2: float, y: float, *, width: float = 0.8) -> None:
    canvas.setLineWidth(width)
    canvas.line(x1, y, x2, y)


def _thin_rule(canvas: Canvas, x1: float, x2: float, y: float) -> None:
    canvas.setStrokeColor(grey)
    _rule(canvas, x1, x2, y, width=0.4)
    canvas.setStrokeColor(black)


def _no_header(y: float) -> float:
    return y


def local_date(value) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT") if value else ""


def local_datetime(value) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def kilograms(grams: int) -> str:
    weight = formats.number_format(Decimal(grams) / 1000, 2)
    return _("%(weight)s kg") % {"weight": weight}


def _new_canvas(out: BinaryIO, pagesize: tuple[float, float], title: str) -> Canvas:
    _register_fonts()
    canvas = Canvas(out, pagesize=pagesize, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(settings.SHOP_NAME)
    return canvas


def _write(
    documents: Iterable,
    out: BinaryIO,
    *,
    pagesize: tuple[float, float],
    title: str,
    draw: Callable[[Canvas, object], None],
    progress: Progress,
    every: int,
) -> int:
    canvas = _new_canvas(out, pagesize, title)
    count = 0
    for document in documents:
        draw(canvas, document)
        canvas.showPage()
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    canvas.save()
    if progress is not None and count % every:
        progress(count)
    return count


# --- shipping labels --------------------------------------------------------------------------
def write_labels(
    labels: Iterable[Label],
    out: BinaryIO,
    *,
    progress: Progress = None,
    every: int = PROGRESS_EVERY,
) -> int:
    """Draw one 100×150 mm page per label into `out`; returns the number of labels.
    `progress(done)` is called every `every` labels and at the end."""
    return _write(
        labels,
        out,
        pagesize=LABEL_SIZE,
        title=_("Shipping labels"),
        draw=draw_label,
        progress=progress,
        every=every,
    )


def draw_label(canvas: Canvas, label: Label) -> None:
    page_width, page_height = LABEL_SIZE
    margin = 4 * mm
    left, right = margin, page_width - margin
    inner = right - left
    y = page_height - margin

    # Carrier and service; the fragile mark opposite.
    _text(canvas, left, y - 6 * mm, label.carrier_name, 16, bold=True)
    carrier_width = pdfmetrics.stringWidth(label.carrier_name, _font(label.carrier_name, True), 16)
    _text(canvas, left + carrier_width + 3 * mm, y - 6 * mm, label.service_label, 11)
    if label.is_fragile:
        mark = _("FRAGILE / 易碎")
        box_width = max(30 * mm, pdfmetrics.stringWidth(mark, _font(mark, True), 12) + 4 * mm)
        canvas.setFillColor(black)
        canvas.rect(right - box_width, y - 9 * mm, box_width, 9 * mm, stroke=0, fill=1)
        canvas.setFillColor(white)
        _text(canvas, right - box_width / 2, y - 6.3 * mm, mark, 12, bold=True, align="center")
        canvas.setFillColor(black)
    y -= 11 * mm
    _rule(canvas, left, right, y, width=1.5)

    # Tracking number: the barcode the carrier scans, and its digits.
    y -= 3 * mm
    _draw_barcode(canvas, label.tracking_number, x=left, y=y - 28 * mm, width=inner, height=28 * mm)
    y -= 28 * mm
    _text(
        canvas, page_width / 2, y - 5.8 * mm, label.tracking_number, 16, bold=True, align="center"
    )
    y -= 8.5 * mm
    _rule(canvas, left, right, y)

    # Recipient.
    _text(canvas, left, y - 3.8 * mm, _("To"), 8)
    y -= 10.5 * mm
    _text(canvas, left, y, label.order.recipient_name, 16, bold=True)
    _text(canvas, right, y, label.masked_phone, 14, bold=True, align="right")
    y -= 6.5 * mm
    address = f"{label.region} {label.order.address_line}".strip()
    y = _paragraph(canvas, left, y, address, 13, inner, leading=16, max_lines=3)
    if label.order.postcode:
        _text(canvas, left, y, _("Postcode %(code)s") % {"code": label.order.postcode}, 10.5)
        y -= 13
    y += 1 * mm
    _rule(canvas, left, right, y)

    # Sender: the warehouse.
    _text(canvas, left, y - 3.8 * mm, _("From"), 8)
    y -= 8 * mm
    _text(canvas, left, y, label.sender_name, 10)
    y -= 4.2 * mm
    if label.sender_address:
        _paragraph(canvas, left, y, label.sender_address, 9, inner, leading=11, max_lines=2)

    # Bottom: the order's barcode, weight, parcel n of m, packing date.
    bottom = margin
    _rule(canvas, left, right, bottom + 27 * mm)
    _text(canvas, left, bottom + 23.5 * mm, _("Order"), 8)
    _draw_barcode(
        canvas,
        label.order_number,
        x=left,
        y=bottom + 7 * mm,
        width=56 * mm,
        height=14 * mm,
        max_bar=0.4 * mm,
        align="left",
    )
    _text(canvas, left, bottom + 2 * mm, label.order_number, 11, bold=True, font=LATIN_BOLD)
    _text(
        canvas, right, bottom + 17 * mm, kilograms(label.weight_grams), 15, bold=True, align="right"
    )
    of = _("Parcel %(number)s of %(total)s") % {"number": label.number, "total": label.count}
    _text(canvas, right, bottom + 10 * mm, of, 10.5, align="right")
    packed = _("Packed %(date)s") % {"date": local_date(label.packed_at)}
    _text(canvas, right, bottom + 3 * mm, packed, 8.5, align="right")


# --- pick lists -------------------------------------------------------------------------------
A4_MARGIN = 15 * mm


class _Pages:
    """Top-down layout on A4 pages: `need(h)` starts a new page (with its running header) when
    fewer than `h` points are left."""

    def __init__(self, canvas: Canvas, running_title: str, header: Callable[[float], float]):
        self.canvas = canvas
        self.running_title = running_title
        self.header = header
        self.page = 1
        self.width, self.height = A4
        self.left, self.right = A4_MARGIN, self.width - A4_MARGIN
        self.bottom = A4_MARGIN + 6 * mm
        self.y = self.height - A4_MARGIN
        self._footer()

    def _footer(self) -> None:
        text = _("%(title)s · page %(page)s") % {"title": self.running_title, "page": self.page}
        _text(self.canvas, self.right, A4_MARGIN, text, 8, align="right")

    def need(self, height: float) -> bool:
        if self.y - height >= self.bottom:
            return False
        self.canvas.showPage()
        self.page += 1
        self.y = self.height - A4_MARGIN
        self._footer()
        _text(self.canvas, self.left, self.y - 4 * mm, self.running_title, 10, bold=True)
        self.y -= 8 * mm
        self.y = self.header(self.y)
        return True


def write_pick_lists(
    pick_lists: Iterable[PickListDocument],
    out: BinaryIO,
    *,
    progress: Progress = None,
    every: int = PROGRESS_EVERY,
) -> int:
    """Draw each pick list (A4, as many pages as its lines need) into `out`; returns the number
    of pick lists."""
    return _write(
        pick_lists,
        out,
        pagesize=A4,
        title=_("Pick lists"),
        draw=draw_pick_list,
        progress=progress,
        every=every,
    )


# Pick-list table columns: (left edge from the margin, width) in mm.
_BIN = (0, 26)
_SKU = (26, 32)
_ITEM = (58, 84)
_QTY = (142, 14)
_FRAGILE = (156, 14)
_TICK = (170, 10)


def _pick_list_header(canvas: Canvas, left: float, right: float) -> Callable[[float], float]:
    def header(y: float) -> float:
        canvas.setFillColor(grey)
        for (x, width), caption, align in (
            (_BIN, _("Bin"), "left"),
            (_SKU, _("SKU"), "left"),
            (_ITEM, _("Item"), "left"),
            (_QTY, _("Qty"), "right"),
            (_FRAGILE, _("Fragile"), "left"),
        ):
            at = left + (x + width - 2) * mm if align == "right" else left + x * mm
            _text(canvas, at, y - 4 * mm, caption, 8.5, align=align)
        canvas.setFillColor(black)
        _rule(canvas, left, right, y - 6 * mm)
        return y - 6 * mm

    return header


def draw_pick_list(canvas: Canvas, document: PickListDocument) -> None:
    wave = document.wave
    pick_list = document.pick_list
    number = document.number
    header = _pick_list_header(canvas, A4_MARGIN, A4[0] - A4_MARGIN)
    pages = _Pages(canvas, number, header)
    left, right = pages.left, pages.right
    width = right - left
    y = pages.y

    _text(canvas, left, y - 7 * mm, _("Pick list"), 18, bold=True)
    _text(canvas, left, y - 14 * mm, number, 15, bold=True, font=LATIN_BOLD)
    _draw_barcode(
        canvas,
        number,
        x=right - 75 * mm,
        y=y - 16 * mm,
        width=75 * mm,
        height=15 * mm,
        align="right",
    )
    y -= 22 * mm
    facts = [
        (_("Warehouse"), wave.warehouse.name),
        (_("Picker"), str(wave.picker) if wave.picker else _("Not assigned")),
        (_("Created"), local_datetime(wave.created_at)),
        (_("Carrier"), wave.carrier.name if wave.carrier else _("Any carrier")),
        (_("Reached the warehouse before"), local_datetime(wave.cutoff) or "—"),
        (_("Orders"), document.size_label),
        (
            _("Volume"),
            _("%(orders)s orders, %(units)s units")
            % {"orders": len(pick_list.slots), "units": pick_list.units},
        ),
    ]
    for caption, value in facts:
        _text(canvas, left, y, caption, 9)
        _text(canvas, left + 55 * mm, y, value, 10, bold=True)
        y -= 5.2 * mm
    y -= 2 * mm
    pages.y = header(y)

    item_width = _ITEM[1] * mm - 2 * mm
    share_width = width - _ITEM[0] * mm
    if not pick_list.lines:
        pages.need(10 * mm)
        _text(canvas, left, pages.y - 6 * mm, _("Nothing left to pick."), 11)
        pages.y -= 10 * mm
    for line in pick_list.lines:
        item = f"{line.name} {line.variant}".strip()
        shares = "   ".join(
            f"[{share.slot}] {share.order_number} × {share.quantity}" for share in line.shares
        )
        height = (
            max(_height(item, 10, item_width, leading=12), 14)
            + _height(shares, 9, share_width, leading=11)
            + 6
        )
        pages.need(height)
        y = pages.y - 4.5 * mm
        _text(canvas, left + _BIN[0] * mm, y, line.bin_code, 11, bold=True)
        _text(canvas, left + _SKU[0] * mm, y, line.sku_code, 9)
        after_item = _paragraph(canvas, left + _ITEM[0] * mm, y, item, 10, item_width, leading=12)
        quantity_at = left + (_QTY[0] + _QTY[1] - 2) * mm
        _text(canvas, quantity_at, y, str(line.quantity), 13, bold=True, align="right")
        if line.is_fragile:
            _text(canvas, left + _FRAGILE[0] * mm, y, _("Fragile"), 9, bold=True)
        canvas.setLineWidth(0.8)
        canvas.rect(left + (_TICK[0] + 3) * mm, y - 1 * mm, 4.5 * mm, 4.5 * mm)
        y = min(after_item, y - 14)
        y = _paragraph(canvas, left + _ITEM[0] * mm, y, shares, 9, share_width, leading=11)
        pages.y = y + 11 - 5
        _thin_rule(canvas, left, right, pages.y)

    # The orders and their slots, for sorting after the walk.
    def slot_header(y: float) -> float:
        canvas.setFillColor(grey)
        _text(canvas, left, y - 4 * mm, _("Slot"), 8.5)
        _text(canvas, left + 18 * mm, y - 4 * mm, _("Order number"), 8.5)
        _text(canvas, left + 95 * mm, y - 4 * mm, _("Units"), 8.5, align="right")
        canvas.setFillColor(black)
        _rule(canvas, left, left + 100 * mm, y - 6 * mm)
        return y - 6 * mm

    pages.header = _no_header
    pages.need(28 * mm)
    _text(canvas, left, pages.y - 9 * mm, _("Orders for sorting"), 12, bold=True)
    pages.y = slot_header(pages.y - 11 * mm)
    pages.header = slot_header
    for slot in pick_list.slots:
        pages.need(6 * mm)
        y = pages.y - 4.5 * mm
        _text(canvas, left, y, str(slot.slot), 11, bold=True)
        _text(canvas, left + 18 * mm, y, slot.order_number, 11, font=LATIN_FONT)
        _text(canvas, left + 95 * mm, y, str(slot.units), 11, align="right")
        pages.y -= 6 * mm


# --- packing slips ----------------------------------------------------------------------------
def write_packing_slips(
    slips: Iterable[PackingSlip],
    out: BinaryIO,
    *,
    progress: Progress = None,
    every: int = PROGRESS_EVERY,
) -> int:
    """Draw each packing slip (A4) into `out`; returns the number of slips."""
    return _write(
        slips,
        out,
        pagesize=A4,
        title=_("Packing slips"),
        draw=draw_packing_slip,
        progress=progress,
        every=every,
    )


_SLIP_SKU, _SLIP_ITEM, _SLIP_VARIANT, _SLIP_QTY = (0, 34), (34, 86), (120, 45), (165, 15)


def draw_packing_slip(canvas: Canvas, slip: PackingSlip) -> None:
    order = slip.order
    number = slip.order_number

    def header(y: float) -> float:
        canvas.setFillColor(grey)
        _text(canvas, left + _SLIP_SKU[0] * mm, y - 4 * mm, _("SKU"), 8.5)
        _text(canvas, left + _SLIP_ITEM[0] * mm, y - 4 * mm, _("Item"), 8.5)
        _text(canvas, left + _SLIP_VARIANT[0] * mm, y - 4 * mm, _("Variant"), 8.5)
        _text(canvas, right, y - 4 * mm, _("Qty"), 8.5, align="right")
        canvas.setFillColor(black)
        _rule(canvas, left, right, y - 6 * mm)
        return y - 6 * mm

    pages = _Pages(canvas, number, header)
    left, right = pages.left, pages.right
    y = pages.y
    _text(canvas, left, y - 7 * mm, settings.SHOP_NAME, 18, bold=True)
    _text(canvas, left, y - 14 * mm, _("Packing slip"), 13)
    _draw_barcode(
        canvas,
        number,
        x=right - 75 * mm,
        y=y - 14 * mm,
        width=75 * mm,
        height=13 * mm,
        align="right",
    )
    _text(canvas, right, y - 19 * mm, number, 12, bold=True, align="right", font=LATIN_BOLD)
    y -= 28 * mm

    facts = [
        (_("Order number"), number),
        (_("Order date"), local_date(order.created_at)),
        (_("Packed"), local_date(slip.fulfillment.packed_at) or local_date(timezone.now())),
        (_("Shipped from"), slip.fulfillment.warehouse.name),
    ]
    top = y
    for caption, value in facts:
        _text(canvas, left, y, caption, 9)
        _text(canvas, left + 30 * mm, y, value, 10, bold=True)
        y -= 5.5 * mm
    # Ship to, beside the facts.
    column = left + 100 * mm
    column_width = right - column
    _text(canvas, column, top, _("Ship to"), 9)
    at = top - 5.5 * mm
    _text(canvas, column, at, f"{order.recipient_name}  {slip.masked_phone}", 11, bold=True)
    at -= 5.5 * mm
    at = _paragraph(
        canvas, column, at, f"{slip.region} {order.address_line}", 10, column_width, leading=12.5
    )
    if order.postcode:
        _text(canvas, column, at, _("Postcode %(code)s") % {"code": order.postcode}, 9.5)
        at -= 12.5
    y = min(y, at) - 3 * mm
    if slip.is_fragile:
        note = _("Contains fragile goods: handle with care.")
        canvas.setLineWidth(1.5)
        canvas.rect(left, y - 8 * mm, right - left, 8 * mm)
        _text(canvas, left + 3 * mm, y - 5.6 * mm, note, 11, bold=True)
        y -= 11 * mm
    pages.y = header(y)

    item_width = _SLIP_ITEM[1] * mm - 3 * mm
    variant_width = _SLIP_VARIANT[1] * mm - 3 * mm
    for line in slip.lines:
        name = f"{line.name} [{_('Fragile')}]" if line.is_fragile else line.name
        height = (
            max(
                _height(name, 10, item_width, leading=12),
                _height(line.variant or "-", 9.5, variant_width, leading=12),
            )
            + 13
        )
        pages.need(height)
        y = pages.y - 4.5 * mm
        _text(canvas, left + _SLIP_SKU[0] * mm, y, line.sku_code, 9.5)
        end = _paragraph(
            canvas, left + _SLIP_ITEM[0] * mm, y, name, 10, item_width, leading=12, bold=True
        )
        if line.variant:
            end = min(
                end,
                _paragraph(
                    canvas,
                    left + _SLIP_VARIANT[0] * mm,
                    y,
                    line.variant,
                    9.5,
                    variant_width,
                    leading=12,
                ),
            )
        _text(canvas, right, y, str(line.quantity), 12, bold=True, align="right")
        pages.y = end + 12 - 5
        _thin_rule(canvas, left, right, pages.y)

    pages.need(20 * mm)
    y = pages.y - 6 * mm
    _text(canvas, right, y, _("%(units)s units in all") % {"units": slip.units}, 10, align="right")
    y -= 10 * mm
    _text(canvas, left, y, _("Thank you for your order."), 11)
