"""The five roles of SEC-1, as Django groups, and the permissions each one holds.

The groups and their permissions are created by a data migration (accounts 0002) and kept in
step by `sync_roles()`, which `seed_demo` runs too, so adding a permission is one line here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    WAREHOUSE = "warehouse", _("Warehouse staff")
    SERVICE = "service", _("Customer service")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Administrator")


# A user with several groups acts in the most senior one.
ROLE_PRECEDENCE = [Role.ADMIN, Role.MANAGER, Role.SERVICE, Role.WAREHOUSE, Role.CUSTOMER]
STAFF_ROLES = frozenset({Role.WAREHOUSE, Role.SERVICE, Role.MANAGER, Role.ADMIN})

# "app_label.codename" for every permission a role holds. Admins hold every permission.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CUSTOMER: [],
    Role.WAREHOUSE: [
        "catalog.view_product",
        "catalog.view_sku",
        "orders.view_order",
        "orders.pick_order",
        "orders.ship_order",
        "orders.add_trackingevent",
        "inventory.view_warehouse",
        "inventory.view_bin",
        "inventory.view_stock",
        "inventory.view_stockmovement",
        "inventory.add_stockmovement",
        "fulfillment.view_fulfillment",
        "fulfillment.view_wave",
        "fulfillment.work_floor",
        "fulfillment.plan_waves",
        "fulfillment.view_parcel",
        "aftersales.view_aftersalesrequest",
        "aftersales.inspect_return",
    ],
    Role.SERVICE: [
        "catalog.view_product",
        "catalog.view_sku",
        "orders.view_order",
        "orders.cancel_order",
        "orders.complete_order",
        "orders.change_order_address",
        "orders.record_cash_payment",
        "orders.release_held_order",
        "orders.resolve_waiting_lines",
        "stores.view_store",
        "stores.import_orders",
        "fulfillment.view_fulfillment",
        "aftersales.view_aftersalesrequest",
        "aftersales.add_aftersalesrequest",
        "aftersales.decide_request",
        "orders.add_trackingevent",
        "inventory.view_stock",
        "inventory.view_stockmovement",
        "payments.view_payment",
        "payments.refund_payment",
        "promotions.view_coupon",
        "promotions.view_thresholddiscount",
        "tickets.view_ticket",
        "tickets.answer_ticket",
    ],
    Role.MANAGER: [
        "catalog.view_category",
        "catalog.view_product",
        "catalog.view_sku",
        "orders.view_order",
        "orders.view_sales_figures",
        "aftersales.view_aftersalesrequest",
        "fulfillment.view_fulfillment",
        "fulfillment.view_wave",
        "fulfillment.plan_waves",
        "fulfillment.view_parcel",
        "inventory.view_warehouse",
        "inventory.view_stock",
        "inventory.view_stockmovement",
        "inventory.view_stockalert",
        "inventory.view_stockthreshold",
        "inventory.add_stockthreshold",
        "inventory.change_stockthreshold",
        "inventory.delete_stockthreshold",
        "payments.view_payment",
        "promotions.view_coupon",
        "promotions.add_coupon",
        "promotions.change_coupon",
        "promotions.view_couponredemption",
        "promotions.view_promotionchange",
        "promotions.view_thresholddiscount",
        "promotions.add_thresholddiscount",
        "promotions.change_thresholddiscount",
        "checkout.view_shippingrule",
        "checkout.add_shippingrule",
        "checkout.change_shippingrule",
        "checkout.delete_shippingrule",
        "core.view_staffaction",
        "tickets.view_ticket",
        "stores.view_store",
        "stores.add_store",
        "stores.change_store",
        "stores.import_orders",
    ],
    Role.ADMIN: ["*"],
}


def sync_roles(group_model, permission_model) -> None:
    """Create the role groups and give each exactly its permissions (idempotent).

    Takes the models as arguments so that a migration can pass its historical models.
    """
    all_permissions = list(permission_model.objects.all())
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in all_permissions}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        if names == ["*"]:
            group.permissions.set(all_permissions)
        else:
            group.permissions.set([by_name[name] for name in names if name in by_name])
