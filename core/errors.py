"""Errors raised by services: a stable code, a translated message, per-field messages."""


class ServiceError(Exception):
    """Bad input or a refused action. Nothing was saved when this is raised."""

    status = 400

    def __init__(self, code: str, message, fields=None, status: int | None = None, details=None):
        super().__init__(message)  # a lazy message stays lazy until shown
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.details = details  # JSON-serialisable specifics (e.g. what is still open), or None
        if status is not None:
            self.status = status


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409
