"""Match explanations in words a user can read, in the active language (SPEC §6).

The engine stores each explanation as data (``brokers.engine.Corpus.explain``); this renders it, so the same
match reads in Chinese on the Chinese site and in English on the English one.
"""

from django.utils.translation import gettext as _


def explanation_text(explanation: dict) -> str:
    parts = []
    shared = explanation.get("shared_terms") or []
    if shared:
        parts.append(_("Shared terms: %(terms)s") % {"terms": _list(shared[:6])})
    for bridge in (explanation.get("bridges") or [])[:2]:
        parts.append(
            _("“%(ours)s” relates to “%(theirs)s”")
            % {
                "ours": _list(bridge.get("query_terms", [])[:3]),
                "theirs": _list(bridge.get("match_terms", [])[:3]),
            }
        )
    if explanation.get("same_sub_field"):
        parts.append(_("same technology sub-field"))
    elif explanation.get("same_field"):
        parts.append(_("same technology field"))
    else:
        parts.append(_("another technology field"))
    region = explanation.get("region")
    if region == "same_city":
        parts.append(_("same city"))
    elif region == "same_province":
        parts.append(_("same province"))
    if explanation.get("mode_fits"):
        parts.append(_("the cooperation mode fits"))
    if explanation.get("maturity_fits"):
        parts.append(_("ready for production"))
    awards = explanation.get("awards_in_field")
    if awards:
        parts.append(_("%(count)d awarded proposals in this field") % {"count": awards})
    return _("; ").join(parts)


def _list(terms) -> str:
    return _("、").join(terms)
