"""Factories for tests (factory-boy), and `make_order` to build orders the way the shop does.

    from tests.factories import SKUFactory, UserFactory, make_order

    agent = UserFactory(role="service")              # in the "service" group, with its perms
    flask = SKUFactory(price=Decimal("129.00"))      # unique code and valid EAN-13 barcode
    order = make_order(skus=[flask], state="shipped")  # placed and walked through the services

Orders are never inserted directly: `make_order` (and `OrderFactory`) place them with
`orders.services.create_order` and move them with the transition services, so every order has
the lines, amounts, number and events the real code gives it.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, Permission
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from accounts.models import User
from accounts.roles import Role, sync_roles
from catalog.barcodes import make_ean13
from catalog.models import SKU, Category, Product
from inventory import services as inventory_services
from inventory.models import Bin, Warehouse
from orders import services
from orders.models import Channel, Order, OrderState, PaymentMethod

PASSWORD = "demo1234"
"""The password of every user made by `UserFactory` (for tests that log in with a form)."""


def role_group(role: str) -> Group:
    """The group of `role`. Recreated if missing: transactional tests flush the data migration's
    groups, while permissions come back by themselves after a flush."""
    group = Group.objects.filter(name=role).first()
    if group is None:
        sync_roles(Group, Permission)
        group = Group.objects.get(name=role)
    return group


class UserFactory(DjangoModelFactory):
    """A user, by default with no role. `UserFactory(role="warehouse")` puts them in the role's
    group (several: `role=["service", "manager"]`); `role="admin"` also makes them `is_staff`
    (Django admin access), as administrators are. Password: `PASSWORD`."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("name", locale="zh_CN")
    phone = factory.Sequence(lambda n: f"138{n % 10**8:08d}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(user: User, create: bool, extracted: str | Iterable[str] | None, **kwargs) -> None:
        if not extracted:
            return
        if not create:
            raise TypeError("A role needs a saved user: use UserFactory(), not .build().")
        roles = [extracted] if isinstance(extracted, str) else list(extracted)
        user.groups.add(*(role_group(role) for role in roles))
        if Role.ADMIN in roles and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        # `User.role` is cached per instance; the groups just changed.
        user.__dict__.pop("role", None)


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.name) or 'category'}-{n}")
    parent = None
    position = 0


class ProductFactory(DjangoModelFactory):
    """An active product in a new category (pass `category=` to share one)."""

    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.name) or 'product'}-{n}")
    description = ""
    is_active = True


class SKUFactory(DjangoModelFactory):
    """An active SKU of a new product, 99.00, 300 g, with a unique code and EAN-13 barcode.

    Barcodes start with 699, so they never clash with the demo catalogue's (692…)."""

    class Meta:
        model = SKU

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:06d}")
    barcode = factory.Sequence(lambda n: make_ean13(f"699{n:09d}"))
    color = ""
    size = ""
    price = Decimal("99.00")
    weight_grams = 300
    is_fragile = False
    is_active = True


class WarehouseFactory(DjangoModelFactory):
    """An active warehouse in Zhejiang with a unique code (WH01, WH02, …)."""

    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n + 1:02d}")
    name = factory.Sequence(lambda n: f"Warehouse {n + 1}")
    province = "浙江省"
    city = "杭州市"


class BinFactory(DjangoModelFactory):
    """A storage bin A-01-01, A-01-02, … walked in the order of creation."""

    class Meta:
        model = Bin

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"A-{n // 50 + 1:02d}-{n % 50 + 1:02d}")
    walk_order = factory.Sequence(lambda n: n)


def stock_sku(quantity: int, *, bin: Bin | None = None, sku: SKU | None = None) -> SKU:
    """A SKU (new unless given) with `quantity` units received into `bin` (new unless given),
    through the inventory service, so the ledger balances."""
    sku = sku or SKUFactory()
    bin = bin or BinFactory()
    inventory_services.receive(sku_id=sku.pk, bin_id=bin.pk, quantity=quantity)
    return sku


def make_address(**overrides: str) -> services.ShippingAddress:
    """A valid shipping address (浙江省杭州市西湖区…); override any field by keyword."""
    fields = {
        "recipient_name": "张伟",
        "recipient_phone": "13812345678",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address_line": "文三路 478 号华星时代广场 A 座 1203 室",
        "postcode": "310013",
    }
    fields.update(overrides)
    return services.ShippingAddress(**fields)


def staff_user(role: str) -> User:
    """One shared member of staff per role (warehouse.staff@example.com, …) for the steps
    `make_order` takes on the staff's behalf."""
    user = User.objects.filter(email=f"{role}.staff@example.com").first()
    return user or UserFactory(email=f"{role}.staff@example.com", role=role)


# The services that move an order one step along the main path, from the state it is in.
_FORWARD = [
    OrderState.PENDING_PAYMENT,
    OrderState.PAID,
    OrderState.PICKED,
    OrderState.SHIPPED,
    OrderState.COMPLETED,
]


def shared_test_bin() -> Bin:
    """One storage bin (warehouse TEST, bin T-01-01) that tests stock SKUs into."""
    warehouse, _created = Warehouse.objects.get_or_create(
        code="TEST", defaults={"name": "Test warehouse", "province": "浙江省"}
    )
    bin, _created = Bin.objects.get_or_create(warehouse=warehouse, code="T-01-01")
    return bin


def _stock_for(skus: Sequence[SKU], quantities: Sequence[int]) -> None:
    from inventory.selectors import availability

    wanted: dict[int, int] = {}
    for sku, quantity in zip(skus, quantities, strict=True):
        wanted[sku.pk] = wanted.get(sku.pk, 0) + quantity
    free = availability(sku_ids=wanted)
    bin = None
    for sku_id, quantity in wanted.items():
        if free[sku_id] < quantity:
            bin = bin or shared_test_bin()
            inventory_services.receive(
                sku_id=sku_id, bin_id=bin.pk, quantity=quantity - free[sku_id]
            )


def make_order(
    *,
    customer: User | None = None,
    contact_email: str = "",
    skus: Sequence[SKU] | None = None,
    quantities: Sequence[int] | None = None,
    state: str = OrderState.PENDING_PAYMENT,
    cancel_from: str = OrderState.PENDING_PAYMENT,
    payment_method: str = PaymentMethod.ONLINE,
    channel: str = Channel.STOREFRONT,
    external_id: str = "",
    shipping_amount: Decimal = Decimal("0.00"),
    customer_note: str = "",
    address: services.ShippingAddress | None = None,
    warehouse: User | None = None,
    service: User | None = None,
    stock: bool = True,
) -> Order:
    """Place an order with `create_order` and walk it through the services to `state`.

    - `stock`: receive whatever the SKUs lack into a shared test bin first, so that the order
      can reserve it (pass False to test what happens when stock is short).

    - `customer`: the buyer; if neither it nor `contact_email` is given, a new customer is
      made. `customer=None, contact_email="…"` gives a guest order.
    - `skus` (default: one new SKU) with `quantities` (default 1 each).
    - `state`: any `OrderState`. Online orders are paid with `record_payment`, cash-on-delivery
      orders accepted with `accept_cash_on_delivery`; picking and shipping are done by
      `warehouse`, completion by the customer (an agent for guests), all defaulting to shared
      staff users (`staff_user`).
    - `state="cancelled"` cancels from `cancel_from`: unpaid by default (by the customer, or by
      `service` for a guest), or `"paid"` / `"picked"` for a cancellation after payment, which
      is done by `service`.

    Returns the order freshly read from the database.
    """
    if customer is None and not contact_email:
        customer = UserFactory(role=Role.CUSTOMER)
    if skus is None:
        skus = [SKUFactory()]
    quantities = quantities or [1] * len(skus)
    if stock:
        _stock_for(skus, quantities)
    order = services.create_order(
        customer=customer,
        contact_email=contact_email,
        lines=[
            services.LineRequest(sku_id=sku.pk, quantity=quantity)
            for sku, quantity in zip(skus, quantities, strict=True)
        ],
        address=address or make_address(),
        payment_method=payment_method,
        channel=channel,
        external_id=external_id,
        shipping_amount=shipping_amount,
        customer_note=customer_note,
    )

    cancelling = state == OrderState.CANCELLED
    target = cancel_from if cancelling else state
    if target not in _FORWARD:
        raise ValueError(f"make_order cannot reach {state!r} from {cancel_from!r}")

    def agent() -> User:
        return service or staff_user(Role.SERVICE)

    def picker() -> User:
        return warehouse or staff_user(Role.WAREHOUSE)

    for step in _FORWARD[1 : _FORWARD.index(target) + 1]:
        if step == OrderState.PAID:
            if payment_method == PaymentMethod.CASH_ON_DELIVERY:
                services.accept_cash_on_delivery(order_id=order.pk)
            else:
                services.record_payment(
                    order_id=order.pk, amount=order.total_amount, reference=f"TEST-{order.pk}"
                )
        elif step == OrderState.PICKED:
            services.mark_picked(order_id=order.pk, actor=picker())
        elif step == OrderState.SHIPPED:
            services.mark_shipped(order_id=order.pk, actor=picker())
        elif step == OrderState.COMPLETED:
            if customer is not None:
                services.complete_order(order_id=order.pk, actor=customer)
            else:
                services.complete_order(
                    order_id=order.pk, actor=agent(), reason="Guest confirmed receipt by phone"
                )

    if cancelling:
        if target == OrderState.PENDING_PAYMENT and customer is not None:
            services.cancel_order(order_id=order.pk, actor=customer, reason="Changed my mind")
        elif target in (OrderState.PENDING_PAYMENT, OrderState.PAID, OrderState.PICKED):
            services.cancel_order(order_id=order.pk, actor=agent(), reason="Customer asked")
        else:
            raise ValueError(f"an order cannot be cancelled once {target}")

    return Order.objects.get(pk=order.pk)


class OrderFactory(factory.Factory):
    """`OrderFactory(**kwargs)` is `make_order(**kwargs)`, with factory-boy's extras
    (`OrderFactory.create_batch(3, state="paid")`). There is no `build()`: an order exists
    only once the services have placed it."""

    class Meta:
        model = Order

    @classmethod
    def _create(cls, model_class: type[Order], *args, **kwargs) -> Order:
        return make_order(**kwargs)

    @classmethod
    def _build(cls, model_class: type[Order], *args, **kwargs) -> Order:
        raise TypeError("Orders are placed through the services: use OrderFactory() / create().")
