"""Storefront catalogue pages (INV-1): home, category, search, product with SKU choice."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from catalog.barcodes import make_ean13, validate_barcode
from tests.factories import CategoryFactory, ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db


def test_home_lists_products_on_sale_with_their_lowest_price(client):
    product = ProductFactory(name="Vacuum flask")
    SKUFactory(product=product, price=Decimal("129.00"))
    SKUFactory(product=product, price=Decimal("99.00"))
    hidden = ProductFactory(name="Retired kettle", is_active=False)
    SKUFactory(product=hidden)

    response = client.get(reverse("catalog:home"))

    html = response.content.decode()
    assert "Vacuum flask" in html
    assert "Retired kettle" not in html
    listed = {p.name: p.min_price for p in response.context["page"]}
    assert listed == {"Vacuum flask": Decimal("99.00")}


def test_category_page_includes_subcategories(client):
    kitchen = CategoryFactory(name="Kitchen")
    cups = CategoryFactory(name="Cups", parent=kitchen)
    SKUFactory(product=ProductFactory(name="Tea cup", category=cups))
    SKUFactory(product=ProductFactory(name="Notebook"))

    html = client.get(reverse("catalog:category", args=[kitchen.slug])).content.decode()

    assert "Tea cup" in html
    assert "Notebook" not in html


def test_search_finds_by_name_and_paginates(client):
    for i in range(30):
        SKUFactory(product=ProductFactory(name=f"Green tea {i:02d}"))
    SKUFactory(product=ProductFactory(name="Desk lamp"))

    first = client.get(reverse("catalog:search"), {"q": "green tea"})
    second = client.get(reverse("catalog:search"), {"q": "green tea", "page": 2})

    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"]) == 24
    assert len(second.context["page"]) == 6
    assert "Desk lamp" not in first.content.decode()


def test_search_with_no_results_says_so(client):
    response = client.get(reverse("catalog:search"), {"q": "unicorn"})

    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


def test_product_page_offers_its_skus_and_selects_one(client):
    product = ProductFactory(name="T-shirt")
    red = SKUFactory(product=product, color="Red", size="M")
    blue = SKUFactory(product=product, color="Blue", size="L", is_fragile=False)
    SKUFactory(product=product, color="Gone", is_active=False)

    response = client.get(reverse("catalog:product", args=[product.slug]), {"sku": blue.pk})

    assert response.status_code == 200
    assert response.context["selected"] == blue
    assert set(response.context["skus"]) == {red, blue}


def test_inactive_product_page_answers_404(client):
    product = ProductFactory(is_active=False)
    SKUFactory(product=product)

    assert client.get(reverse("catalog:product", args=[product.slug])).status_code == 404


@pytest.mark.parametrize("code", [make_ean13("690123456789"), "SKU-128-ABC"])
def test_valid_barcodes_pass(code):
    validate_barcode(code)


@pytest.mark.parametrize("code", ["6901234567890", "", " padded ", "中文"])
def test_invalid_barcodes_are_refused(code):
    if code == "6901234567890" and make_ean13("690123456789") == code:
        pytest.skip("accidentally valid")
    with pytest.raises(ValidationError):
        validate_barcode(code)
