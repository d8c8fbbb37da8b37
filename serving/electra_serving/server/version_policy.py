"""Which versions of a model to serve, from TF Serving's `ServableVersionPolicy` (`latest`, `all`, `specific`).

Example:
    >>> from tensorflow_serving.config import file_system_storage_path_source_pb2 as fs
    >>> policy = fs.FileSystemStoragePathSourceConfig.ServableVersionPolicy()
    >>> policy.latest.num_versions = 2
    >>> sorted(aspired_versions(policy, [1, 3, 7]))
    [3, 7]
"""

from __future__ import annotations

from typing import Iterable


def aspired_versions(policy, on_disk: Iterable[int]) -> set[int]:
    """The versions to serve, given the policy and the version directories found on disk.

    Args:
        policy: `ServableVersionPolicy` proto (the `model_version_policy` of a `ModelConfig`).
            Unset means `latest { num_versions: 1 }`, as in TF Serving.
        on_disk: iterable of int. Version numbers present under the base path.
    """
    versions = sorted(set(on_disk))
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return set(versions)
    if choice == "specific":
        return set(policy.specific.versions) & set(versions)
    num_versions = policy.latest.num_versions if choice == "latest" and policy.latest.num_versions > 0 else 1
    return set(versions[-num_versions:])
