"""The servable manager: which model versions are loaded, labels, version states, and hot swaps.

Requests read one immutable snapshot (`{model: {version: servable}}` plus labels); every change builds a new
snapshot and swaps it in one assignment. A new version is therefore loaded completely before it becomes
visible, and an old one disappears from the map only after its successor is in, while requests that already
hold it finish on it (TF Serving's load-new-then-unload-old). A version directory without `saved_model.pb`
is still being written and is ignored until it has one; a version that fails to load is retried
`max_num_load_retries` times, and again whenever its files change.

Example:
    >>> manager = ServableManager()  # doctest: +SKIP
    >>> manager.reload_config(model_server_config)  # doctest: +SKIP
    >>> manager.servable("demo").version  # doctest: +SKIP
    3
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field

from tensorflow_serving.config import model_server_config_pb2

from electra_serving.server.servable import SAVED_MODEL_FILENAMES, SavedModelServable
from electra_serving.server.status import ServingStatus, failed_precondition, invalid_argument, not_found
from electra_serving.server.version_policy import aspired_versions

logger = logging.getLogger("electra_serving.server")

_VERSION_DIRECTORY = re.compile(r"^\d+$")


@dataclass(frozen=True)
class VersionState:
    """One version's state as `GetModelStatus` reports it (`ModelVersionStatus.State` names)."""

    state: str
    error_code: str = "OK"
    error_message: str = ""


@dataclass(frozen=True)
class _Snapshot:
    serving: dict[str, dict[int, SavedModelServable]] = field(default_factory=dict)
    labels: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class _LoadFailure:
    attempts: int
    next_attempt: float
    fingerprint: tuple
    message: str


def _directory_fingerprint(path: str) -> tuple:
    entries = []
    for root, _, files in os.walk(path):
        for name in files:
            file_path = os.path.join(root, name)
            try:
                stat = os.stat(file_path)
            except FileNotFoundError:
                continue
            entries.append((os.path.relpath(file_path, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


def versions_on_disk(base_path: str) -> dict[int, str]:
    """Complete version directories under a base path: integer names (as TF Serving's file-system source
    reads them) holding a `saved_model.pb`. A folder still being written is not a version yet, so it neither
    hides the current versions from a `latest` policy nor fails a load."""
    found = {}
    for entry in os.listdir(base_path):
        path = os.path.join(base_path, entry)
        if _VERSION_DIRECTORY.match(entry) and any(
            os.path.isfile(os.path.join(path, name)) for name in SAVED_MODEL_FILENAMES
        ):
            found[int(entry)] = path
    return found


class ServableManager:
    """Loads, serves and unloads model versions for a `ModelServerConfig`.

    Args:
        saved_model_tags: tuple[str, ...]. The MetaGraphDef tags to load.
        max_num_load_retries: int. Retries of a failing version load (TF Serving's flag, default 5).
        load_retry_interval_s: float. Seconds between retries.
        allow_version_labels_for_unavailable_models: bool. Let labels point at versions not loaded yet.
    """

    def __init__(
        self,
        saved_model_tags: tuple[str, ...] = ("serve",),
        max_num_load_retries: int = 5,
        load_retry_interval_s: float = 60.0,
        allow_version_labels_for_unavailable_models: bool = False,
    ):
        self._tags = saved_model_tags
        self._max_num_load_retries = max_num_load_retries
        self._load_retry_interval_s = load_retry_interval_s
        self._allow_unavailable_labels = allow_version_labels_for_unavailable_models
        self._snapshot = _Snapshot()
        self._models: dict[str, model_server_config_pb2.ModelConfig] = {}
        self._states: dict[str, dict[int, VersionState]] = {}
        self._states_lock = threading.Lock()
        self._failures: dict[tuple[str, int], _LoadFailure] = {}
        self._reconfigure_lock = threading.Lock()
        self._stop_polling = threading.Event()
        self._poll_thread: threading.Thread | None = None

    # === Request path: one read of the snapshot, no lock ===

    def servable(self, name: str, version: int | None = None, label: str | None = None) -> SavedModelServable:
        """The servable a ModelSpec asks for, with TF Serving's errors when there is none."""
        if not name:
            raise invalid_argument("ModelSpec has no name specified.")
        snapshot = self._snapshot
        if label:
            if label not in snapshot.labels.get(name, {}):
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            version = snapshot.labels[name][label]
        versions = snapshot.serving.get(name, {})
        if version is None:
            if not versions:
                raise not_found(f"Servable not found for request: Latest({name})")
            return versions[max(versions)]
        if version not in versions:
            raise not_found(f"Servable not found for request: Specific({name}, {version})")
        return versions[version]

    def version_states(
        self, name: str, version: int | None = None, label: str | None = None
    ) -> list[tuple[int, VersionState]]:
        """`GetModelStatus`: every version seen of a model, or one version, with its state."""
        if not name:
            raise invalid_argument("ModelSpec has no name specified.")
        if label:
            labels = self._snapshot.labels.get(name, {})
            if label not in labels:
                raise invalid_argument(f"Unrecognized servable version label: {label}")
            version = labels[label]
        with self._states_lock:
            states = dict(self._states.get(name, {}))
        if version is not None:
            if version not in states:
                raise not_found(f"Could not find version {version} of model {name}")
            return [(version, states[version])]
        if not states:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(states.items())

    # === Control path: config reloads and file-system polls, one at a time ===

    def reload_config(self, config: model_server_config_pb2.ModelServerConfig) -> None:
        """Applies a new model list: loads what it adds, unloads what it drops, sets labels; all or nothing.

        Blocks until the versions the new config aspires to are loaded (or failed), like TF Serving's
        `HandleReloadConfigRequest`.

        Raises:
            ServingStatus: the config is invalid (the running config stays in force).
        """
        models = _validated_model_configs(config)
        with self._reconfigure_lock:
            previous_models, self._models = self._models, models
            try:
                self._sync_with_disk(labels_from_config=True)
            except ServingStatus:
                self._models = previous_models
                raise

    def poll(self) -> None:
        """One pass over every base path: loads new versions, unloads versions the policy no longer wants."""
        with self._reconfigure_lock:
            self._sync_with_disk(labels_from_config=False)

    def start_polling(self, interval_s: float) -> None:
        """Polls the base paths every `interval_s` seconds on a daemon thread (TF Serving's
        `--file_system_poll_wait_seconds`); 0 disables polling."""
        if interval_s <= 0:
            return

        def loop():
            while not self._stop_polling.wait(interval_s):
                try:
                    self.poll()
                except Exception:  # A poll must never kill the thread; the next one retries.
                    logger.exception("File system poll failed")

        self._poll_thread = threading.Thread(target=loop, name="electra-serving-poll", daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        self._stop_polling.set()
        if self._poll_thread is not None:
            self._poll_thread.join(timeout=30)

    def all_models_available(self) -> bool:
        """True when every configured model has at least one version serving (the health check)."""
        snapshot = self._snapshot
        return bool(self._models) and all(snapshot.serving.get(name) for name in self._models)

    # === Internals ===

    def _set_state(self, name: str, version: int, state: VersionState) -> None:
        with self._states_lock:
            self._states.setdefault(name, {})[version] = state

    def _sync_with_disk(self, labels_from_config: bool) -> None:
        old = self._snapshot
        serving: dict[str, dict[int, SavedModelServable]] = {}
        for name, model in self._models.items():
            current = old.serving.get(name, {})
            try:
                on_disk = versions_on_disk(model.base_path)
            except FileNotFoundError:
                logger.warning("Could not find base path %s for servable %s", model.base_path, name)
                serving[name] = current
                continue
            wanted = aspired_versions(model.model_version_policy, on_disk)
            loaded = {v: current[v] for v in wanted if v in current}
            for version in sorted(wanted - set(loaded)):
                servable = self._try_load(name, version, on_disk[version])
                if servable is not None:
                    loaded[version] = servable
            # Availability first: keep what serves now until at least one wanted version is up.
            serving[name] = loaded if loaded else current
        if labels_from_config:
            labels = self._labels_for(serving)
        else:
            labels = {name: dict(old.labels.get(name, {})) for name in serving}
        self._snapshot = _Snapshot(serving=serving, labels=labels)
        for name, versions in old.serving.items():
            for version in versions:
                if version not in serving.get(name, {}):
                    self._set_state(name, version, VersionState("END"))
                    logger.info("Unloaded servable version {name: %s version: %d}", name, version)

    def _labels_for(self, serving: dict[str, dict[int, SavedModelServable]]) -> dict[str, dict[str, int]]:
        labels: dict[str, dict[str, int]] = {}
        for name, model in self._models.items():
            for label, version in model.version_labels.items():
                if version not in serving.get(name, {}) and not self._allow_unavailable_labels:
                    # Undo this change's loads: the running snapshot stays as it was.
                    for loaded_version in serving.get(name, {}):
                        if loaded_version not in self._snapshot.serving.get(name, {}):
                            self._set_state(name, loaded_version, VersionState("END"))
                    raise failed_precondition(
                        f"Request to assign label to version {version} of model {name}, which is not "
                        "currently available for inference"
                    )
                labels.setdefault(name, {})[label] = version
        return labels

    def _try_load(self, name: str, version: int, path: str) -> SavedModelServable | None:
        key = (name, version)
        failure = self._failures.get(key)
        fingerprint = _directory_fingerprint(path)
        if failure is not None:
            if failure.fingerprint != fingerprint:
                failure = None  # The files changed: a fresh set of attempts.
            elif failure.attempts > self._max_num_load_retries or time.monotonic() < failure.next_attempt:
                return None
        self._set_state(name, version, VersionState("LOADING"))
        try:
            servable = SavedModelServable(name, version, path, self._tags)
        except Exception as error:  # Any load failure is recorded in the version's status, then retried.
            attempts = 1 if failure is None else failure.attempts + 1
            message = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            self._failures[key] = _LoadFailure(
                attempts, time.monotonic() + self._load_retry_interval_s, fingerprint, message
            )
            gave_up = attempts > self._max_num_load_retries
            self._set_state(name, version, VersionState("END" if gave_up else "LOADING", "UNKNOWN", message))
            logger.warning("Loading servable {name: %s version: %d} failed (attempt %d): %s",
                           name, version, attempts, message)
            return None
        self._failures.pop(key, None)
        self._set_state(name, version, VersionState("AVAILABLE"))
        logger.info("Successfully loaded servable version {name: %s version: %d} from %s", name, version, path)
        return servable


def _validated_model_configs(
    config: model_server_config_pb2.ModelServerConfig,
) -> dict[str, model_server_config_pb2.ModelConfig]:
    """TF Serving's checks on a config list (`ValidateModelConfigList`), plus ours on the platform."""
    if config.WhichOneof("config") != "model_config_list":
        raise invalid_argument(
            "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is "
            "currently supported"
        )
    models: dict[str, model_server_config_pb2.ModelConfig] = {}
    for model in config.model_config_list.config:
        if model.name in models:
            raise invalid_argument(f"Illegal to list model {model.name} multiple times in config list")
        if not os.path.isabs(model.base_path):
            raise invalid_argument(
                f"Expected model {model.name} to have an absolute path or URI; got base_path()={model.base_path}"
            )
        if model.model_platform not in ("", "tensorflow"):
            raise invalid_argument(
                f"Model {model.name} has model_platform {model.model_platform!r}; this server loads "
                "TensorFlow SavedModels only (model_platform: \"tensorflow\")."
            )
        if not os.path.isdir(model.base_path):
            raise not_found(f"Could not find base path {model.base_path} for servable {model.name}")
        models[model.name] = model
    return models

