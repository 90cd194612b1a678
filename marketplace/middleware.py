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
        if request.path_info.startswith(UNPREFIXED_PREFIXES):
            language = request.GET.get("lang")
            if language not in self.supported:
                language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if request.path_info.startswith(UNPREFIXED_PREFIXES):
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
