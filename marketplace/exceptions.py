class ApplicationError(Exception):
    """A business rule refused the request.

    Services raise it; the API exception handler and the website views turn it into a 400 / form error,
    so services never depend on DRF or on HTTP.
    """

    def __init__(self, message, *, code: str = "invalid", extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)
