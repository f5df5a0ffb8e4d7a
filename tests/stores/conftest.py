"""Shared pieces of the sales channel tests (ORD-12)."""

import pytest
from django.contrib.auth.models import Permission

from accounts.roles import ROLE_PERMISSIONS
from tests.factories import role_group

# What the roles hold for the sales channel screens (accounts/roles.py).
STORE_PERMISSIONS = {
    "manager": [
        "stores.view_store",
        "stores.add_store",
        "stores.change_store",
        "stores.import_orders",
    ],
    "service": ["stores.view_store", "stores.import_orders"],
}


@pytest.fixture(autouse=True)
def _store_roles(db):
    """The roles hold the store permissions: a no-op once accounts/roles.py lists them, and
    fails loudly if a role lists them differently."""
    for role, names in STORE_PERMISSIONS.items():
        listed = [name for name in ROLE_PERMISSIONS[role] if name.startswith("stores.")]
        if listed:
            assert sorted(listed) == sorted(names), f"{role}: {listed}"
            continue
        group = role_group(role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
