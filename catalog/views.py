from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from . import selectors
from .models import Category, Product

PAGE_SIZE = 24


def _product_page(request: HttpRequest, products):
    return Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/home.html",
        {
            "categories": selectors.top_categories(),
            "page": _product_page(request, selectors.storefront_products()),
        },
    )


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    current = get_object_or_404(Category, slug=slug)
    return render(
        request,
        "catalog/category.html",
        {
            "category": current,
            "categories": selectors.top_categories(),
            "page": _product_page(request, selectors.storefront_products(category=current)),
        },
    )


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    products = selectors.storefront_products(search=query) if query else Product.objects.none()
    return render(
        request,
        "catalog/search.html",
        {"query": query, "page": _product_page(request, products)},
    )


@require_GET
def product(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        item = selectors.product_for_storefront(slug=slug)
    except Product.DoesNotExist:
        raise Http404 from None
    skus = list(item.skus.all())
    selected = next(
        (s for s in skus if str(s.pk) == request.GET.get("sku")), skus[0] if skus else None
    )
    return render(
        request, "catalog/product.html", {"product": item, "skus": skus, "selected": selected}
    )
