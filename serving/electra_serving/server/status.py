"""The server's error type: a gRPC status code and TF Serving's message, turned into a gRPC or HTTP answer.

Example:
    >>> error = ServingStatus("NOT_FOUND", "Servable not found for request: Latest(demo)")
    >>> error.http_status
    404
"""

from __future__ import annotations

import grpc

from electra_serving.errors import HTTP_STATUS_FOR_CODE


class ServingStatus(Exception):
    """A request that failed with a status code (`grpc.StatusCode` name) and a message for the caller."""

    def __init__(self, code: str, message: str, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self._http_status = http_status

    @property
    def grpc_code(self) -> grpc.StatusCode:
        return grpc.StatusCode[self.code]

    @property
    def http_status(self) -> int:
        """TF Serving's HTTP status for the code, unless this error names a more precise one."""
        return self._http_status or HTTP_STATUS_FOR_CODE.get(self.code, 500)


def invalid_argument(message: str) -> ServingStatus:
    return ServingStatus("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingStatus:
    return ServingStatus("NOT_FOUND", message)


def failed_precondition(message: str) -> ServingStatus:
    return ServingStatus("FAILED_PRECONDITION", message)
