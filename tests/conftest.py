"""Shared pytest set-up: quiet TensorFlow, the shared data folder, and fixtures for tiny models."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The folder `../shared/data`; tests that need it are skipped where it is absent (a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it exists in the project's CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def english_vocab(shared_data) -> pathlib.Path:
    return shared_data / "vocab" / "bert-base-uncased-vocab.txt"


@pytest.fixture(scope="session")
def chinese_vocab(shared_data) -> pathlib.Path:
    return shared_data / "vocab" / "bert-base-chinese-vocab.txt"
