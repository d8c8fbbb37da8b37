"""Tests for `electra_tf.tokenization`: parity with Hugging Face's BertTokenizerFast, graph use, vocab checks.

Parity checked here, on a deterministic sample of the shared corpora (every k-th non-blank line across all
files): 3,000 English lines and 3,000 Chinese lines (1,500 of the novels, 1,500 ChnSentiCorp reviews)
lower-cased, and 1,000 Chinese reviews cased; 100% of them give identical ids (each parity check first
asserts that both tokenizers returned one row per line). The only known differences are per code point and listed in
`test_every_bmp_code_point_matches_hf_outside_newer_unicode`; none occurs in the shared corpora.
"""

import hashlib
import pathlib

import pytest
import tensorflow as tf

from conftest import requires_package
from electra_tf.errors import InputError
from electra_tf.tokenization import Tokenizer, normalize, split_words

SAMPLE_LINES = 3000  # lines per language in the parity tests


def _hf_tokenizer(vocab_file, lowercase):
    # transformers 5 silently ignores `vocab_file=` (the tokenizer ends up with 5 tokens); `vocab=` loads the file.
    transformers = requires_package("transformers")  # the parity reference; the other tests run without it
    reference = transformers.BertTokenizerFast(vocab=str(vocab_file), do_lower_case=lowercase)
    assert len(reference) > 1000, "the reference tokenizer did not load the vocabulary"
    return reference


def _hf_ids(reference, texts):
    return reference(list(texts), add_special_tokens=False)["input_ids"]


def _every_kth_line(files, count, column=None):
    """`count` non-blank lines spread evenly over all files; raw lines (CRLF keeps its "\\r")."""
    lines = []
    for path in sorted(files):
        for line in pathlib.Path(path).read_bytes().decode("utf-8").split("\n"):
            if column is not None:
                line = line.split("\t")[column]
            if line.strip():
                lines.append(line)
    step = max(1, len(lines) // count)
    return lines[::step][:count]


@pytest.fixture(scope="module")
def english(english_vocab):
    return Tokenizer(english_vocab), _hf_tokenizer(english_vocab, True)


@pytest.fixture(scope="module")
def chinese(chinese_vocab):
    return Tokenizer(chinese_vocab), _hf_tokenizer(chinese_vocab, True)


def _assert_parity(tokenizer, reference, lines, minimum=0.999):
    ours = tokenizer(lines).to_list()
    theirs = _hf_ids(reference, lines)
    assert len(ours) == len(theirs) == len(lines) > 0
    different = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    share = 1 - len(different) / len(lines)
    examples = [(lines[i][:80], reference.convert_ids_to_tokens(ours[i])[:12]) for i in different[:3]]
    assert share >= minimum, f"{share:.4%} identical; first differences: {examples}"
    return share


# --- Parity on real text ---


def test_parity_english_corpora(english, shared_data):
    files = [p for p in (shared_data / "corpus" / "en").rglob("*.txt") if not p.name.startswith("LICENSE")]
    lines = _every_kth_line(files, SAMPLE_LINES)
    assert len(lines) == SAMPLE_LINES
    # Expected 100%: no line of the full corpora differs (see the module docstring).
    assert _assert_parity(*english, lines) == 1.0


def test_parity_chinese_novels_and_reviews(chinese, shared_data):
    novels = _every_kth_line((shared_data / "corpus" / "zh" / "classical_novels").glob("*.txt"), SAMPLE_LINES // 2)
    assert any(line.endswith("\r") for line in novels), "the novels are CRLF; the sample should keep the \\r"
    reviews = _every_kth_line(
        (shared_data / "tasks" / "chnsenticorp").glob("[td]*.tsv"), SAMPLE_LINES // 2, column=0
    )
    assert (len(novels), len(reviews)) == (SAMPLE_LINES // 2, SAMPLE_LINES // 2)
    assert _assert_parity(*chinese, novels + reviews) == 1.0


def test_parity_chinese_cased(chinese_vocab, shared_data):
    reviews = _every_kth_line((shared_data / "tasks" / "chnsenticorp").glob("train.tsv"), 1000, column=0)
    assert len(reviews) == 1000
    cased = Tokenizer(chinese_vocab, lowercase=False)
    assert _assert_parity(cased, _hf_tokenizer(chinese_vocab, False), reviews) == 1.0


TRICKY_TEXTS = [
    "",
    "   \t\n ",
    "Crème brûlée, naïve café — ÅNGSTRÖM façade!",
    "ΣΊΣΥΦΟΣ ΟΔΥΣΣΕΥΣ",  # capital sigma at a word end: BERT lower-cases it to σ, not ς
    "İstanbul ǅemal ẞ ﬁne",  # dotted capital I, title-case digraph, capital sharp s, ligature
    "中文，标点。“引号”…… ²½ ①",  # the NFKD pitfall: ， … ² ½ must stay themselves
    "日本語のテキスト、カタカナ。한국어 텍스트",  # kana and hangul are not split per character
    "tab\there\u00a0nbsp\u3000ideographic\u2028line\u2029para",
    "zero\u200bwidth\ufeffbom\u00adsoft\x00nul\ufffdrepl\x07bell\x1bx\u0085nel\x0bvt\x0cff",
    "$100+tax^2 = ~5% <b>&amp;</b> {x|y} [a] @home #tag `tick` \\path",
    "e\u0301 o\u0308 combining marks; a\u0300\u0301\u0302",
    "emoji 😀👍🏽 and 🥰 (Unicode 11) and \U0001fae0 (Unicode 14)",
    "x" * 100 + " " + "y" * 101 + " " + "é" * 100 + " " + "中" * 101,
    "unaffable antidisestablishmentarianism supercalifragilisticexpialidocious",
    "Mr. O'Neill's co-op (1990s) cost $3.50/kg—really?!",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940 \u0e44\u0e17\u0e22",
]


@pytest.mark.parametrize("lowercase", [True, False])
def test_tricky_texts_match_reference(english_vocab, chinese_vocab, lowercase):
    for vocab in (english_vocab, chinese_vocab):
        tokenizer = Tokenizer(vocab, lowercase=lowercase)
        reference = _hf_tokenizer(vocab, lowercase)
        ours = tokenizer(TRICKY_TEXTS).to_list()
        theirs = _hf_ids(reference, TRICKY_TEXTS)
        assert len(ours) == len(theirs) == len(TRICKY_TEXTS)
        for text, a, b in zip(TRICKY_TEXTS, ours, theirs, strict=True):
            assert a == b, f"{text!r}: {reference.convert_ids_to_tokens(a)} != {reference.convert_ids_to_tokens(b)}"


def test_invalid_utf8_is_dropped_like_the_replacement_character(english):
    tokenizer, reference = english
    raw = b"caf\xc3 ok \xff\xfeend"
    ours = tokenizer(tf.constant([raw])).to_list()[0]
    assert ours == _hf_ids(reference, [raw.decode("utf-8", "replace")])[0]
    assert tokenizer.unk_id not in ours


def test_every_bmp_code_point_matches_hf_outside_newer_unicode():
    """Each code point between two letters, split into words, against Hugging Face's normaliser and splitter.

    The remaining differences all come from Unicode versions: BertTokenizerFast's character tables
    (the Rust `unicode_categories` crate) predate Unicode 10, while RE2/ICU in TensorFlow follow a current
    Unicode. Characters added or re-categorised since then differ, e.g. U+2E43-U+2E5D (punctuation
    added in Unicode 10-14, split by us, not by HF), U+061D (Arabic end of text mark, Unicode 14), U+166D
    (Po -> So in Unicode 12), U+1AB0 block marks added after Unicode 9 (accents stripped by us), U+2C2F and
    U+A7C0-U+A7DC (capital letters added in Unicode 14 whose lower-case forms TensorFlow's ICU lacks).
    None is used by English, Chinese or European text: the blocks asserted below have no difference at all.
    """
    tokenizers = requires_package("tokenizers")
    normalizers, pre_tokenizers = tokenizers.normalizers, tokenizers.pre_tokenizers

    code_points = [cp for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF]
    texts = ["a" + chr(cp) + "b" for cp in code_points]
    splitter = pre_tokenizers.BertPreTokenizer()
    # Latin/Greek/Cyrillic/Hebrew, punctuation and symbols, CJK and kana, hangul, compatibility and fullwidth forms.
    common_blocks = [
        (0x0000, 0x05FF), (0x2000, 0x2BFF), (0x2E00, 0x2E42), (0x3000, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFFFF)
    ]
    for lowercase in (True, False):
        normalizer = normalizers.BertNormalizer(lowercase=lowercase)
        ours = split_words(normalize(tf.constant(texts), lowercase)).to_list()
        different = []
        assert len(ours) == len(texts) == len(code_points)
        for cp, text, words in zip(code_points, texts, ours, strict=True):
            theirs = [word for word, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text))]
            if [word.decode("utf-8") for word in words] != theirs:
                different.append(cp)
        in_common_blocks = [hex(cp) for cp in different if any(lo <= cp <= hi for lo, hi in common_blocks)]
        assert not in_common_blocks, f"lowercase={lowercase}: {in_common_blocks[:20]}"
        assert len(different) < 150, f"lowercase={lowercase}: {len(different)} code points differ"


# --- The fast path for plain lines ---

# Code points beyond the BMP that are plain: the CJK ideograph extensions both tokenizers split alike.
SUPPLEMENTARY_IDEOGRAPHS = [*range(0x20000, 0x2A6E0), *range(0x2A700, 0x2B820), *range(0x2B920, 0x2CEB0)]


def _plain_code_points():
    code_points = [cp for cp in range(0x10000) if not 0xD800 <= cp <= 0xDFFF] + SUPPLEMENTARY_IDEOGRAPHS
    is_plain = Tokenizer.is_plain([chr(cp) for cp in code_points]).numpy()
    return [cp for cp, plain in zip(code_points, is_plain, strict=True) if plain]


def _is_ideograph(cp):
    return 0x3400 <= cp <= 0x9FFF or cp >= 0x20000


def test_every_plain_character_takes_the_fast_path_with_hf_ids(english_vocab, chinese_vocab):
    """Each plain character, between letters and alone: fast path == full path == BertTokenizerFast.

    All plain characters but the CJK ideographs, and every 7th ideograph (they are handled by range, alike).
    """
    plain = _plain_code_points()
    assert sum(cp < 0x80 for cp in plain) == 95 + 3  # printable ASCII, tab, newline, carriage return
    ideographs = [cp for cp in plain if _is_ideograph(cp)]
    assert len(ideographs) == (0x4DBF - 0x3400 + 1) + (0x9FFF - 0x4E00 + 1) + len(SUPPLEMENTARY_IDEOGRAPHS)
    checked = [cp for cp in plain if not _is_ideograph(cp)] + ideographs[::7]
    texts = [f"Ab{chr(cp)}cD" for cp in checked] + [chr(cp) for cp in checked]
    for vocab in (english_vocab, chinese_vocab):
        for lowercase in (True, False):
            tokenizer = Tokenizer(vocab, lowercase=lowercase)
            fast = tokenizer.tokenize_plain(texts).to_list()
            assert tokenizer.tokenize_general(texts).to_list() == fast
            theirs = _hf_ids(_hf_tokenizer(vocab, lowercase), texts)
            assert len(fast) == len(theirs) == len(texts)
            different = [texts[i] for i, (a, b) in enumerate(zip(fast, theirs, strict=True)) if a != b]
            assert not different, f"lowercase={lowercase}: {different[:10]}"


def test_characters_that_are_not_plain():
    """Characters that normalisation changes, that are not boundaries of the same kind, or that are not text."""
    texts = [
        "caf\u00e9",  # accent (NFD and strip)
        "\uff21\uff42",  # full-width letters (lower-cased)
        "\uff10",  # full-width digit: a 3-byte word character (the byte limit would differ)
        "\u2236",  # ratio sign, a math symbol: a word character
        "\U0002b820",  # ideograph that tensorflow-text splits and BertTokenizerFast does not
        "\uf900",  # compatibility ideograph (NFD maps it to U+8C48)
        "\u200b",  # format character (dropped)
        "a\x0bb",  # vertical tab (dropped)
        "\x7f",  # delete (dropped)
        "\u3000\u00a0\u2028",  # U+2028 is whitespace but not plain
    ]
    assert Tokenizer.is_plain(texts).numpy().tolist() == [False] * len(texts)
    assert Tokenizer.is_plain([b"caf\xc3 ok", b"\xff"]).numpy().tolist() == [False, False]  # invalid UTF-8
    assert Tokenizer.is_plain(["", "Plain\ttext, “quoted”—ok… 中文，。\u3000\u00a0\r\n"]).numpy().all()


def test_fast_path_matches_the_full_path_on_the_corpora(english, chinese, shared_data):
    english_files = [p for p in (shared_data / "corpus" / "en").rglob("*.txt") if not p.name.startswith("LICENSE")]
    novels = (shared_data / "corpus" / "zh" / "classical_novels").glob("*.txt")
    for (tokenizer, _), lines in ((english, _every_kth_line(english_files, SAMPLE_LINES)),
                                  (chinese, _every_kth_line(novels, SAMPLE_LINES))):
        is_plain = tokenizer.is_plain(lines).numpy()
        assert is_plain.mean() > 0.9, is_plain.mean()  # most real lines take the fast path
        plain = [line for line, flag in zip(lines, is_plain, strict=True) if flag]
        assert tokenizer.tokenize_plain(plain).to_list() == tokenizer.tokenize_general(plain).to_list()


def test_mixed_batches_keep_their_order(english):
    """Plain and other lines in any mix (and all of one kind) give each line its own ids, in order."""
    tokenizer, reference = english
    long_words = "x" * 100 + " " + "y" * 101 + ", " + "中" * 101  # the 100-character rule on the fast path
    plain = ["Hello, world!", "", long_words, "tab\there\r\n", "“Quoted”—text…"]
    other = ["Crème brûlée", "\u200bzero width", "ΣΊΣΥΦΟΣ", "x" * 100 + "é"]
    mixed = [plain[0], other[0], other[1], plain[1], plain[2], other[2], plain[3], plain[4], other[3]]
    assert tokenizer.is_plain(mixed).numpy().tolist() == [text in plain for text in mixed]
    expected = _hf_ids(reference, mixed)
    assert tokenizer(mixed).to_list() == expected
    assert tokenizer(plain).to_list() == _hf_ids(reference, plain)
    assert tokenizer(other).to_list() == _hf_ids(reference, other)
    assert [tokenizer([text]).to_list()[0] for text in mixed] == expected


# --- Behaviour ---


def test_normalisation_rules(english):
    tokenizer, _ = english
    words = tokenizer.split(["Héllo,WORLD! 中文", "", "a\x00b\u200bc\td", "x" * 101]).to_list()
    assert words == [
        [b"hello", b",", b"world", b"!", "中".encode(), "文".encode()],
        [],
        [b"abc", b"d"],
        [b"[UNK]"],
    ]
    cased = Tokenizer(tokenizer.vocab_file, lowercase=False)
    assert cased.split(["Héllo"]).to_list() == [["Héllo".encode()]]


def test_long_words_become_one_unk(english):
    tokenizer, _ = english
    ids = tokenizer(["a" * 100, "a" * 101, "中" * 101]).to_list()
    assert tokenizer.unk_id not in ids[0] and len(ids[0]) > 1
    assert ids[1] == [tokenizer.unk_id]
    assert len(ids[2]) == 101  # CJK characters are words of their own, so never "too long"


def test_input_forms_and_output_type(english):
    tokenizer, _ = english
    from_list = tokenizer(["hello world", "x"])
    assert isinstance(from_list, tf.RaggedTensor) and from_list.dtype == tf.int32
    assert from_list.shape[0] == 2
    assert tokenizer("hello world").to_list() == from_list.to_list()[:1]
    assert tokenizer.tokenize(tf.constant(["hello world", "x"])).to_list() == from_list.to_list()
    assert tokenizer([]).shape[0] == 0
    with pytest.raises(InputError, match="shape"):
        tokenizer(tf.constant([["a", "b"]]))


def test_special_ids_vocab_and_hash(english, english_vocab):
    tokenizer, _ = english
    lines = english_vocab.read_text(encoding="utf-8").split("\n")
    for name in ("pad", "unk", "cls", "sep", "mask"):
        assert getattr(tokenizer, f"{name}_id") == lines.index(f"[{name.upper()}]")
    assert tokenizer.vocab_size == len(tokenizer.vocab) == len(lines) - 1
    assert tokenizer.vocab_hash == hashlib.sha256(english_vocab.read_bytes()).hexdigest()
    assert tokenizer.token_to_id("##s") == lines.index("##s")
    assert "lowercase=True" in repr(tokenizer)


def test_id_to_token_and_detokenize(english):
    tokenizer, _ = english
    ids = tokenizer(["Unaffable café!", "hi"])
    tokens = tokenizer.id_to_token(ids).to_list()
    assert tokens[0][0] + tokens[0][1] == b"una##ffa" and tokens[1] == [b"hi"]
    packed = tokenizer.pack(ids, seq_length=12)["input_word_ids"]
    text = tokenizer.detokenize(packed).numpy().tolist()
    assert text == [b"unaffable cafe !", b"hi"]
    assert tokenizer.detokenize([[tokenizer.mask_id, tokenizer.unk_id]]).numpy().tolist() == [b"[MASK] [UNK]"]


def test_usable_in_tf_function_and_tf_data(english):
    tokenizer, _ = english

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def encode(texts):
        return tokenizer.pack(tokenizer(texts), seq_length=8)

    eager = tokenizer.pack(tokenizer(["A café, please.", "no"]), seq_length=8)
    traced = encode(tf.constant(["A café, please.", "no"]))
    for key in eager:
        assert traced[key].shape == (2, 8)
        assert traced[key].numpy().tolist() == eager[key].numpy().tolist()
    dataset = tf.data.Dataset.from_tensor_slices(["A café, please.", "no"]).batch(2).map(encode)
    batch = next(iter(dataset))
    assert batch["input_word_ids"].numpy().tolist() == eager["input_word_ids"].numpy().tolist()


# Ops of TF Text that TF Serving 2.12+ links in; anything else outside core TF would not load there.
SERVING_TF_TEXT_OPS = {"NormalizeUTF8", "RegexSplitWithOffsets", "FastWordpieceTokenizeWithOffsets"}


def _op_types(graph):
    types = {op.type for op in graph.get_operations()}
    for function in graph.as_graph_def().library.function:
        types |= {node.op for node in function.node_def}
    return types


def test_saved_model_round_trip_uses_only_serving_ops(english, tmp_path):
    tokenizer, _ = english
    module = tf.Module()
    module.tokenizer = tokenizer
    module.encode = tf.function(
        lambda a, b: tokenizer.pack(tokenizer(a), tokenizer(b), seq_length=16),
        input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)],
    )
    graph = module.encode.get_concrete_function().graph
    outside_core = {op for op in _op_types(graph) if not hasattr(tf.raw_ops, op)}
    assert outside_core <= SERVING_TF_TEXT_OPS, outside_core - SERVING_TF_TEXT_OPS
    assert not {"RoundRobinTrimmer", "WaterfallTrimmer", "PyFunc", "EagerPyFunc"} & _op_types(graph)

    tf.saved_model.save(module, str(tmp_path / "model"), signatures={"serving_default": module.encode})
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    a, b = tf.constant(["Héllo there, WORLD!"]), tf.constant(["中文 text"])
    served = loaded.signatures["serving_default"](a=a, b=b)
    expected = module.encode(a, b)
    for key in expected:
        assert served[key].numpy().tolist() == expected[key].numpy().tolist()


# --- Bad vocabularies ---


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "No such vocabulary file"),
        (b"", "is empty"),
        (b"\n \n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"[PAD]\n\xff\xfe\n", "not UTF-8"),
        (b"[PAD]\n[UNK]\n[CLS]\nhello\n", r"lacks the reserved token\(s\) \[SEP\] \[MASK\]"),
    ],
)
def test_bad_vocabulary_files(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        Tokenizer(path)
    assert str(path) in str(error.value)


def test_docstring_examples():
    import doctest

    from electra_tf import input_packing, tokenization

    for module in (tokenization, input_packing):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
