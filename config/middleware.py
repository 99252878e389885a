"""Chinese by default: the interface language is the user's explicit choice (language cookie,
set through /i18n/setlang/), else ``LANGUAGE_CODE`` — never guessed from the browser's Accept-Language."""

from django.conf import settings
from django.utils import translation


class DefaultLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
