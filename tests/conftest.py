"""Shared pytest set-up: quiet TensorFlow, the shared data folder, fixtures for tiny models, and no silent skips
in CI.

With `CI` set (to anything but "", "0" or "false"), a test may skip only for hardware CI does not have (a GPU,
a TPU): any other skip, such as a package the test extra installs or a missing `../shared/data`, is reported
as a failure, so a broken CI environment cannot pass by running nothing.

`--random-order-seed N` runs the test modules in a shuffled order and the tests of each module in a shuffled
order (module fixtures are still made once): every test must pass alone and in any order.
"""

import collections
import importlib
import os
import pathlib
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
# Skip reasons CI cannot meet: matched as whole words, case-insensitively, anywhere in the reason.
HARDWARE_REASONS = ("GPU", "TPU")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def requires_package(name: str, reason: str | None = None):
    """Imports and returns `name`; where it is not installed, skips the calling test or fixture.

    The test extra (`pip install -e '.[test]'`) installs every package the tests use, so in CI the skip is a
    failure (see the module docstring).

    Example:
    >>> torch = requires_package("torch")  # doctest: +SKIP
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        pytest.skip(reason or f"package {name!r} is not installed ({error}); pip install -e '.[test]' installs it")


def _hardware_reason(reason: str) -> bool:
    words = {word.strip(".,:;()[]'\"").upper() for word in reason.split()}
    return any(name in words for name in HARDWARE_REASONS)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_instead_of_skip(report, what: str):
    reason = _skip_reason(report)
    if report.skipped and in_ci() and not _hardware_reason(reason) and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (f"{what} skipped in CI (CI={os.environ.get('CI')!r}), where only hardware skips are "
                           f"allowed: {reason}")


def pytest_addoption(parser):
    parser.addoption("--random-order-seed", type=int, default=None, metavar="N",
                     help="shuffle the order of the test modules and of the tests in each module with seed N")


def pytest_collection_modifyitems(config, items):
    seed = config.getoption("--random-order-seed")
    if seed is None:
        return
    rng = random.Random(seed)
    modules = collections.defaultdict(list)
    for item in items:
        modules[item.nodeid.split("::")[0]].append(item)
    groups = list(modules.values())
    rng.shuffle(groups)
    for group in groups:
        rng.shuffle(group)
    items[:] = [item for group in groups for item in group]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_instead_of_skip(outcome.get_result(), item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_instead_of_skip(outcome.get_result(), collector.nodeid)


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The folder `../shared/data`; tests that need it skip where it is absent (a user's machine), fail in CI."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it exists in the project's CI)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def english_vocab(shared_data) -> pathlib.Path:
    return shared_data / "vocab" / "bert-base-uncased-vocab.txt"


@pytest.fixture(scope="session")
def chinese_vocab(shared_data) -> pathlib.Path:
    return shared_data / "vocab" / "bert-base-chinese-vocab.txt"
