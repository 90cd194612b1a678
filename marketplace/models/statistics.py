from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplace.i18n import BilingualNameMixin
from marketplace.models.base import TimeStampedModel
from marketplace.models.reference import Region


class SubMarket(BilingualNameMixin, TimeStampedModel):
    """A specialised sub-market (网上专业技术市场, seed 000): the market of one industry cluster of one region,
    such as 绍兴纺织 or 东阳磁性材料, run with an industry association.

    Its records are not assigned by hand: a demand, listing, proposal or contract belongs to it when its region is
    the sub-market's region (or a city of that province) and its field or sub-field is one of the sub-market's
    fields (any field when none is set). A sub-market created today therefore has its whole history at once.
    """

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="sub_markets", verbose_name=_("region")
    )
    fields = models.ManyToManyField(
        "marketplace.TechnologyField", blank=True, related_name="sub_markets", verbose_name=_("fields")
    )
    operator = models.ForeignKey(
        "marketplace.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("specialised sub-market")
        verbose_name_plural = _("specialised sub-markets")

    def __str__(self) -> str:
        return self.name


class PlatformKpiSnapshot(models.Model):
    """The platform's figures (SPEC §8) of all time (``scope`` "all") or of one year, computed by a Celery job."""

    scope = models.CharField(_("scope"), max_length=8, unique=True)
    data = models.JSONField(_("figures"))
    computed_at = models.DateTimeField(_("computed at"))
    seconds = models.FloatField(_("seconds to compute"))

    class Meta:
        ordering = ["scope"]
        verbose_name = _("platform figures")
        verbose_name_plural = _("platform figures")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="all") | Q(scope__regex=r"^[0-9]{4}$"),
                name="platformkpisnapshot_scope_valid",
            )
        ]

    def __str__(self) -> str:
        return self.scope
