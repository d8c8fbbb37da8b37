"""Corpus reading: paths, layouts, repairs and their counts, Gutenberg markers, bad input."""

import gzip

import pytest

from electra_tf.data import corpus as corpus_module
from electra_tf.data.corpus import CorpusOptions, CorpusReader, detect_format, resolve_corpus_paths
from electra_tf.data.sentences import split_long_text, split_sentences
from electra_tf.errors import InputError


def read(paths, **options):
    """(sentences, document ends as global indices, stats) of a corpus."""
    reader = CorpusReader(paths, CorpusOptions(**options))
    sentences, ends = [], []
    for block in reader.blocks():
        ends += [len(sentences) + index for index in block.document_ends]
        sentences += block.sentences
    return sentences, ends, reader.stats


def test_sentences_layout_blank_lines_end_documents(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("One.\nTwo.\n\n\n   \nThree.\n", encoding="utf-8")
    sentences, ends, stats = read([path], corpus_format="sentences")
    assert sentences == ["One.", "Two.", "Three."]
    assert ends == [1, 2]
    assert (stats.documents, stats.sentences, stats.lines) == (2, 3, 6)


def test_crlf_bom_and_lone_cr_are_repaired_and_counted(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("\ufeffFirst line.\r\nSecond line.\r\n\r\nOld mac.\rEnd.".encode("utf-8"))
    sentences, ends, stats = read([path], corpus_format="sentences")
    assert sentences == ["First line.", "Second line.", "Old mac.", "End."]
    assert ends == [1, 3]
    assert stats.repaired == {"byte_order_marks": 1, "crlf_line_endings": 3, "cr_line_endings": 1}


def test_invalid_utf8_is_replaced_and_counted_per_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait.\nplain line.\nna\xefve \xff.\n")
    sentences, _, stats = read([path], corpus_format="sentences")
    assert sentences == ["caf\ufffd au lait.", "plain line.", "na\ufffdve \ufffd."]
    assert stats.repaired["invalid_utf8_lines"] == 2


def test_gzip_reads_like_plain_text(tmp_path):
    text = "Alpha one.\nAlpha two.\n\nBeta one.\n"
    (tmp_path / "plain.txt").write_text(text, encoding="utf-8")
    with gzip.open(tmp_path / "packed.txt.gz", "wt", encoding="utf-8") as stream:
        stream.write(text)
    plain = read([tmp_path / "plain.txt"], corpus_format="sentences")
    packed = read([tmp_path / "packed.txt.gz"], corpus_format="sentences")
    assert plain[:2] == packed[:2]


def test_long_lines_are_cut_and_counted(tmp_path):
    path = tmp_path / "long.txt"
    long_line = " ".join(["word"] * 500)  # 2,499 characters
    path.write_text(f"Short.\n{long_line}\n", encoding="utf-8")
    sentences, _, stats = read([path], corpus_format="sentences", max_line_chars=1000)
    assert stats.repaired["long_lines_split"] == 1
    assert sentences[0] == "Short."
    assert [len(piece) for piece in sentences[1:]] == [999, 999, 499]
    assert " ".join(sentences[1:]) == long_line  # nothing lost


def test_block_boundaries_do_not_change_the_result(tmp_path, monkeypatch, shared_data):
    files = [shared_data / "corpus/en/gutenberg_raw/11-0.txt", shared_data / "corpus/en/gutenberg_sentences/blake-poems.txt"]
    extra = tmp_path / "docs.txt"
    extra.write_text("A.\nB.\n\nC.\n\n\nD.\nE.\n" * 200, encoding="utf-8")
    expected = read(files + [extra])
    monkeypatch.setattr(corpus_module, "_BLOCK_BYTES", 7)  # blocks end at nearly every line
    assert read(files + [extra])[:2] == expected[:2]


def test_gutenberg_header_and_footer_are_stripped_and_counted(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(
        "The Project Gutenberg eBook of X\nLicence blah.\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n"
        "It was a dark night.\n\n*** END OF THE PROJECT GUTENBERG EBOOK X ***\nMore licence.\nAnd more.\n",
        encoding="utf-8",
    )
    sentences, _, stats = read([path], strip_gutenberg=True)
    assert sentences == ["It was a dark night."]
    assert stats.skipped == {"gutenberg_header_lines": 3, "gutenberg_footer_lines": 3}
    assert stats.gutenberg_files == 1
    kept, _, kept_stats = read([path])
    assert "Licence blah." in kept and kept_stats.gutenberg_files == 1 and not kept_stats.skipped


def test_layout_detection_on_real_corpora(shared_data):
    en = shared_data / "corpus/en"
    _, _, stats = read([en / "gutenberg_sentences/carroll-alice.txt", en / "gutenberg_raw/11-0.txt"])
    assert [entry["format"] for entry in stats.files] == ["sentences", "wrapped"]
    # One paragraph a line with a blank line after each (CRLF): blank lines separate paragraphs there.
    _, ends, zh_stats = read([shared_data / "corpus/zh/classical_novels/hongloumeng.txt"])
    assert zh_stats.files[0]["format"] == "wrapped" and len(ends) == 1
    assert zh_stats.repaired["crlf_line_endings"] == zh_stats.lines


def test_wrapped_paragraphs_are_joined_and_split_into_sentences(tmp_path):
    path = tmp_path / "wrapped.txt"
    path.write_text("It was the best of times, it was\nthe worst of times. Mr. Lorry\nsmiled.\n\nNew paragraph here.\n")
    sentences, ends, _ = read([path])
    assert sentences == ["It was the best of times, it was the worst of times.", "Mr. Lorry smiled.", "New paragraph here."]
    assert ends == [2]


def test_detect_format_paragraph_lines():
    lines = ["First sentence here. Second one follows. A third.", "Another paragraph. With two sentences."] * 5
    assert detect_format(lines + [""] + lines) == "paragraphs"


def test_split_sentences_rules():
    assert split_sentences('He said "Stop!" Then he left. Dr. Watson agreed. J. R. R. Tolkien wrote it.') == [
        'He said "Stop!"',
        "Then he left.",
        "Dr. Watson agreed.",
        "J. R. R. Tolkien wrote it.",
    ]
    assert split_sentences("It cost 3.5 dollars. e.g. this stays. 42 is the answer.") == [
        "It cost 3.5 dollars. e.g. this stays.",
        "42 is the answer.",
    ]
    assert split_sentences("他来了。她走了！") == ["他来了。", "她走了！"]
    assert split_long_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_paths_folders_and_globs(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b.txt", "sub/a.txt", "sub/c.gz", "notes.md", ".hidden/x.txt"):
        (tmp_path / name).write_bytes(b"")
    found = resolve_corpus_paths([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["b.txt", "sub/a.txt", "sub/c.gz"]
    assert resolve_corpus_paths([str(tmp_path / "sub" / "*.txt")]) == [(tmp_path / "sub/a.txt").resolve()]
    assert resolve_corpus_paths([tmp_path / "notes.md"]) == [(tmp_path / "notes.md").resolve()]  # named: any suffix


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.txt", "No such corpus path"),
        (lambda d: str(d / "*.nothing"), "matches no files"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "contains no .txt/.text/.gz files"),
    ],
)
def test_bad_paths_raise_one_line(tmp_path, make, message):
    with pytest.raises(InputError, match=message) as error:
        CorpusReader([make(tmp_path)])
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.txt", "looks like a binary file"),
        ("text".encode("utf-16"), "wide.txt", "is UTF-16 text"),
        (b"not gzip at all", "broken.gz", "is not gzip data"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt.gz", "Cannot read"),
        (b"\n \n\t\n", "blank.txt", "The corpus is empty"),
    ],
)
def test_bad_files_raise_one_line(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        read([path])
    assert "\n" not in str(error.value)
