"""A small warehouse floor for the fulfillment tests: bins walked in order, SKUs with
barcodes in them, a sandbox carrier, paid orders that reach the floor, and the steps of the
floor (pick list → scans → parcel → hand-over) done through the services."""

from dataclasses import dataclass

from catalog.models import SKU
from fulfillment import services
from fulfillment.models import Fulfillment, PackageType, Parcel, Wave
from inventory.models import Bin, Warehouse
from orders.models import Carrier, CarrierIntegration, Order, OrderState, ShippingService
from tests.factories import BinFactory, SKUFactory, WarehouseFactory, make_order, stock_sku


@dataclass
class Floor:
    warehouse: Warehouse
    bins: list[Bin]
    carrier: Carrier


def make_floor(*, bins: int = 3, warehouse: Warehouse | None = None) -> Floor:
    warehouse = warehouse or WarehouseFactory()
    carrier = Carrier.objects.filter(code="SBX").first() or Carrier.objects.create(
        code="SBX", name="Sandbox Express", integration=CarrierIntegration.SANDBOX
    )
    return Floor(
        warehouse=warehouse,
        bins=[
            BinFactory(warehouse=warehouse, code=f"B-{n:02d}", walk_order=10 * n)
            for n in range(bins, 0, -1)  # created in reverse: walking order is not pk order
        ],
        carrier=carrier,
    )


def stocked(floor: Floor, quantity: int, *, bin_index: int = 0, **sku_fields) -> SKU:
    """A new SKU with `quantity` units in the floor's bin (walking order index)."""
    bins = sorted(floor.bins, key=lambda b: b.walk_order)
    return stock_sku(quantity, bin=bins[bin_index], sku=SKUFactory(**sku_fields))


def paid_order(skus, quantities=None, **kwargs) -> Order:
    return make_order(
        skus=skus, quantities=quantities, state=OrderState.PAID, stock=False, **kwargs
    )


def fulfillment_of(order: Order, warehouse: Warehouse | None = None) -> Fulfillment:
    rows = Fulfillment.objects.filter(order=order)
    if warehouse is not None:
        rows = rows.filter(warehouse=warehouse)
    return rows.get()


def pick_list_for(floor: Floor, orders, planner) -> Wave:
    ids = [fulfillment_of(order, floor.warehouse).pk for order in orders]
    (wave,) = services.create_waves(
        warehouse_id=floor.warehouse.pk, actor=planner, fulfillment_ids=ids, wave_size=len(ids)
    )
    return wave


def pick_everything(wave: Wave, picker) -> None:
    from fulfillment.selectors import pick_list

    services.start_picking(code=wave.number, actor=picker)
    for line in pick_list(wave).lines:
        for _unit in range(line.left):
            services.record_pick_scan(wave_id=wave.pk, code=line.barcode, actor=picker)


def pack_everything(fulfillment: Fulfillment, packer, carrier: Carrier, **parcel) -> Parcel:
    from fulfillment.selectors import pack_lines

    for line in pack_lines(fulfillment):
        for _unit in range(line.quantity - line.confirmed):
            services.record_pack_scan(
                fulfillment_id=fulfillment.pk, code=line.barcode, actor=packer
            )
    fulfillment.refresh_from_db()
    return services.add_parcel(
        fulfillment_id=fulfillment.pk,
        package_type=parcel.pop("package_type", PackageType.BOX_S),
        weight_grams=parcel.pop("weight_grams", fulfillment.expected_weight_grams),
        carrier_id=carrier.pk,
        service=parcel.pop("service", ShippingService.EXPRESS),
        actor=packer,
        **parcel,
    )
