"""Reports of pretraining and fine-tuning runs: `report.md`, `report.json` and matplotlib PNG plots.

`runs` reads run directories (no TensorFlow), `finetuning_summary` groups fine-tuning runs over seeds,
`plots` draws the figures, `markdown` writes the text and `report.write_report` puts them in one folder
(`electra-tf report`).

Example:
>>> from electra_tf.reporting import write_report
>>> result = write_report(["runs/quickstart"], "runs/quickstart/report")  # doctest: +SKIP
>>> result.report_path  # doctest: +SKIP
'runs/quickstart/report/report.md'
"""

from electra_tf.reporting.finetuning_summary import FinetuningGroup, summarize_finetuning
from electra_tf.reporting.report import ReportResult, write_report
from electra_tf.reporting.runs import Run, load_run, load_runs

__all__ = ["FinetuningGroup", "ReportResult", "Run", "load_run", "load_runs", "summarize_finetuning", "write_report"]
