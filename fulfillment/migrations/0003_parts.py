"""An order may now ship in several parts from one warehouse (INV-5): a fulfillment's units
are the allocations tagged with its part, not all of the order's units in its warehouse."""

from django.db import migrations


def tag_allocations(apps, schema_editor):
    Fulfillment = apps.get_model("fulfillment", "Fulfillment")
    Allocation = apps.get_model("inventory", "Allocation")
    rows = Fulfillment.objects.order_by("pk").values_list("pk", "order_id", "warehouse_id")
    for pk, order_id, warehouse_id in rows.iterator(chunk_size=2000):
        Allocation.objects.filter(
            group=f"order:{order_id}", stock__bin__warehouse_id=warehouse_id, part=""
        ).update(part=f"fulfillment:{pk}")


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0002_relabel_after_address_change"),
        ("inventory", "0004_allocation_part"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="fulfillment",
            name="fulfillment_one_per_order_warehouse",
        ),
        migrations.RunPython(tag_allocations, migrations.RunPython.noop),
    ]
