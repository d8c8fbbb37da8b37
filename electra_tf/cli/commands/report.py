"""`electra-tf report`: report.md, report.json and PNG plots for pretraining and fine-tuning runs.

Example:
    $ electra-tf report runs/electra runs/mlm --out reports/rtd_vs_mlm
    $ electra-tf report ELECTRA=runs/a MLM=runs/b ft/electra_seed1 ft/electra_seed2 ft/mlm_seed1 --out report/
"""

from __future__ import annotations

import shlex
import sys


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write report.md and PNG plots (losses, RTD AUC, generator accuracy, LR, throughput, fine-tuning bars)",
        description="Reads pretraining run directories (RUN_DIR/history.jsonl, config.json) and fine-tuning output "
        "folders (OUT/metrics.json) and writes OUT_DIR/report.md, OUT_DIR/report.json and PNG plots: training and "
        "held-out losses, held-out RTD ROC-AUC, generator accuracy, learning rate and examples/s against steps "
        "(all pretraining runs on each plot), and fine-tuning results as bars with ±1 std error bars over seeds. "
        "Fine-tuning runs whose names differ only by a seed suffix (NAME_seed1, NAME-s2, NAME/seed3) form one bar.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR",
                        help="run directories; LABEL=RUN_DIR names a run in tables and legends")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for report.md, report.json and the plots")
    parser.add_argument("--title", default="electra-tf report", help="the report's heading")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from electra_tf.reporting import write_report

    command = "electra-tf report " + " ".join(shlex.quote(value) for value in args.runs) + \
        f" --out {shlex.quote(args.out)}"
    result = write_report(args.runs, args.out, title=args.title, command=command)
    for reason in result.missing:
        print(f"report: not plotted: {reason}", file=sys.stderr)
    print(f"report: {len(result.plots)} plots: " + ", ".join(f"{name}.png" for name in result.plots), file=sys.stderr)
    print(result.report_path)
    return 0
