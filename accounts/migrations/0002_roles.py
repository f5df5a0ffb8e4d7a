"""Create the five role groups (SEC-1) with their permissions."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import sync_roles


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now so that the
    # groups can hold them.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, apps=apps, verbosity=0)
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["customer", "warehouse", "service", "manager", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("orders", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
