"""The audit rules of ORD-6 with their default thresholds, so that staff find them all on the
audit rules screen. The values are written out here, as they were when the rules came."""

from django.db import migrations

DEFAULT_RULES = [
    ("address", True, {"min_line_length": 5}),
    ("phone", True, {}),
    ("amounts", True, {}),
    ("duplicate", True, {"window_minutes": 30, "same_items_only": True}),
    (
        "note",
        True,
        {
            "keywords": [
                "改地址",
                "换地址",
                "地址错",
                "联系我",
                "打电话",
                "加急",
                "取消",
                "退款",
                "change address",
                "call me",
                "urgent",
                "cancel",
                "refund",
            ],
            "any_note": False,
        },
    ),
    ("max_value", True, {"amount": "20000.00"}),
    ("first_order_value", True, {"amount": "5000.00"}),
    ("orders_per_address", False, {"max_orders": 5}),
]


def create_rules(apps, schema_editor):
    AuditRule = apps.get_model("servicedesk", "AuditRule")
    for code, enabled, params in DEFAULT_RULES:
        AuditRule.objects.get_or_create(code=code, defaults={"enabled": enabled, "params": params})


class Migration(migrations.Migration):
    dependencies = [("servicedesk", "0001_initial")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
