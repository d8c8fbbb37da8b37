"""A TF Serving-compatible model server: gRPC PredictionService/ModelService/Health and the REST API.

`ModelServer` and `ServerOptions` load lazily, so `electra_serving.server.flags` (the command-line
flags) imports without TensorFlow or gRPC.

Example:
    >>> from electra_serving.server import ModelServer, ServerOptions
    >>> server = ModelServer(ServerOptions(model_name="demo", model_base_path="saved_models/demo"))
    >>> server.start()  # doctest: +SKIP
"""

__all__ = ["ModelServer", "ServerOptions"]


def __getattr__(name: str):
    if name == "ModelServer":
        from electra_serving.server.model_server import ModelServer

        return ModelServer
    if name == "ServerOptions":
        from electra_serving.server.options import ServerOptions

        return ServerOptions
    raise AttributeError(f"module 'electra_serving.server' has no attribute {name!r}")
