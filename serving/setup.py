"""The `electra_serving` client (and `electra-tf serve`'s server) alone, without the training stack.

    pip install ./serving          # Client over REST: numpy only; over gRPC: tensorflow-serving-api
"""

from setuptools import find_packages, setup

setup(
    name="electra-serving",
    version="0.1.0",
    description="Client for TF Serving-compatible servers (gRPC and REST) and a TF Serving-compatible server",
    python_requires=">=3.10",
    packages=find_packages(include=["electra_serving", "electra_serving.*"]),
    # Pinned with the main package's setup.py; tensorflow-serving-api brings tensorflow (its protos need it).
    install_requires=["grpcio==1.85.3", "tensorflow-serving-api==2.21.0", "protobuf==7.36.2", "numpy==2.4.6"],
    # The server needs the TF Text kernels to load models that tokenize in the graph, as TF Serving bundles them.
    extras_require={"server": ["tensorflow-text==2.21.1"]},
    entry_points={"console_scripts": ["electra-serving-server=electra_serving.server.main:main"]},
    license="Apache-2.0",
)
