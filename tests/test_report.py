"""`electra-tf report`: a run's history.jsonl and fine-tuning metrics.json -> report.md, report.json, every plot."""

import json
import math
import os
import statistics

import numpy as np
import pytest

from electra_tf.cli.main import main
from electra_tf.reporting import load_runs, summarize_finetuning, write_report
from electra_tf.reporting.plots import CURVE_PLOTS, curve_figure
from electra_tf.reporting.runs import finetuning_group
from electra_tf.training.history import HistoryWriter

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CURVE_NAMES = [plot.name for plot in CURVE_PLOTS]


def write_pretraining_run(run_dir, steps=(50, 100, 150, 200), aucs=(0.55, 0.71), validation=True, config=None):
    """A tiny run's files as `electra-tf pretrain` writes them: history.jsonl (through its writer) and config.json."""
    os.makedirs(run_dir, exist_ok=True)
    writer = HistoryWriter(os.path.join(run_dir, "history.jsonl"))
    for index, step in enumerate(steps):
        writer.write(step, "train", {
            "loss": 30.0 - index, "mlm_loss": 7.0 - 0.5 * index, "mlm_accuracy": 0.05 + 0.05 * index,
            "rtd_loss": 0.4 - 0.02 * index, "rtd_accuracy": 0.85, "rtd_precision": 0.3, "rtd_recall": 0.1,
            "replaced_fraction": 0.13, "learning_rate": 1e-3 * (1 - step / steps[-1]) + 1e-6,
            "examples_per_second": 100.0 + index,
        })
        if validation and (index + 1) % 2 == 0:
            writer.write(step, "validation", {
                "loss": 31.0 - index, "mlm_loss": 7.1 - 0.5 * index, "mlm_accuracy": 0.04 + 0.05 * index,
                "rtd_loss": 0.41 - 0.02 * index, "rtd_auc": aucs[index // 2], "rtd_accuracy": 0.86,
                "mlm_accuracy_at_mask": 0.03 + 0.04 * index, "unigram_accuracy_at_mask": 0.06,
            })
    with open(os.path.join(run_dir, "config.json"), "w") as stream:
        json.dump(config or {"num_layers": 2, "hidden_size": 128, "generator_hidden_fraction": 0.25,
                             "seq_length": 64, "batch_size": 64, "learning_rate": 1e-3, "objective": "electra"},
                  stream)


def write_finetuning_run(out_dir, mcc, accuracy):
    """A fine-tuning OUT folder's metrics.json in `electra-tf finetune`'s format."""
    os.makedirs(out_dir, exist_ok=True)
    epochs = [{"epoch": 1, "step": 10, "mcc": mcc - 0.1, "accuracy": accuracy - 0.05},
              {"epoch": 2, "step": 20, "mcc": mcc, "accuracy": accuracy}]
    with open(os.path.join(out_dir, "metrics.json"), "w") as stream:
        json.dump({"task": "classification", "metric": "mcc", "epochs": epochs, "best": epochs[1]}, stream)


def test_report_of_a_run_and_finetuning_seeds_has_every_plot_and_the_right_numbers(tmp_path):
    write_pretraining_run(tmp_path / "run_electra")
    electra_mcc, mlm_mcc = [0.31, 0.35, 0.28], [0.22, 0.20]
    for seed, mcc in enumerate(electra_mcc):
        write_finetuning_run(tmp_path / f"cola_electra_seed{seed}", mcc, 0.7 + seed / 100)
    for seed, mcc in enumerate(mlm_mcc):
        write_finetuning_run(tmp_path / "cola_mlm" / f"seed{seed}", mcc, 0.65)
    runs = [str(tmp_path / "run_electra")] + sorted(str(path) for path in tmp_path.glob("cola_electra_seed*")) + \
        sorted(str(path) for path in (tmp_path / "cola_mlm").iterdir())

    result = write_report(runs, tmp_path / "report", title="Tiny run")

    assert sorted(result.plots) == sorted(CURVE_NAMES + ["finetuning"]) and result.missing == []
    for path in result.plots.values():
        with open(path, "rb") as stream:
            assert stream.read(8) == PNG_MAGIC
        assert os.path.getsize(path) > 5_000  # a drawn figure, not an empty canvas
    text = open(result.report_path).read()
    assert text.startswith("# Tiny run\n")
    for name in result.plots:
        assert f"({name}.png)" in text
    # The pretraining row: last step, last/best held-out AUC, last held-out MLM accuracy, median throughput.
    row = next(line for line in text.splitlines() if line.startswith("| run_electra |"))
    assert "| 200 |" in row and "0.7100 / 0.7100" in row and "| 0.1900 |" in row and "| 102 |" in row
    assert "| 0.1500 / 0.0600 |" in row  # the generator at [MASK] beside always guessing the most frequent token
    summary = json.load(open(result.summary_path))
    assert summary["pretraining"][0]["validation"]["rtd_auc"] == pytest.approx(0.71)
    groups = {group["group"]: group for group in summary["finetuning"]}
    assert sorted(groups) == ["cola_electra", "cola_mlm"]
    assert groups["cola_electra"]["mean"] == pytest.approx(np.mean(electra_mcc))
    assert groups["cola_electra"]["std"] == pytest.approx(np.std(electra_mcc, ddof=1))
    assert groups["cola_mlm"]["std"] == pytest.approx(statistics.stdev(mlm_mcc))
    assert f"{np.mean(electra_mcc):.4f} ± {np.std(electra_mcc, ddof=1):.4f}" in text


def test_several_runs_share_each_plot_with_training_and_held_out_lines(tmp_path):
    write_pretraining_run(tmp_path / "a")
    write_pretraining_run(tmp_path / "b", aucs=(0.6, 0.8))
    runs = load_runs([f"ELECTRA={tmp_path / 'a'}", f"MLM={tmp_path / 'b'}"])
    losses = curve_figure(runs, CURVE_PLOTS[0])
    assert len(losses.axes) == 3
    labels = [line.get_label() for line in losses.axes[0].get_lines()]
    assert labels == ["ELECTRA (training)", "ELECTRA (held-out)", "MLM (training)", "MLM (held-out)"]
    auc_axis = curve_figure(runs, next(plot for plot in CURVE_PLOTS if plot.name == "rtd_auc")).axes[0]
    held_out = [line for line in auc_axis.get_lines() if "held-out" in line.get_label()]
    assert [list(line.get_ydata()) for line in held_out] == [[0.55, 0.71], [0.6, 0.8]]
    assert [list(line.get_xdata()) for line in held_out] == [[100, 200], [100, 200]]
    at_mask = curve_figure(runs, next(plot for plot in CURVE_PLOTS if plot.name == "generator_accuracy")).axes[1]
    lines = {line.get_label(): list(line.get_ydata()) for line in at_mask.get_lines()}
    assert lines["ELECTRA (held-out)"] == pytest.approx([0.07, 0.15]) and lines["MLM (baseline)"] == [0.06, 0.06]


def test_a_run_without_held_out_evaluation_lists_what_was_not_plotted(tmp_path):
    write_pretraining_run(tmp_path / "run", validation=False)
    result = write_report([str(tmp_path / "run")], tmp_path / "report")
    assert "rtd_auc" not in result.plots and "losses" in result.plots and "finetuning" not in result.plots
    assert any(reason.startswith("`rtd_auc.png`") for reason in result.missing)
    assert "## Not plotted" in open(result.report_path).read()


def test_run_final_folder_means_the_run_and_labels_group_seeds(tmp_path):
    write_pretraining_run(tmp_path / "run")
    os.makedirs(tmp_path / "run" / "final")
    assert load_runs([str(tmp_path / "run" / "final")])[0].path == str(tmp_path / "run")
    assert finetuning_group("cola_electra_seed3") == "cola_electra"
    assert finetuning_group("cola_mlm-s2") == "cola_mlm"
    assert finetuning_group("electra/seed1") == "electra"
    assert finetuning_group("random_init") == "random_init"
    write_finetuning_run(tmp_path / "x" / "seed0", 0.3, 0.7)
    groups = summarize_finetuning(load_runs([str(tmp_path / "x" / "seed0")]))
    assert groups[0].name == "x" and groups[0].std == 0.0 and math.isclose(groups[0].mean, 0.3)


def test_cli_writes_the_report_and_rejects_a_folder_that_is_no_run(tmp_path, capsys):
    write_pretraining_run(tmp_path / "run")
    assert main(["report", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "report.md")
    os.makedirs(tmp_path / "empty")
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "out2")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "holds neither history.jsonl" in error[0]


def test_glob_patterns_with_a_label_make_one_finetuning_group(tmp_path):
    for seed, mcc in enumerate([0.3, 0.4]):
        write_finetuning_run(tmp_path / f"ft_electra_seed{seed}", mcc, 0.7)
    write_finetuning_run(tmp_path / "ft_random_seed0", 0.05, 0.6)
    runs = load_runs([f"ELECTRA={tmp_path}/ft_electra_seed*", str(tmp_path / "ft_random_*")])
    assert [run.label for run in runs] == ["ELECTRA", "ELECTRA", "ft_random_seed0"]
    groups = summarize_finetuning(runs)
    assert [(group.name, group.values["mcc"]) for group in groups] == [("ELECTRA", [0.3, 0.4]), ("ft_random", [0.05])]
    assert main(["report", str(tmp_path / "nothing_*"), "--out", str(tmp_path / "out")]) == 2


def test_history_reader_skips_a_torn_line_rejects_a_foreign_one_and_needs_no_tensorflow(tmp_path):
    import subprocess
    import sys

    from electra_tf.errors import InputError
    from electra_tf.reporting.runs import read_history_lines

    path = tmp_path / "history.jsonl"
    path.write_text('{"step": 1, "split": "train", "loss": null}\n\n{"step": 2, "spl\n')
    lines = read_history_lines(str(path))
    assert len(lines) == 1 and lines[0]["step"] == 1 and math.isnan(lines[0]["loss"])
    path.write_text('{"step": 1, "split": "train"}\n[1, 2]\n')
    with pytest.raises(InputError, match="history.jsonl:2 is not a history line"):
        read_history_lines(str(path))
    code = "import sys, electra_tf.reporting; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"  # `electra-tf report` starts without TensorFlow
