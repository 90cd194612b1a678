from django.conf import settings
from django.utils import translation

# Paths outside i18n_patterns. LocaleMiddleware gives every unprefixed path the default language (that is
# what makes "/" Chinese); these paths instead follow the client: ?lang=, the language cookie, Accept-Language.
UNPREFIXED_PREFIXES = ("/api/", "/i18n/")


class ClientLanguageMiddleware:
    """Runs after LocaleMiddleware: API clients and the language switch get the language they ask for."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        if not request.path_info.startswith(UNPREFIXED_PREFIXES):
            return self.get_response(request)
        language = request.GET.get("lang")
        if language not in self.supported:
            language = translation.get_language_from_request(request, check_path=False)
        request.LANGUAGE_CODE = language
        # Scoped to this request: the thread serves other requests (and, in tests, other tests) afterwards.
        with translation.override(language):
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
        return response
