from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .roles import ROLE_PRECEDENCE, STAFF_ROLES, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    """A person who logs in: a customer or a member of staff. Logs in by e-mail."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        blank=True,
        help_text=_("Messages are sent in this language; empty means the shop's default."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @cached_property
    def role(self) -> Role | None:
        """The role the user acts in: the most senior of their groups."""
        if self.is_superuser:
            return Role.ADMIN
        names = {group.name for group in self.groups.all()}
        for role in ROLE_PRECEDENCE:
            if role in names:
                return role
        return None

    @property
    def is_workspace_member(self) -> bool:
        return self.role in STAFF_ROLES
