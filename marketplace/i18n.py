"""Bilingual labels for reference data.

Statutory code lists have an authoritative Chinese wording (the statistics yearbook's) and an English
rendering. Both are kept in code and in the database rather than in the gettext catalogue, so the Chinese
label never depends on a compiled catalogue being present.
"""

from django.utils.functional import lazy
from django.utils.translation import get_language


def is_chinese(language: str | None = None) -> bool:
    language = language or get_language() or "zh-hans"
    return language.lower().startswith("zh")


def pick(zh: str, en: str, language: str | None = None) -> str:
    return zh if is_chinese(language) or not en else en


bilingual = lazy(pick, str)
"""A lazy label that renders the Chinese or English text according to the active language."""


class BilingualNameMixin:
    """For models with ``name_zh``/``name_en`` columns."""

    @property
    def name(self) -> str:
        return pick(self.name_zh, self.name_en)
