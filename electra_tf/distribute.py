"""Choosing a `tf.distribute` strategy from a name: `auto`, `default`, `mirrored`, `multiworker` or `tpu`.

`auto` resolves in this order:

1. TPU when a TPU address is given (`--tpu`) or the environment names one (`TPU_NAME`).
2. Multi-worker mirrored when `TF_CONFIG` names more than one task in its cluster (workers and chief).
3. Mirrored over all local GPUs when there are at least two.
4. The default strategy (one device) otherwise.

A `MultiWorkerMirroredStrategy` must exist before any other TensorFlow op runs in the process, so resolve the
strategy first, then build datasets and models inside `strategy.scope()`.

Example:
>>> strategy = resolve_strategy("default")
>>> strategy.num_replicas_in_sync
1
>>> describe_strategy(strategy)
'default strategy, 1 replica'
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from electra_tf.errors import InputError

STRATEGY_NAMES = ("auto", "default", "mirrored", "multiworker", "tpu")
TPU_ENVIRONMENT_VARIABLE = "TPU_NAME"


def cluster_spec_from_environment() -> dict:
    """The `cluster` part of `TF_CONFIG` (`{}` when it is unset), with a clear error when it is malformed."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"TF_CONFIG is not valid JSON ({error}). Received: {text[:80]!r}") from None
    cluster = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(cluster, dict):
        raise InputError(f"TF_CONFIG must be a JSON object with a 'cluster' object. Received: {text[:80]!r}")
    return cluster


def num_cluster_tasks(cluster: dict) -> int:
    """Tasks that train in a `TF_CONFIG` cluster (chief and workers; parameter servers and evaluators excluded)."""
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def resolve_strategy(name: str = "auto", tpu: str | None = None) -> tf.distribute.Strategy:
    """Creates the strategy named by `name` (rules in the module docstring).

    Args:
        name: str. One of `STRATEGY_NAMES`.
        tpu: str or None. TPU address (`grpc://...`, a Cloud TPU name, or `local` on a TPU VM).

    Returns:
        tf.distribute.Strategy.

    Raises:
        InputError: an unknown name, `multiworker` without a multi-task `TF_CONFIG`, `mirrored` without
            devices, or `tpu` without a reachable TPU.
    """
    if name not in STRATEGY_NAMES:
        raise InputError(f"Unknown strategy {name!r}; expected one of {', '.join(STRATEGY_NAMES)}.")
    tpu = tpu or os.environ.get(TPU_ENVIRONMENT_VARIABLE) or None
    if name == "auto":
        if tpu:
            name = "tpu"
        elif num_cluster_tasks(cluster_spec_from_environment()) > 1:
            name = "multiworker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        cluster = cluster_spec_from_environment()
        if num_cluster_tasks(cluster) < 1:
            raise InputError(
                "--strategy multiworker needs TF_CONFIG naming the cluster, e.g. "
                '{"cluster": {"worker": ["host1:2222", "host2:2222"]}, "task": {"type": "worker", "index": 0}}.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    return _tpu_strategy(tpu)


def _tpu_strategy(tpu: str | None) -> tf.distribute.Strategy:
    if not tpu:
        raise InputError(f"--strategy tpu needs --tpu ADDRESS (or {TPU_ENVIRONMENT_VARIABLE} in the environment).")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=None if tpu == "local" else tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as error:
        raise InputError(f"Cannot reach the TPU {tpu!r}: {str(error).strip().splitlines()[0]}") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files (always true outside multi-worker training)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    cluster = resolver.cluster_spec().as_dict()
    if task_type is None:
        return True
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and task_id == 0


def worker_id(strategy: tf.distribute.Strategy) -> str:
    """A name of this process within the cluster, e.g. `worker-1` (`chief` outside multi-worker training)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None or not isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ):
        return "chief"
    return f"{resolver.task_type}-{resolver.task_id}"


def needs_static_shapes(strategy: tf.distribute.Strategy) -> bool:
    """Whether every batch must have the same shape: TPUs compile one program per input shape.

    >>> needs_static_shapes(tf.distribute.get_strategy())
    False
    """
    return isinstance(strategy, tf.distribute.TPUStrategy)


def describe_strategy(strategy: tf.distribute.Strategy) -> str:
    """One phrase naming the strategy and its replica count, for logs."""
    replicas = strategy.num_replicas_in_sync
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        kind = f"multi-worker mirrored ({worker_id(strategy)})"
    elif isinstance(strategy, tf.distribute.MirroredStrategy):
        kind = "mirrored"
    elif isinstance(strategy, tf.distribute.TPUStrategy):
        kind = "TPU"
    elif strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy():
        kind = "default strategy"
    else:
        kind = type(strategy).__name__
    return f"{kind}, {replicas} replica{'s' if replicas != 1 else ''}"
