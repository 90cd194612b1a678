from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.i18n import BilingualNameMixin


class Region(BilingualNameMixin, models.Model):
    """A GB/T 2260 division: every province-level division and prefecture-level city, plus 990000."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province-level division")
        PREFECTURE = "prefecture", _("Prefecture-level city")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def province_code(self) -> str:
        """Statistics roll cities up to their province: first two digits + 0000."""
        return province_code(self.code)

    @property
    def full_name(self) -> str:
        """浙江省杭州市 in Chinese, "Hangzhou, Zhejiang" in English."""
        if self.parent_id is None:
            return self.name
        if self.name == self.name_zh:
            return f"{self.parent.name_zh}{self.name_zh}"
        return f"{self.name}, {self.parent.name}"


def province_code(code: str) -> str:
    return code[:2] + "0000"


class TechnologyField(BilingualNameMixin, models.Model):
    """One of the 11 national technology fields (no parent) or one of their sub-fields."""

    code = models.CharField(_("code"), max_length=64, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("technology field")
        verbose_name_plural = _("technology fields")

    def __str__(self) -> str:
        return self.name

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None


class Classification(BilingualNameMixin, models.Model):
    """A row of one statistical or platform code list (see ``marketplace.taxonomy.CODE_LISTS``)."""

    scheme = models.CharField(_("code list"), max_length=40)
    code = models.CharField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["scheme", "sort_order"]
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="classification_unique_scheme_code"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}:{self.code} {self.name}"
