"""Version folders in TF Serving's layout, `BASE/<integer version>/`, written atomically.

A version is built in a hidden staging folder inside `BASE` (same file system) and renamed into place when
complete, so neither a reader nor TF Serving's file-system poller, which only looks at integer-named
children, ever sees a half-written version. A failed write leaves nothing behind.

Example:
>>> import tempfile
>>> base = tempfile.mkdtemp()
>>> write_version(base, lambda staging: open(f"{staging}/saved_model.pb", "w").close())[1]
1
>>> next_version(base)
2
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from typing import Callable

from electra_tf.errors import InputError

STAGING_PREFIX = ".tmp-export-"  # not an integer: TF Serving ignores it while it is being written
_RENAME_ATTEMPTS = 100  # automatic versions: how many concurrent exporters we step over before giving up


def list_versions(base_dir: str | os.PathLike) -> list[int]:
    """The integer-named subfolders of `base_dir`, ascending (an absent folder has none)."""
    base_dir = os.fspath(base_dir)
    if not os.path.isdir(base_dir):
        return []
    return sorted(
        int(entry.name) for entry in os.scandir(base_dir)
        if entry.is_dir() and entry.name.isdigit() and entry.name.isascii()
    )


def next_version(base_dir: str | os.PathLike) -> int:
    """One more than the highest existing version, or 1 for a new model."""
    versions = list_versions(base_dir)
    return versions[-1] + 1 if versions else 1


def check_base_dir(base_dir: str | os.PathLike, version: int | None = None) -> None:
    """Raises InputError when `base_dir` cannot hold versions or `version` is taken or invalid."""
    base_dir = os.fspath(base_dir)
    if os.path.exists(base_dir) and not os.path.isdir(base_dir):
        raise InputError(f"Export folder {base_dir!r} is a file. Expected a folder such as saved_models/NAME.")
    if os.path.isfile(os.path.join(base_dir, "saved_model.pb")):
        raise InputError(
            f"Export folder {base_dir!r} is itself a SavedModel. Expected the model's base folder "
            f"(saved_models/NAME), which holds one integer-named folder per version."
        )
    if version is not None:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InputError(f"Expected a positive integer version. Received: version={version!r}")
        if os.path.exists(os.path.join(base_dir, str(version))):
            raise InputError(
                f"Version {version} exists in {base_dir!r}; refusing to overwrite it. Choose another --version "
                f"or leave it out to use the next free one ({next_version(base_dir)})."
            )


def write_version(
    base_dir: str | os.PathLike, write: Callable[[str], None], version: int | None = None
) -> tuple[str, int]:
    """Runs `write(staging_dir)` and publishes the result as `base_dir/<version>` in one rename.

    Args:
        base_dir: str. The model's base folder (created if absent).
        write: callable filling an empty staging folder with the version's files.
        version: int | None. The version to create; None takes the next free one. An existing version is
            never overwritten.

    Returns:
        (path of the new version folder, version).

    Raises:
        InputError: `base_dir` is unusable or `version` exists.
    """
    base_dir = os.path.abspath(os.fspath(base_dir))
    check_base_dir(base_dir, version)
    os.makedirs(base_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=base_dir)
    try:
        write(staging)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a served model is read by other users
        for _ in range(_RENAME_ATTEMPTS):
            chosen = version if version is not None else next_version(base_dir)
            target = os.path.join(base_dir, str(chosen))
            try:
                if os.path.exists(target):  # rename() would silently replace an empty folder
                    raise FileExistsError(errno.EEXIST, "version exists", target)
                os.rename(staging, target)
                return target, chosen
            except OSError as error:
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) or version is not None:
                    raise InputError(f"Could not publish version {chosen} in {base_dir!r}: {error}.") from error
        raise InputError(f"Could not find a free version in {base_dir!r} after {_RENAME_ATTEMPTS} attempts.")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
