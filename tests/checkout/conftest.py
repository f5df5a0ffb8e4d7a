"""Helpers for driving the cart and checkout through HTTP, as a browser would."""

import re
from decimal import Decimal

import pytest

from checkout.models import ShippingRule

# 浙江省 杭州市 西湖区, as the address form's cascading selects post them (division codes).
NEW_ADDRESS = {
    "address-recipient_name": "张伟",
    "address-recipient_phone": "138 1234 5678",
    "address-province": "33",
    "address-city": "3301",
    "address-district": "330106",
    "address-address_line": "文三路 478 号华星时代广场 A 座 1203 室",
    "address-postcode": "310013",
}


@pytest.fixture
def shipping_rules(db):
    """¥10 for the first kilo and ¥5 per further kilo anywhere, free from ¥99; ¥20 + ¥10 to
    新疆 and 西藏."""
    default = ShippingRule.objects.create(
        name="Standard",
        first_fee=Decimal("10.00"),
        step_fee=Decimal("5.00"),
        free_over=Decimal("99.00"),
    )
    remote = ShippingRule.objects.create(
        name="Remote",
        provinces=["新疆维吾尔自治区", "西藏自治区"],
        first_fee=Decimal("20.00"),
        step_fee=Decimal("10.00"),
        priority=10,
    )
    return default, remote


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def checkout_page(client):
    response = client.get("/checkout/")
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return {"checkout_token": hidden(html, "checkout_token"), "seen": hidden(html, "seen")}


def apply(client, page: dict, **fields):
    """Press "Apply" (coupon, address): the page is priced again and shown."""
    return client.post(
        "/checkout/",
        {
            "action": "apply",
            "payment_method": "online",
            "saved_address": "new",
            **NEW_ADDRESS,
            **page,
            **fields,
        },
    )


def submit(client, page: dict, **fields):
    data = {
        "action": "place",
        "payment_method": "online",
        "saved_address": "new",
        "save_address": "on",
        **NEW_ADDRESS,
        **page,
        **fields,
    }
    return client.post("/checkout/", data)
