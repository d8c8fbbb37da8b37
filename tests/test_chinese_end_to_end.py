"""Chinese end to end through the CLI: `prepare` → `pretrain` → `export` → serve → `predict` on the shared
Chinese corpus (红楼梦, CRLF line endings) with the Chinese BERT vocabulary, in a tiny configuration.

The served tokens must be what the in-process Tokenizer makes of each text (one token per character,
[CLS]/[SEP] around), and the served probabilities what the export computes in-process.
"""

import json

import numpy as np
import tensorflow as tf

from electra_serving.server import ModelServer, ServerOptions
from electra_serving.testing import free_port
from electra_tf.cli.main import main

TEXTS = ["贾宝玉和林黛玉在大观园里读书。", "话说天下大势，分久必合，合久必分。",
         "今天天气很好"]


def test_prepare_pretrain_export_serve_predict_chinese(shared_data, chinese_vocab, tmp_path, capsys):
    from electra_tf.tokenization import Tokenizer

    corpus = tmp_path / "hongloumeng.txt"
    raw = (shared_data / "corpus" / "zh" / "classical_novels" / "hongloumeng.txt").read_bytes()[:60_000]
    corpus.write_bytes(raw[: raw.rindex(b"\r\n") + 2])  # whole lines, CRLF kept
    data, run, saved = tmp_path / "data", tmp_path / "run", tmp_path / "saved_models" / "zh"

    assert main(["prepare", str(corpus), "--vocab", str(chinese_vocab), "--out", str(data), "--seq-len", "32",
                 "--shards", "2"]) == 0
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vocab_size"] == 21128 and sum(shard["examples"] for shard in manifest["shards"]) > 100
    assert main(["pretrain", "--data", str(data), "--out", str(run), "--preset", "tiny", "--batch-size", "8",
                 "--steps", "2", "--checkpoint-every", "2", "--strategy", "default"]) == 0
    assert main(["export", "--model", str(run), "--out", str(saved), "--top-k", "3"]) == 0
    capsys.readouterr()

    server = ModelServer(ServerOptions(port=free_port(), rest_api_port=free_port(), model_name="zh",
                                       model_base_path=str(saved), file_system_poll_wait_seconds=0))
    server.start()
    try:
        assert main(["predict", "--target", f"127.0.0.1:{server.grpc_port}", "--model", "zh", *TEXTS]) == 0
        grpc_lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert main(["predict", "--target", f"127.0.0.1:{server.rest_port}", "--transport", "rest", "--model", "zh",
                     *TEXTS]) == 0
        rest_lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        server.stop()

    tokenizer = Tokenizer(chinese_vocab)
    loaded = tf.saved_model.load(str(saved / "1"))
    expected = loaded.signatures["serving_default"](text=tf.constant(TEXTS))
    assert len(grpc_lines) == len(rest_lines) == len(TEXTS)
    for row, (text, line, rest_line) in enumerate(zip(TEXTS, grpc_lines, rest_lines, strict=True)):
        pieces = [t.decode() for t in tokenizer.id_to_token(tokenizer([text])).to_list()[0]]
        assert pieces == list(text)  # the Chinese vocabulary: one token per character
        assert line["text"] == text and line["tokens"] == ["[CLS]", *pieces, "[SEP]"]
        assert rest_line == line
        length = len(pieces) + 2
        np.testing.assert_allclose(line["replaced_probability"],
                                   expected["replaced_probability"].numpy()[row, :length], rtol=1e-4, atol=1e-6)
