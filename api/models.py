"""API keys and idempotency records of the JSON API (API-1).

An `ApiKey` belongs to one sales channel (`stores.Store`): the orders it creates are that
store's, and it reads only that store's orders. The full key (``sk_<prefix>_<secret>``) is shown
once, when it is issued; only the prefix (to find the row) and a SHA-256 of the secret are
stored, so a copy of the database does not give anyone a working key.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiScope(models.TextChoices):
    ORDERS_WRITE = "orders:write", _("Create orders")
    ORDERS_READ = "orders:read", _("Read orders, their timeline and shipments")
    TRACKING_WRITE = "tracking:write", _("Push tracking events")
    STOCK_READ = "stock:read", _("Read stock availability")


class ApiKey(models.Model):
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("sales channel"),
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("Who uses the key, e.g. “ERP production”.")
    )
    # The public part of the key, to find the row without scanning hashes.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    # sha256(secret) in hex; the secret itself is never stored.
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    # Updated at most once a minute (api.auth), so that reads do not each write.
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("why it was revoked"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        permissions = [
            ("issue_apikey", _("Can issue API keys")),
            ("revoke_apikey", _("Can revoke API keys")),
        ]

    def __str__(self) -> str:
        return f"{self.name} (sk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def masked(self) -> str:
        return f"sk_{self.prefix}_…"

    def scope_labels(self) -> list[str]:
        labels = dict(ApiScope.choices)
        return [str(labels.get(scope, scope)) for scope in self.scopes]


class IdempotencyRecord(models.Model):
    """The first response to a create sent with an ``Idempotency-Key`` header: a retry with the
    same key (same API key) gets it back instead of making a second order (API-1)."""

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    # sha256 of the request body as canonical JSON: the same key with another body is refused.
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.JSONField(_("response body"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "key"], name="idempotencyrecord_unique_key_per_api_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key}"
