"""`DataManifest`: what `electra-tf prepare` wrote into a data folder, read back by the pretrainer.

A data folder holds the TFRecord shards, the held-out shards (`validation/`), a copy of the vocabulary and
`manifest.json`, which records the sequence length, the vocabulary (file name, sha256, size, casing), the
seed, the shard files with their example counts, how the held-out split was chosen, and the counts of everything read, repaired, skipped and cut while preparing. The pretrainer
takes `seq_length` and the vocabulary from here, so they cannot drift apart from the data.

Example:
>>> manifest = read_manifest("data/")  # doctest: +SKIP
>>> manifest.seq_length, manifest.num_examples, manifest.vocab_path  # doctest: +SKIP
(128, 21873, 'data/vocab.txt')
>>> manifest.check_vocab("other-vocab.txt")  # doctest: +SKIP
Traceback (most recent call last):
...
electra_tf.errors.InputError: Vocabulary 'other-vocab.txt' (sha256 3f2a…) does not match ...
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

from electra_tf.errors import InputError

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1


@dataclasses.dataclass(frozen=True)
class DataManifest:
    """The contents of `manifest.json` (all paths relative to the data folder).

    Attributes:
        data_dir: str. The folder the manifest was read from (not stored in the file).
        seq_length: int. Tokens per example, [CLS]/[SEP] included.
        vocab_file: str. File name of the vocabulary copy inside the data folder.
        vocab_hash: str. sha256 of the vocabulary file's bytes.
        vocab_size: int. Entries in the vocabulary.
        lowercase: bool. Whether the text was lower-cased (uncased vocabulary).
        seed: int. Seed of the example builder.
        shards: list of dict. `{"file": name, "examples": count}` per TFRecord shard.
        counts: dict. Corpus and builder counts (documents, sentences, tokens, examples, ...).
        corpus: dict. Files read (path, detected layout, bytes, lines) and the reading options.
        validation_shards: list of dict. `{"file": name, "examples": count}` per held-out shard (files in
            `validation/`); empty when nothing was held out.
        validation: dict. How the held-out split was chosen (`preparation.py`): `fraction`, `mode`
            ("documents" or "spans"), `documents`, `sentences`, the seed, and the held-out builder's counts.
        version: int. Format version of the manifest.
    """

    data_dir: str
    seq_length: int
    vocab_file: str
    vocab_hash: str
    vocab_size: int
    lowercase: bool
    seed: int
    shards: list
    counts: dict
    corpus: dict
    validation_shards: list = dataclasses.field(default_factory=list)
    validation: dict = dataclasses.field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @property
    def vocab_path(self) -> str:
        return os.path.join(self.data_dir, self.vocab_file)

    @property
    def shard_paths(self) -> list[str]:
        return [os.path.join(self.data_dir, shard["file"]) for shard in self.shards]

    @property
    def num_examples(self) -> int:
        return sum(shard["examples"] for shard in self.shards)

    @property
    def validation_shard_paths(self) -> list[str]:
        return [os.path.join(self.data_dir, shard["file"]) for shard in self.validation_shards]

    @property
    def num_validation_examples(self) -> int:
        """Held-out examples (0 when the data was prepared with `--validation-fraction 0`)."""
        return sum(shard["examples"] for shard in self.validation_shards)

    def check_vocab(self, vocab_file) -> None:
        """Raises InputError unless `vocab_file` is byte for byte the vocabulary the data was made with."""
        digest = file_sha256(vocab_file)
        if digest != self.vocab_hash:
            raise InputError(
                f"Vocabulary {os.fspath(vocab_file)!r} (sha256 {digest[:12]}…) does not match the one the data in "
                f"{self.data_dir!r} was prepared with (sha256 {self.vocab_hash[:12]}…, copied to {self.vocab_path!r}). "
                "Use that vocabulary, or prepare the data again."
            )

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        fields.pop("data_dir")
        return json.dumps(fields, indent=2, ensure_ascii=False) + "\n"


def file_sha256(path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(manifest: DataManifest) -> str:
    """Writes `manifest.json` into `manifest.data_dir` atomically (a half-written folder has no manifest)."""
    path = os.path.join(manifest.data_dir, MANIFEST_FILE)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(manifest.to_json())
    os.replace(temporary, path)
    return path


def read_manifest(data_dir) -> DataManifest:
    """Reads and checks `manifest.json` of a data folder made by `electra-tf prepare`.

    Args:
        data_dir: str or os.PathLike. The folder.

    Returns:
        DataManifest.

    Raises:
        InputError: no manifest, an unreadable one, or shard files that are missing.
    """
    data_dir = os.fspath(data_dir)
    path = os.path.join(data_dir, MANIFEST_FILE)
    if not os.path.isfile(path):
        raise InputError(
            f"No {MANIFEST_FILE} in {data_dir!r}. Expected a data folder written by `electra-tf prepare` "
            "(a folder without a manifest is an unfinished run)."
        )
    try:
        with open(path, encoding="utf-8") as stream:
            fields = json.load(stream)
        if fields.get("version") != MANIFEST_VERSION:
            raise InputError(
                f"{path!r} has manifest version {fields.get('version')!r}; this electra-tf reads version "
                f"{MANIFEST_VERSION}. Prepare the data again."
            )
        manifest = DataManifest(data_dir=data_dir, **fields)
    except (json.JSONDecodeError, TypeError) as error:
        raise InputError(f"{path!r} is not a valid data manifest: {error}.") from None
    missing = [shard for shard in manifest.shard_paths + manifest.validation_shard_paths if not os.path.isfile(shard)]
    if missing:
        raise InputError(f"{len(missing)} shard file(s) listed in {path!r} are missing, first {missing[0]!r}.")
    if not os.path.isfile(manifest.vocab_path):
        raise InputError(f"The vocabulary {manifest.vocab_path!r} listed in {path!r} is missing.")
    return manifest
