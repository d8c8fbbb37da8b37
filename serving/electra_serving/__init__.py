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
from electra_serving.results import GeneratedText, RankedText
from electra_serving.results import Answer, Classification, TaggedWord
from electra_serving.retry import RetryPolicy

__all__ = [
    "Answer",
    "Classification",
    "Client",
    "DeadlineExceededError",
    "Encoding",
    "GeneratedText",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "MaskFill",
    "ModelMetadata",
    "NotFoundError",
    "ResourceExhaustedError",
    "RankedText",
    "RetryPolicy",
    "ServingError",
    "SignatureInfo",
    "TaggedWord",
    "TokenScores",
    "UnavailableError",
    "UnimplementedError",
    "VersionStatus",
]
