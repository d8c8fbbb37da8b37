"""`electra-tf run PIPELINE.yaml`: execute a declarative pipeline of `electra-tf` commands step by step.

Example:
    $ electra-tf run pipelines/quickstart.yaml
    $ electra-tf run pipelines/quickstart.yaml --set work=/tmp/qs --from pretrain
"""

from __future__ import annotations

import argparse

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a pipeline file (pipelines/*.yaml) step by step",
        description="Runs the steps of a pipeline file in order. Steps whose 'creates' path exists are skipped, "
        "so running the same command again continues an interrupted pipeline.",
    )
    parser.add_argument("pipeline", metavar="PIPELINE.yaml", help="the pipeline file")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a variable of the pipeline (repeatable)")
    parser.add_argument("--from", dest="start_at", metavar="STEP", help="start at this step")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    parser.set_defaults(handler=run)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise InputError(f"--set expects NAME=VALUE, received {pair!r}")
        overrides[name] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    from electra_tf.pipeline_runner import Pipeline, run_pipeline

    pipeline = Pipeline.from_file(args.pipeline)
    if pipeline.description:
        print(pipeline.description.strip(), flush=True)
    return run_pipeline(pipeline, overrides=parse_overrides(args.set), start_at=args.start_at,
                        dry_run=args.dry_run, log=lambda line: print(line, flush=True))
