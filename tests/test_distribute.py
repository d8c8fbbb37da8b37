"""Strategy resolution: names, TF_CONFIG parsing and the rules of `auto`."""

import json

import pytest

from electra_tf import distribute
from electra_tf.errors import InputError


def test_auto_on_a_cpu_machine_is_the_default_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    strategy = distribute.resolve_strategy("auto")
    assert distribute.describe_strategy(strategy) == "default strategy, 1 replica"
    assert distribute.is_chief(strategy) and distribute.worker_id(strategy) == "chief"


def test_unknown_strategy_names_the_choices():
    with pytest.raises(InputError, match="Unknown strategy 'horovod'; expected one of auto, default, mirrored"):
        distribute.resolve_strategy("horovod")


def test_multiworker_without_tf_config_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(InputError, match="needs TF_CONFIG naming the cluster"):
        distribute.resolve_strategy("multiworker")


def test_tpu_without_an_address_is_refused(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(InputError, match="--strategy tpu needs --tpu ADDRESS"):
        distribute.resolve_strategy("tpu")


def test_tf_config_parsing(monkeypatch):
    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"], "ps": ["d:1"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert distribute.num_cluster_tasks(distribute.cluster_spec_from_environment()) == 3
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(InputError, match="TF_CONFIG is not valid JSON"):
        distribute.cluster_spec_from_environment()
