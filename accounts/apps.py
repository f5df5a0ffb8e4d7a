from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs) -> None:
    """Keep the role groups' permissions in step as apps add permissions in later migrations."""
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_roles

    sync_roles(Group, Permission)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
