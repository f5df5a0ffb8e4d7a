from django.db.models import Min, Prefetch, Q, QuerySet

from .models import SKU, Category, Product


def storefront_products(*, category: Category | None = None, search: str = "") -> QuerySet[Product]:
    """Products on sale with at least one SKU on sale, each with its lowest price."""
    products = Product.objects.filter(is_active=True, skus__is_active=True)
    if category is not None:
        products = products.filter(Q(category=category) | Q(category__parent=category))
    if search:
        for word in search.split()[:5]:
            products = products.filter(
                Q(name__icontains=word)
                | Q(description__icontains=word)
                | Q(skus__code__iexact=word)
            )
    return (
        products.annotate(min_price=Min("skus__price", filter=Q(skus__is_active=True)))
        .select_related("category")
        .order_by("name", "id")
        .distinct()
    )


def top_categories() -> QuerySet[Category]:
    return Category.objects.filter(parent__isnull=True).order_by("position", "name")


def product_for_storefront(*, slug: str) -> Product:
    return (
        Product.objects.filter(is_active=True)
        .select_related("category")
        .prefetch_related(
            Prefetch("skus", queryset=SKU.objects.filter(is_active=True).order_by("code"))
        )
        .get(slug=slug)
    )
