"""Version folders in TF Serving's layout: next free integer, explicit versions, no overwrite, atomicity."""

import os
import threading

import pytest

from electra_tf.errors import InputError
from electra_tf.export.versions import STAGING_PREFIX, check_base_dir, list_versions, next_version, write_version


def _write_model(staging):
    with open(os.path.join(staging, "saved_model.pb"), "wb") as f:
        f.write(b"graph")
    os.makedirs(os.path.join(staging, "variables"))


def test_next_version_is_one_more_than_the_highest_integer_folder(tmp_path):
    assert next_version(tmp_path / "absent") == 1
    for name in ("1", "3", "latest", ".tmp-export-x", "007x"):
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    assert list_versions(tmp_path) == [1, 3]
    assert next_version(tmp_path) == 4


def test_write_version_publishes_the_next_free_version(tmp_path):
    base = tmp_path / "saved_models" / "electra"  # created when absent
    path, version = write_version(base, _write_model)
    assert (version, path) == (1, str(base / "1"))
    assert sorted(os.listdir(base / "1")) == ["saved_model.pb", "variables"]
    assert oct(os.stat(base / "1").st_mode & 0o777) == "0o755"
    assert write_version(base, _write_model)[1] == 2
    assert write_version(base, _write_model, version=10)[1] == 10
    assert write_version(base, _write_model)[1] == 11
    assert sorted(os.listdir(base)) == ["1", "10", "11", "2"]


def test_an_existing_version_is_never_overwritten(tmp_path):
    write_version(tmp_path, _write_model, version=3)
    (tmp_path / "4").mkdir()  # even an empty folder, which os.rename would silently replace
    for version in (3, 4):
        with pytest.raises(InputError, match=f"Version {version} exists.*next free one \\(5\\)"):
            write_version(tmp_path, _write_model, version=version)
    assert sorted(os.listdir(tmp_path / "3")) == ["saved_model.pb", "variables"]
    assert sorted(os.listdir(tmp_path)) == ["3", "4"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    def fail_half_way(staging):
        _write_model(staging)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_version(tmp_path, fail_half_way)
    assert os.listdir(tmp_path) == []


def test_a_reader_never_sees_a_version_being_written(tmp_path):
    seen_during_write = []

    def write(staging):
        assert os.path.basename(staging).startswith(STAGING_PREFIX)
        assert not os.path.basename(staging).isdigit()  # TF Serving only polls integer-named folders
        _write_model(staging)
        seen_during_write.append(list_versions(tmp_path))

    write_version(tmp_path, write)
    assert seen_during_write == [[]]
    assert list_versions(tmp_path) == [1]


def test_a_version_taken_during_the_write_moves_to_the_next_one(tmp_path):
    def write_while_another_exporter_publishes_1(staging):
        _write_model(staging)
        (tmp_path / "1").mkdir()
        (tmp_path / "1" / "saved_model.pb").write_bytes(b"theirs")

    path, version = write_version(tmp_path, write_while_another_exporter_publishes_1)
    assert version == 2 and (tmp_path / "1" / "saved_model.pb").read_bytes() == b"theirs"


def test_concurrent_exports_get_distinct_versions(tmp_path):
    results, barrier = [], threading.Barrier(4)

    def write(staging):
        _write_model(staging)
        barrier.wait()  # every exporter has chosen nothing yet and publishes at about the same time

    threads = [threading.Thread(target=lambda: results.append(write_version(tmp_path, write)[1])) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [1, 2, 3, 4]
    assert list_versions(tmp_path) == [1, 2, 3, 4]


@pytest.mark.parametrize("version", [0, -1, True, "2", 1.0])
def test_invalid_versions_are_rejected(tmp_path, version):
    with pytest.raises(InputError, match="positive integer version"):
        write_version(tmp_path, _write_model, version=version)
    assert os.listdir(tmp_path) == []


def test_base_dir_must_be_a_folder_of_versions(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_base_dir(tmp_path / "file")
    (tmp_path / "electra" / "1").mkdir(parents=True)
    (tmp_path / "electra" / "1" / "saved_model.pb").write_bytes(b"")
    with pytest.raises(InputError, match="is itself a SavedModel"):
        check_base_dir(tmp_path / "electra" / "1")
    check_base_dir(tmp_path / "electra")
