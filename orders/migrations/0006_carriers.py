"""The common Chinese express carriers (ORD-9). Their tracking pages are kuaidi100's public
query page, which answers for every one of them with the same address shape; an administrator
can point a carrier at its own site in the Django admin."""

from django.db import migrations

CARRIERS = [
    ("SF", "顺丰速运", "shunfeng"),
    ("ZTO", "中通快递", "zhongtong"),
    ("YTO", "圆通速递", "yuantong"),
    ("YD", "韵达快递", "yunda"),
    ("STO", "申通快递", "shentong"),
    ("EMS", "中国邮政 EMS", "ems"),
    ("JD", "京东物流", "jd"),
]


def add_carriers(apps, schema_editor):
    Carrier = apps.get_model("orders", "Carrier")
    for code, name, kuaidi100 in CARRIERS:
        Carrier.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "tracking_url_template": (
                    f"https://www.kuaidi100.com/chaxun?com={kuaidi100}&nu={{number}}"
                ),
            },
        )


def remove_carriers(apps, schema_editor):
    Carrier = apps.get_model("orders", "Carrier")
    Carrier.objects.filter(code__in=[code for code, _name, _k in CARRIERS], shipments=None).delete()


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_shipments")]

    operations = [migrations.RunPython(add_carriers, remove_carriers)]
