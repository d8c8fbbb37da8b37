"""tests/conftest.py under `CI=true`: a skip for a missing package, missing data or any other reason fails;
a hardware skip (GPU, TPU) stays a skip; outside CI every skip stays a skip. Also `--random-order-seed`."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

SKIPPING_TESTS = '''
import pytest
from conftest import requires_package

def test_needs_a_gpu():
    pytest.skip("needs a GPU")

def test_needs_a_tpu():
    pytest.skip("no TPU available here")

def test_missing_package():
    requires_package("no_such_package_for_the_ci_test")

def test_missing_shared_data(shared_data):
    pass

def test_other_reason():
    pytest.skip("some reason")

@pytest.mark.xfail(strict=True, reason="a known bug")
def test_known_bug():
    assert False

def test_passes():
    pass
'''
MODULE_SKIP = '''
import pytest
pytest.importorskip("no_such_package_for_the_ci_test")

def test_never_collected():
    pass
'''


def _run(folder, ci, *args):
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        environment["CI"] = ci
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", *args], cwd=folder,
        env=environment, capture_output=True, text=True, timeout=120,
    )
    outcomes = {}  # "test_skips.py::test_name OUTCOME ..." lines of -v
    for line in completed.stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and "::" in words[0] and words[1] in ("PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL"):
            outcomes[words[0].split("::")[1]] = words[1]
    return completed, outcomes


@pytest.fixture
def folder(tmp_path):
    # A copy of the suite's conftest one level below a folder without `shared/data`.
    project = tmp_path / "project" / "tests"
    project.mkdir(parents=True)
    shutil.copy(pathlib.Path(__file__).with_name("conftest.py"), project / "conftest.py")
    (project / "test_skips.py").write_text(SKIPPING_TESTS)
    return project


def test_in_ci_only_hardware_skips_are_allowed(folder):
    completed, outcomes = _run(folder, "true", "test_skips.py")
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert outcomes == {"test_needs_a_gpu": "SKIPPED", "test_needs_a_tpu": "SKIPPED", "test_missing_package": "FAILED",
                        "test_missing_shared_data": "ERROR", "test_other_reason": "FAILED",
                        "test_known_bug": "XFAIL", "test_passes": "PASSED"}, completed.stdout[-3000:]
    assert "skipped in CI (CI='true'), where only hardware skips are allowed" in completed.stdout
    assert "pip install -e '.[test]' installs it" in completed.stdout


def test_outside_ci_skips_stay_skips(folder):
    for ci in (None, "false"):
        completed, outcomes = _run(folder, ci, "test_skips.py")
        assert completed.returncode == 0, completed.stdout[-3000:]
        assert sorted(name for name, outcome in outcomes.items() if outcome == "SKIPPED") == [
            "test_missing_package", "test_missing_shared_data", "test_needs_a_gpu", "test_needs_a_tpu",
            "test_other_reason"]


def test_a_module_level_skip_fails_collection_in_ci(folder):
    (folder / "test_module_skip.py").write_text(MODULE_SKIP)
    completed, _ = _run(folder, "true", "test_module_skip.py")
    assert completed.returncode != 0 and "test_module_skip.py skipped in CI" in completed.stdout
    completed, _ = _run(folder, None, "test_module_skip.py")
    assert completed.returncode == 5 and "1 skipped" in completed.stdout  # 5: no test ran, none failed


def test_random_order_shuffles_modules_and_tests(folder):
    (folder / "test_order.py").write_text("".join(f"def test_{i}():\n    print('ran', {i})\n\n" for i in range(12)))
    orders = []
    for seed in ("1", "2", "1"):
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only", "test_order.py",
             "--random-order-seed", seed], cwd=folder, capture_output=True, text=True, timeout=120)
        orders.append([line.split("::")[1] for line in completed.stdout.splitlines() if "::" in line])
    assert sorted(orders[0]) == sorted(f"test_{i}" for i in range(12))
    assert orders[0] == orders[2] != orders[1] and orders[0] != sorted(orders[0], key=lambda n: int(n[5:]))
