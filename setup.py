"""electra-tf: ELECTRA pretraining, fine-tuning, export and serving on TensorFlow 2 / Keras 3.

    pip install -e .            # the library, the `electra-tf` command and the `electra_serving` client
    pip install -e '.[test]'    # plus what the test suite compares against (transformers, torch, tf-keras)
"""

from setuptools import find_packages, setup

# Everything is pinned: TensorFlow, tensorflow-text and TF Serving's protos move together.
INSTALL_REQUIRES = [
    "tensorflow==2.21.0",
    "tensorflow-text==2.21.1",
    "keras==3.15.1",
    "keras-hub==0.32.0",
    "tensorflow-serving-api==2.21.0",
    "grpcio==1.85.3",
    "protobuf==7.36.2",
    "safetensors==0.8.0",
    "numpy==2.4.6",
    "PyYAML==6.0.3",
    "tensorboard==2.21.0",  # tf.summary writers and `tensorboard --logdir RUN`
    "matplotlib==3.11.2",  # `electra-tf report` plots
]
# The serving client alone (also installable from serving/setup.py without the training stack).
SERVING_REQUIRES = [
    "grpcio==1.85.3",
    "tensorflow-serving-api==2.21.0",
    "numpy==2.4.6",
]
TEST_REQUIRES = [
    "pytest==9.0.3",
    "tf-keras==2.21.0",  # interop: tensorflow_hub.KerasLayer on our SavedModels
    "tensorflow-hub==0.16.1",
    "torch==2.13.0",  # CPU build; reference ELECTRA for parity tests
    "transformers==5.23.0",
    "tokenizers==0.23.3",
    "cryptography==48.0.0",  # certificates for the (mutual) TLS serving tests
    "scikit-learn==1.9.1",  # reference ROC-AUC and classification metrics in tests
    "scipy==1.17.1",  # reference Pearson/Spearman in tests
]

setup(
    name="electra-tf",
    version="0.1.0",
    description="ELECTRA pretraining and serving as a TensorFlow 2 / Keras 3 package",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["electra_tf", "electra_tf.*"])
    + find_packages("serving", include=["electra_serving", "electra_serving.*"]),
    package_dir={"electra_serving": "serving/electra_serving"},
    package_data={"electra_tf": ["py.typed"]},
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": TEST_REQUIRES, "serving": SERVING_REQUIRES},
    entry_points={"console_scripts": ["electra-tf=electra_tf.cli.main:main"]},
    license="Apache-2.0",
)
