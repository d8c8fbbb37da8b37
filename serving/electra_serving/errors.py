"""Typed errors for serving calls: one class per gRPC status code, each carrying the code and the message.

The REST API answers with an HTTP status and `{"error": "..."}`; `error_for_http_status` maps it back to the
same classes (TF Serving's own mapping, `http_server.cc`), so callers catch one type whatever the transport.

Example:
    >>> error = error_for_code("NOT_FOUND", "Servable not found for request: Latest(demo)")
    >>> isinstance(error, NotFoundError), error.code, str(error)
    (True, 'NOT_FOUND', 'NOT_FOUND: Servable not found for request: Latest(demo)')
"""

from __future__ import annotations


class ServingError(Exception):
    """A failed serving call.

    Attributes:
        code: str. The gRPC status code name, e.g. `"INVALID_ARGUMENT"`.
        message: str. The server's message, unchanged.
        http_status: int | None. The HTTP status when the call went over REST.
    """

    code = "UNKNOWN"

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(f"{self.code}: {message}")
        self.message = message
        self.http_status = http_status


class CancelledError(ServingError):
    code = "CANCELLED"


class UnknownError(ServingError):
    code = "UNKNOWN"


class InvalidArgumentError(ServingError):
    code = "INVALID_ARGUMENT"


class DeadlineExceededError(ServingError):
    code = "DEADLINE_EXCEEDED"


class NotFoundError(ServingError):
    code = "NOT_FOUND"


class AlreadyExistsError(ServingError):
    code = "ALREADY_EXISTS"


class PermissionDeniedError(ServingError):
    code = "PERMISSION_DENIED"


class ResourceExhaustedError(ServingError):
    code = "RESOURCE_EXHAUSTED"


class FailedPreconditionError(ServingError):
    code = "FAILED_PRECONDITION"


class AbortedError(ServingError):
    code = "ABORTED"


class OutOfRangeError(ServingError):
    code = "OUT_OF_RANGE"


class UnimplementedError(ServingError):
    code = "UNIMPLEMENTED"


class InternalError(ServingError):
    code = "INTERNAL"


class UnavailableError(ServingError):
    code = "UNAVAILABLE"


class DataLossError(ServingError):
    code = "DATA_LOSS"


class UnauthenticatedError(ServingError):
    code = "UNAUTHENTICATED"


ERROR_CLASSES: dict[str, type[ServingError]] = {
    cls.code: cls
    for cls in (
        CancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
        DataLossError,
        UnauthenticatedError,
    )
}

# TF Serving's `ToHTTPStatusCode` (model_servers/http_server.cc).
HTTP_STATUS_FOR_CODE: dict[str, int] = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

# The inverse is not one-to-one (400 is INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE); pick the
# most common code for each status.
_CODE_FOR_HTTP_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_for_code(code: str, message: str, http_status: int | None = None) -> ServingError:
    """Builds the typed error for a gRPC status code name (unknown names give `UnknownError`)."""
    return ERROR_CLASSES.get(code, UnknownError)(message, http_status=http_status)


def error_for_http_status(http_status: int, message: str) -> ServingError:
    """Builds the typed error for a REST answer with a non-200 status."""
    return error_for_code(_CODE_FOR_HTTP_STATUS.get(http_status, "UNKNOWN"), message, http_status=http_status)
