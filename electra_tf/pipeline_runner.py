"""Declarative pipelines: a YAML file of `electra-tf` commands that `electra-tf run` executes in order.

A pipeline names variables and steps. Each step is one `electra-tf` command line, with `{variable}`
placeholders; `creates: PATH` skips the step when PATH already exists (so a re-run continues where an
interrupted one stopped; `pretrain` resumes from its own checkpoints); `background: true` starts the
command as a separate process (a server) that later steps talk to, waits until `ready_port` accepts
connections, and stops it when the pipeline ends.

    description: raw text to a served model
    variables: {work: work_quickstart, port: "8570"}
    steps:
      - name: vocab
        command: vocab {work}/corpus.txt --size 8000 --out {work}/vocab.txt
        creates: "{work}/vocab.txt"
      - name: serve
        command: serve --port {port} --model_name demo --model_base_path {work}/saved_models/demo
        background: true
        ready_port: "{port}"

Example:
>>> pipeline = Pipeline.from_dict({"steps": [{"name": "hello", "command": "corpus --help"}]})
>>> [step.name for step in pipeline.steps]
['hello']
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shlex
import socket
import string
import subprocess
import sys
import time
from typing import Callable

from electra_tf.errors import InputError

STEP_KEYS = {"name", "command", "creates", "background", "ready_port", "ready_timeout"}


@dataclasses.dataclass(frozen=True)
class PipelineStep:
    """One `electra-tf` command of a pipeline; strings may hold `{variable}` placeholders."""

    name: str
    command: str
    creates: str | None = None
    background: bool = False
    ready_port: str | None = None
    ready_timeout: float = 300.0


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """Variables and the steps that use them, as read from a pipeline file."""

    steps: tuple[PipelineStep, ...]
    variables: dict[str, str] = dataclasses.field(default_factory=dict)
    description: str = ""

    @classmethod
    def from_dict(cls, data, source: str = "pipeline") -> "Pipeline":
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
            raise InputError(f"{source}: expected a mapping with a non-empty 'steps' list, received {data!r:.200}")
        unknown = set(data) - {"description", "variables", "steps"}
        if unknown:
            raise InputError(f"{source}: unknown top-level key(s) {sorted(unknown)}; "
                             "expected description, variables, steps")
        variables = data.get("variables") or {}
        if not isinstance(variables, dict):
            raise InputError(f"{source}: 'variables' must be a mapping, received {variables!r:.200}")
        steps = []
        for index, raw in enumerate(data["steps"]):
            where = f"{source}: step {index + 1}"
            if not isinstance(raw, dict) or "command" not in raw:
                raise InputError(f"{where}: expected a mapping with a 'command', received {raw!r:.200}")
            unknown = set(raw) - STEP_KEYS
            if unknown:
                raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; expected some of {sorted(STEP_KEYS)}")
            if raw.get("background") and "ready_port" not in raw:
                raise InputError(f"{where}: a background step needs 'ready_port' (the port it serves on)")
            steps.append(PipelineStep(
                name=str(raw.get("name", f"step{index + 1}")),
                command=str(raw["command"]),
                creates=None if raw.get("creates") is None else str(raw["creates"]),
                background=bool(raw.get("background", False)),
                ready_port=None if raw.get("ready_port") is None else str(raw["ready_port"]),
                ready_timeout=float(raw.get("ready_timeout", 300.0)),
            ))
        names = [step.name for step in steps]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise InputError(f"{source}: step names must be unique, {duplicated} appear more than once")
        return cls(tuple(steps), {str(k): str(v) for k, v in variables.items()}, str(data.get("description", "")))

    @classmethod
    def from_file(cls, path) -> "Pipeline":
        import yaml

        path = pathlib.Path(path)
        if not path.is_file():
            raise InputError(f"Pipeline file {str(path)!r} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise InputError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
        return cls.from_dict(data, source=str(path))


def substitute(text: str, variables: dict[str, str], where: str) -> str:
    """Fills `{name}` placeholders; an unknown name fails with the names that exist."""
    names = [field for _, field, _, _ in string.Formatter().parse(text) if field]
    missing = sorted(set(names) - set(variables))
    if missing:
        raise InputError(f"{where}: unknown variable(s) {missing}; defined: {sorted(variables)}")
    return text.format(**variables)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float, where: str) -> None:
    """Returns once 127.0.0.1:`port` accepts a connection; fails if `process` exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InputError(f"{where}: the process exited with status {process.returncode} before port {port} "
                             "accepted connections")
        with socket.socket() as probe:
            probe.settimeout(1.0)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise InputError(f"{where}: port {port} did not accept connections within {timeout:.0f} s")


def run_pipeline(pipeline: Pipeline, overrides: dict[str, str] | None = None, start_at: str | None = None,
                 dry_run: bool = False, run_command: Callable[[list[str]], int] | None = None,
                 log=print) -> int:
    """Runs the steps in order; returns 0, or the exit status of the first step that failed.

    `run_command(argv)` runs a foreground step (default: `electra_tf.cli.main.main`, in this process);
    background steps always run as `python -m electra_tf ...` child processes.
    """
    if run_command is None:
        from electra_tf.cli.main import main as run_command
    unknown = sorted(set(overrides or {}) - set(pipeline.variables))
    if unknown:
        raise InputError(f"--set names unknown variable(s) {unknown}; the pipeline defines {sorted(pipeline.variables)}")
    variables = {**pipeline.variables, **(overrides or {})}
    names = [step.name for step in pipeline.steps]
    if start_at is not None and start_at not in names:
        raise InputError(f"--from {start_at!r} is not a step; steps are {names}")
    steps = pipeline.steps[names.index(start_at):] if start_at else pipeline.steps
    background: list[tuple[str, subprocess.Popen]] = []
    try:
        for number, step in enumerate(steps, 1):
            where = f"step {step.name!r}"
            argv = shlex.split(substitute(step.command, variables, where))
            creates = substitute(step.creates, variables, where) if step.creates else None
            header = f"[{number}/{len(steps)}] {step.name}: electra-tf {shlex.join(argv)}"
            if creates and os.path.exists(creates):
                log(f"{header}\n    skipped: {creates} exists")
                continue
            log(header)
            if dry_run:
                continue
            started = time.perf_counter()
            if step.background:
                port = int(substitute(step.ready_port, variables, where))
                process = subprocess.Popen([sys.executable, "-m", "electra_tf", *argv])
                background.append((step.name, process))
                wait_for_port(port, process, step.ready_timeout, where)
                log(f"    running in the background (pid {process.pid}), port {port} ready")
                continue
            status = int(run_command(argv) or 0)
            if status != 0:
                log(f"    failed with exit status {status}; fix the cause and re-run (finished steps are skipped)")
                return status
            log(f"    done in {time.perf_counter() - started:.1f} s")
        return 0
    finally:
        for name, process in reversed(background):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log(f"    stopped background step {name!r}")
