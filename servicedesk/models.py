"""The service desk's own data (ORD-6, issue 8): the audit rules staff configure, the log of
their changes, and which agent has claimed which exception order.

The rules themselves (what each one checks) are code, in `servicedesk.audit`; a row here only
says whether a rule is on and with which thresholds. A rule without a row runs with its
defaults, so a new rule works before anyone opens the screen.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRule(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # The rule's thresholds by name, as `servicedesk.audit` declares them (strings for
    # amounts, so that Decimals survive JSON).
    params = models.JSONField(_("thresholds"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("audit rule")
        verbose_name_plural = _("audit rules")

    def __str__(self) -> str:
        return self.code


class AuditRuleChange(models.Model):
    """Who changed a rule, when, why, and from what to what (ORD-11, SEC-4)."""

    rule = models.ForeignKey(
        AuditRule, verbose_name=_("audit rule"), on_delete=models.CASCADE, related_name="changes"
    )
    changed_at = models.DateTimeField(_("changed at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500)
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("audit rule change")
        verbose_name_plural = _("audit rule changes")

    def __str__(self) -> str:
        return f"{self.rule_id} {self.changed_at:%Y-%m-%d %H:%M}"


class Claim(models.Model):
    """An agent working on an exception order: one claim per order, so two agents do not
    call the same customer. Another agent may take it over, knowingly."""

    order = models.OneToOneField(
        "orders.Order", verbose_name=_("order"), on_delete=models.CASCADE, related_name="claim"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        related_name="desk_claims",
    )
    claimed_at = models.DateTimeField(_("claimed at"))

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [models.Index(fields=["agent", "claimed_at"], name="claim_agent_claimed")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.agent_id}"


class AuditFinding(models.Model):
    """One rule an order failed at its audit. The exception queue filters on these; they are
    cleared when the order is released or cancelled, so an order flagged again later for
    something else does not show under an old rule."""

    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="audit_findings",
    )
    code = models.CharField(_("rule"), max_length=40)
    reason = models.CharField(_("reason"), max_length=500)
    found_at = models.DateTimeField(_("found at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        ordering = ["found_at", "id"]
        verbose_name = _("audit finding")
        verbose_name_plural = _("audit findings")
        indexes = [
            models.Index(
                fields=["code", "order"],
                condition=models.Q(cleared_at__isnull=True),
                name="auditfinding_open_code",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.code}"
