from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class MarketplaceUserManager(UserManager):
    def get_by_login(self, login: str):
        """The user whose username or e-mail address (case-insensitive) is ``login``."""
        login = (login or "").strip()
        if "@" in login:
            return self.get(email__iexact=login)
        return self.get(username=login)


class User(AbstractUser):
    """A person. Acts for organizations through ``Membership``."""

    email = models.EmailField(_("e-mail address"))
    full_name = models.CharField(_("full name"), max_length=80, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email_verified_at = models.DateTimeField(_("e-mail verified at"), null=True, blank=True)

    objects = MarketplaceUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_unique_email_ci"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        return self.full_name or self.username
