"""Subject, plain text and HTML of a notification, in its recipient's language.

Templates: templates/notifications/<kind>/subject.txt, body.txt and body.html (extending
notifications/email.txt and notifications/email.html). They get the notification, its `order`
(re-read, with its lines), `details` (the JSON context recorded with the event), `order_url`
(absolute, to the page the recipient may open), `shop_name` and `site_url`.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from . import conf
from .channels import Rendered
from .models import Notification, NotificationKind


def order_url(notification: Notification, order, *, absolute: bool = True) -> str:
    """The page of `order` the recipient can open: the staff order page for staff alerts, the
    customer's own order page, or the guest lookup (number + phone) for a guest."""
    if order is None:
        return ""
    if notification.is_staff_alert:
        path = reverse("staff_orders:detail", args=[order.number])
    elif order.customer_id is not None and order.customer_id == notification.recipient_id:
        path = reverse("orders:my_order_detail", args=[order.number])
    else:
        path = reverse("tracking:lookup")
    return conf.site_url() + path if absolute else path


def _context(notification: Notification) -> dict:
    from orders.models import Order

    order = None
    if notification.order_id is not None:
        order = (
            Order.objects.select_related("customer")
            .prefetch_related("lines")
            .get(pk=notification.order_id)
        )
    context = {
        "notification": notification,
        "order": order,
        "details": notification.context,
        "order_url": order_url(notification, order),
        "shop_name": settings.SHOP_NAME,
        "site_url": conf.site_url(),
        "recipient": notification.recipient,
    }
    if notification.kind == NotificationKind.LOW_STOCK:
        from inventory.models import StockAlert

        alert = StockAlert.objects.select_related("sku__product", "warehouse").get(
            pk=notification.context["alert_id"]
        )
        context.update(
            alert=alert,
            sku=alert.sku,
            alerts_url=conf.site_url() + reverse("inventory:alerts"),
        )
    return context


def render(notification: Notification) -> Rendered:
    """The message as it is sent: in the recipient's language."""
    with translation.override(notification.language or settings.LANGUAGE_CODE):
        return _render(notification, html=True)


def render_message(notification: Notification) -> Rendered:
    """The message for the message centre: in the language of the page, without HTML."""
    return _render(notification, html=False)


def _render(notification: Notification, *, html: bool) -> Rendered:
    context = _context(notification)
    folder = f"notifications/{notification.kind}"
    subject = render_to_string(f"{folder}/subject.txt", context)
    text = render_to_string(f"{folder}/body.txt", context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=text.strip() + "\n",
        html=render_to_string(f"{folder}/body.html", context) if html else "",
    )
