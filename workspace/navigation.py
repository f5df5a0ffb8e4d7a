"""The staff workspace's navigation: each role sees the screens of its work (SEC-1)."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_ALL_STAFF = frozenset({Role.WAREHOUSE, Role.SERVICE, Role.MANAGER, Role.ADMIN})

NAV_ITEMS = [
    NavItem(_("Warehouse"), "workspace:warehouse", frozenset({Role.WAREHOUSE, Role.ADMIN})),
    NavItem(_("Service desk"), "workspace:service", frozenset({Role.SERVICE, Role.ADMIN})),
    NavItem(_("Dashboard"), "workspace:manager", frozenset({Role.MANAGER, Role.ADMIN})),
    NavItem(_("Exception orders"), "servicedesk:exceptions", frozenset({Role.SERVICE, Role.ADMIN})),
    NavItem(
        _("After-sales"), "aftersales:list", frozenset({Role.SERVICE, Role.MANAGER, Role.ADMIN})
    ),
    NavItem(_("Tickets"), "tickets:queue", frozenset({Role.SERVICE, Role.MANAGER, Role.ADMIN})),
    NavItem(_("Orders"), "staff_orders:list", _ALL_STAFF),
    NavItem(_("Returns"), "returns:start", frozenset({Role.WAREHOUSE, Role.ADMIN})),
    NavItem(_("Stock"), "inventory:overview", _ALL_STAFF),
    NavItem(
        _("Promotions"), "promotions:list", frozenset({Role.MANAGER, Role.SERVICE, Role.ADMIN})
    ),
    NavItem(_("Shipping"), "shipping:list", frozenset({Role.MANAGER, Role.ADMIN})),
    NavItem(
        _("Sales channels"), "stores:list", frozenset({Role.SERVICE, Role.MANAGER, Role.ADMIN})
    ),
    NavItem(_("Audit rules"), "servicedesk:audit_rules", frozenset({Role.MANAGER, Role.ADMIN})),
    NavItem(_("Stored reports"), "reports:snapshots", frozenset({Role.MANAGER, Role.ADMIN})),
    NavItem(_("Audit trail"), "audit:trail", frozenset({Role.MANAGER, Role.ADMIN})),
    NavItem(_("API keys"), "api_keys:list", frozenset({Role.ADMIN})),
    NavItem(_("Webhooks"), "webhooks:list", frozenset({Role.ADMIN})),
    NavItem(_("System"), "workspace:system", frozenset({Role.ADMIN})),
]


def items_for(role) -> list[NavItem]:
    return [item for item in NAV_ITEMS if role in item.roles]
