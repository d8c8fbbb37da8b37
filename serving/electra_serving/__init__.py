"""electra_serving: a client for TF Serving-compatible servers, and `electra-tf serve`'s server.

Importing the package (and the REST client) needs only numpy; a gRPC `Client` imports
`tensorflow_serving.apis` when it is created. The server lives in `electra_serving.server`.

Example:
    >>> from electra_serving import Client, NotFoundError
    >>> client = Client("localhost:8500", "electra")  # doctest: +SKIP
    >>> client.score(["the chef ate the meal"])[0].replaced_probability  # doctest: +SKIP
"""

from electra_serving.client import Client
from electra_serving.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
    ServingError,
    UnavailableError,
    UnimplementedError,
)
from electra_serving.results import Encoding, MaskFill, ModelMetadata, SignatureInfo, TokenScores, VersionStatus
from electra_serving.retry import RetryPolicy

__all__ = [
    "Client",
    "DeadlineExceededError",
    "Encoding",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "MaskFill",
    "ModelMetadata",
    "NotFoundError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "ServingError",
    "SignatureInfo",
    "TokenScores",
    "UnavailableError",
    "UnimplementedError",
    "VersionStatus",
]
