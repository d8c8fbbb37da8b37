"""`electra-tf pretrain`: train a generator-discriminator pair, resumable, on any `tf.distribute` strategy.

Example:
    $ electra-tf pretrain --data data/ --out runs/small --preset small --steps 100000 --precision bf16 --xla
    $ electra-tf pretrain --data data/ --out runs/small --preset small --steps 100000 --precision bf16 --xla  # resumes
    $ electra-tf pretrain --data task_data/ --out runs/adapted --init-from runs/small --steps 2000  # continued
"""

from __future__ import annotations

import sys

STRATEGY_NAMES = ("auto", "default", "mirrored", "multiworker", "tpu")  # electra_tf.distribute (imports TF)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "pretrain",
        help="pretrain ELECTRA (or the MLM baseline) on prepared data or streamed text",
        description="Trains the generator and discriminator with replaced-token detection. Writes RUN_DIR/config.json, "
        "rolling checkpoints in RUN_DIR/checkpoints, TensorBoard logs in RUN_DIR/logs and the final model directory "
        "RUN_DIR/final. Running the same command again resumes from the newest complete checkpoint.",
    )
    source = parser.add_argument_group("data (one of)")
    source.add_argument("--data", metavar="DIR", help="folder written by `electra-tf prepare`")
    source.add_argument("--corpus", nargs="+", metavar="PATH", help="text files/folders/globs to tokenize on the fly")
    parser.add_argument("--vocab", help="WordPiece vocabulary (required with --corpus; checked against --data)")
    parser.add_argument("--cased", action="store_true", help="with --corpus: keep case and accents")
    parser.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory (new, or a run to resume)")
    parser.add_argument("--config", metavar="FILE", help="YAML or JSON file of ElectraConfig fields")
    parser.add_argument("--init-from", metavar="MODEL_DIR",
                        help="start a new run from this model directory's weights (continued, domain- or "
                        "task-adaptive pretraining); it fixes the architecture and the vocabulary, the run "
                        "keeps its own schedule from step 0")
    parser.add_argument("--preset", choices=("tiny", "small", "base", "large"), help="model size (default: small)")
    parser.add_argument("--steps", type=int, help="optimizer steps to train (the run ends at this step)")
    parser.add_argument("--batch-size", type=int, metavar="GLOBAL", help="global batch size per optimizer step")
    parser.add_argument("--seq-length", type=int, help="with --corpus: tokens per sequence")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate")
    parser.add_argument("--warmup-steps", type=int, help="linear warm-up steps (default: the preset's, <= 10%% of steps)")
    parser.add_argument("--objective", choices=("electra", "mlm"), help="ELECTRA (default) or the BERT MLM baseline")
    parser.add_argument("--strategy", default="auto", choices=STRATEGY_NAMES, help="tf.distribute strategy (default auto)")
    parser.add_argument("--tpu", metavar="ADDRESS", help="TPU name or grpc:// address ('local' on a TPU VM)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"), help="default fp32")
    parser.add_argument("--xla", action="store_true", help="compile the forward and backward pass with XLA")
    parser.add_argument("--grad-accum", type=int, default=1, metavar="K", help="micro-batches per step (default 1)")
    parser.add_argument("--checkpoint-every", type=int, default=1000, metavar="STEPS", help="default 1000")
    parser.add_argument("--keep-checkpoints", type=int, default=3, metavar="N", help="rolling checkpoints kept (default 3)")
    parser.add_argument("--log-every", type=int, default=100, metavar="STEPS",
                        help="steps between TensorBoard points and progress lines in logs (default 100)")
    parser.add_argument("--eval-every", type=int, metavar="STEPS",
                        help="steps between held-out evaluations (MLM and RTD metrics, ROC-AUC) on the --data folder's "
                        "held-out split (default: at each checkpoint and the last step; 0: never)")
    parser.add_argument("--eval-batches", type=int, default=20, metavar="N",
                        help="held-out batches per evaluation, always the same ones with the same masks (default 20)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of masking, sampling, data order and the evaluation masks (default 0)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from electra_tf.training import PretrainOptions, TrainingDivergedError, pretrain

    options = PretrainOptions(
        out_dir=args.out,
        data_dir=args.data,
        corpus=tuple(args.corpus or ()),
        vocab_file=args.vocab,
        lowercase=not args.cased,
        config_file=args.config,
        preset=args.preset,
        steps=args.steps,
        batch_size=args.batch_size,
        seq_length=args.seq_length,
        learning_rate=args.learning_rate,
        warmup_steps=args.warmup_steps,
        objective=args.objective,
        strategy=args.strategy,
        tpu=args.tpu,
        precision=args.precision,
        xla=args.xla,
        grad_accum=args.grad_accum,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints,
        log_every=args.log_every,
        eval_every=args.eval_every,
        eval_batches=args.eval_batches,
        seed=args.seed,
        init_from=args.init_from,
    )
    try:
        result = pretrain(options)
    except TrainingDivergedError as error:
        print(f"electra-tf pretrain: error: {error}", file=sys.stderr)
        return 1
    if result.final_dir:
        print(result.final_dir)
    return 0
