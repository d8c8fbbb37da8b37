"""Fine-tuning readers and task presets: every format on small files written here (each error path raises
InputError naming FILE:LINE), and the real CoLA, ChnSentiCorp and XQuAD files of ../shared/data."""

import json

import pytest

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import Answer, ClassificationExample
from electra_tf.finetuning.readers import (
    collect_labels,
    read_classification_file,
    read_conll,
    read_delimited,
    read_jsonl,
    read_squad,
)
from electra_tf.finetuning.task_presets import PRESETS, get_preset, read_preset_file


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- Delimited files ---


def test_tsv_with_header_by_name_and_pair(tmp_path):
    path = write(tmp_path, "train.tsv", 'id\ts1\ts2\tlabel\n7\tHe said "hi\tok\t1\n8\tb\tc\t0\n\n')
    examples = read_delimited(path, text_column="s1", text_pair_column="s2", label_column="label")
    # TSV has no quoting (GLUE's _read_tsv): the lone " stays in the text.
    assert examples == [
        ClassificationExample('He said "hi', "ok", "1", f"{path}:2"),
        ClassificationExample("b", "c", "0", f"{path}:3"),
    ]
    assert collect_labels(examples) == ["0", "1"]


def test_no_header_columns_by_index_as_int_or_string(tmp_path):
    path = write(tmp_path, "cola.tsv", "gj04\t1\t\tGood.\ngj04\t0\t*\tBad good.\n")
    by_int = read_delimited(path, text_column=3, label_column=1, header=False)
    by_str = read_delimited(path, text_column="3", label_column="1", header=False)
    assert by_int == by_str
    expected = [("Good.", "1", f"{path}:1"), ("Bad good.", "0", f"{path}:2")]
    assert [(e.text_a, e.label, e.source) for e in by_int] == expected


def test_csv_quoting_and_multiline_rows_keep_their_first_line(tmp_path):
    path = write(tmp_path, "data.csv", 'text,label\n"a, b",x\n"line one\nline two",y\nplain,x\n')
    examples = read_classification_file(path, text_column="text", label_column="label")
    assert [e.text_a for e in examples] == ["a, b", "line one\nline two", "plain"]
    assert [e.source.rsplit(":", 1)[1] for e in examples] == ["2", "3", "5"]


def test_regression_labels_must_be_numbers(tmp_path):
    good = write(tmp_path, "sts.tsv", "a\tb\tscore\nx\ty\t3.8\n")
    (example,) = read_delimited(good, text_column="a", text_pair_column="b", label_column="score", regression=True)
    assert example.label == "3.8"
    bad = write(tmp_path, "bad.tsv", "a\tb\tscore\nx\ty\t3.8\nx\ty\thigh\n")
    with pytest.raises(InputError, match=rf"{bad}:3: regression label 'high' is not a number"):
        read_delimited(bad, text_column="a", text_pair_column="b", label_column="score", regression=True)
    nan = write(tmp_path, "nan.tsv", "a\tscore\nx\tnan\n")
    with pytest.raises(InputError, match=rf"{nan}:2: .*not a finite number"):
        read_delimited(nan, text_column="a", label_column="score", regression=True)


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("s\tl\nok\t1\nshort\n", {"text_column": "s", "label_column": "l"}, r":3: the row has 1 field\(s\)"),
        ("s\tl\nok\t\n", {"text_column": "s", "label_column": "l"}, r":2: the label \(column 1\) is empty"),
        ("s\tl\nok\t2\n", {"text_column": "s", "label_column": "l", "labels": ["0", "1"]},
         r":2: unknown label '2'. Known labels: '0', '1'"),
        ("s\tl\nok\t1\n", {"text_column": "sentence", "label_column": "l"},
         r":1: the text column 'sentence' is not in the header. Expected one of \['s', 'l'\]"),
        ("ok\t1\n", {"text_column": "s", "label_column": 1, "header": False}, r"read without a header"),
        ("s\tl\n", {"text_column": "s", "label_column": "l"}, r"no data rows after the header"),
        ("  \n\n", {"text_column": 0}, r"the file is empty"),
    ],
)
def test_delimited_errors_name_file_and_line(tmp_path, text, kwargs, message):
    path = write(tmp_path, "bad.tsv", text)
    with pytest.raises(InputError, match=message) as error:
        read_delimited(path, **kwargs)
    assert path in str(error.value)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="No such file"):
        read_delimited(str(tmp_path / "absent.tsv"), text_column=0)
    path = tmp_path / "latin.tsv"
    path.write_bytes(b"ok\t1\ncaf\xe9\t0\n")
    with pytest.raises(InputError, match=rf"{path}:2: not UTF-8"):
        read_delimited(str(path), text_column=0, header=False)


# --- JSON Lines ---


def test_jsonl_fields_and_numeric_labels(tmp_path):
    lines = [
        {"sentence1": "花呗", "sentence2": "借呗", "label": "1"},
        {"sentence1": "a", "sentence2": "b", "label": 0},
    ]
    path = write(tmp_path, "afqmc.json", "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    examples = read_jsonl(path, text_field="sentence1", text_pair_field="sentence2", label_field="label")
    assert examples == [
        ClassificationExample("花呗", "借呗", "1", f"{path}:1"),
        ClassificationExample("a", "b", "0", f"{path}:2"),
    ]
    columns = {"text_column": "sentence1", "text_pair_column": "sentence2", "label_column": "label"}
    assert read_classification_file(path, **columns) == examples


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"sentence": "x"', r":2: not a JSON object"),
        ('["x", 1]', r":2: expected a JSON object, received a list"),
        ('{"text": "x", "label": "1"}', r":2: no field 'sentence'"),
        ('{"sentence": 5, "label": "1"}', r":2: field 'sentence' should be a string"),
        ('{"sentence": "x", "label": "9"}', r":2: unknown label '9'"),
        ('{"sentence": "x", "label": null}', r":2: label field 'label' should be a string or number"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, line, message):
    path = write(tmp_path, "bad.json", '{"sentence": "ok", "label": "1"}\n' + line + "\n")
    with pytest.raises(InputError, match=message):
        read_jsonl(path, text_field="sentence", label_field="label", labels=["0", "1"])


# --- SQuAD-format JSON ---


def squad_file(tmp_path, qas, context="The Broncos won Super Bowl 50 in 2016."):
    document = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}
    return write(tmp_path, "squad.json", json.dumps(document, ensure_ascii=False))


def test_squad_v2_with_impossible_questions(tmp_path):
    path = squad_file(
        tmp_path,
        [
            {"id": "q1", "question": "Who won?", "answers": [{"text": "Broncos", "answer_start": 4}]},
            {"id": "q2", "question": "Who lost?", "answers": [], "is_impossible": True,
             "plausible_answers": [{"text": "Broncos", "answer_start": 4}]},
        ],
    )
    squad = read_squad(path)
    assert squad.version_2_with_negative and squad.version == "v2.0"
    assert squad.examples[0].answers == (Answer("Broncos", 4),) and squad.examples[0].source == f"{path}:0/0/0"
    assert squad.examples[1].is_impossible and squad.examples[1].answers == ()
    assert (squad.answer_check.checked, squad.answer_check.exact) == (1, 1)


def test_squad_misplaced_answers_are_repaired_or_dropped_and_reported(tmp_path):
    path = squad_file(
        tmp_path,
        [
            {"id": "q1", "question": "Who?", "answers": [{"text": "Broncos", "answer_start": 3}]},  # off by one
            {"id": "q2", "question": "When?", "answers": [{"text": "1999", "answer_start": 33},
                                                          {"text": "2016", "answer_start": 33}]},
            {"id": "q3", "question": "What?", "answers": [{"text": "Patriots", "answer_start": 4}]},
        ],
    )
    squad = read_squad(path)
    check = squad.answer_check
    assert [e.qid for e in squad.examples] == ["q1", "q2"]
    assert squad.examples[0].answers == (Answer("Broncos", 4),)
    assert squad.examples[1].answers == (Answer("2016", 33),)
    assert (check.checked, check.exact, len(check.repaired), len(check.dropped)) == (4, 1, 1, 3)
    assert check.summary() == "4 answers checked: 1 at their answer_start, 1 repaired, 3 dropped"
    assert any("q3" in reason and "dropped" in reason for reason in check.dropped)
    with pytest.raises(InputError, match=rf"{path}:0/0/0 answer 0: answer 'Broncos' is not at answer_start 3"):
        read_squad(path, on_mismatch="error")


@pytest.mark.parametrize(
    "document, message",
    [
        ({"data": [{"paragraphs": [{"qas": []}]}]}, r"data\[0\].paragraphs\[0\] has no 'context' field"),
        ({"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q", "answers": []}]}]}]},
         r"data\[0\].paragraphs\[0\].qas\[0\] has no 'question' field"),
        (
            {"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q", "question": "?"}] * 2}]}]},
            r":0/0/1: question id 'q' was already used",
        ),
        ({"data": []}, r"no questions"),
        ({"nodata": []}, r"has no 'data' field"),
    ],
)
def test_squad_structure_errors(tmp_path, document, message):
    path = write(tmp_path, "bad.json", json.dumps(document))
    with pytest.raises(InputError, match=message):
        read_squad(path)


def test_squad_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, "bad.json", '{"data": [\n  {"paragraphs": [}\n]}')
    with pytest.raises(InputError, match=rf"{path}:2: not valid JSON"):
        read_squad(path)


# --- CoNLL ---


CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
-DOCSTART- -X- -X- O
Blackburn NNP B-NP I-PER
"""


def test_conll_sentences_docstart_and_tag_column(tmp_path):
    path = write(tmp_path, "eng.train", CONLL)
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [("EU", "rejects", "German"), ("Peter",), ("Blackburn",)]
    assert [s.tags for s in sentences] == [("B-ORG", "O", "B-MISC"), ("B-PER",), ("I-PER",)]
    assert [s.source for s in sentences] == [f"{path}:3", f"{path}:7", f"{path}:9"]
    assert read_conll(path, tag_column=1)[0].tags == ("NNP", "VBZ", "JJ")
    assert read_conll(path, tag_column=-2)[0].tags == ("B-NP", "B-VP", "B-NP")
    assert read_conll(path, labelled=False)[0].tags is None


def test_conll_tab_delimiter_keeps_spaces_in_tokens(tmp_path):
    path = write(tmp_path, "zh.tsv", "北 京\tB-LOC\n大\tI-LOC\n")
    assert read_conll(path, delimiter="\t")[0].words == ("北 京", "大")


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("EU B-ORG\nrejects\n", {}, r":2: the row 'rejects' does not split into a token and a tag"),
        ("EU NNP B-ORG\nrejects O\n", {"tag_column": 2}, r":2: the row 'rejects O' does not split"),
        ("EU B-ORG\nrejects X-TAG\n", {"tags": ["O", "B-ORG"]}, r":2: unknown tag 'X-TAG'. Known tags: 'O', 'B-ORG'"),
        ("-DOCSTART- O\n\n\n", {}, r"no sentences"),
        ("\n\n", {}, r"the file is empty"),
    ],
)
def test_conll_errors_name_file_and_line(tmp_path, text, kwargs, message):
    path = write(tmp_path, "bad.conll", text)
    with pytest.raises(InputError, match=message):
        read_conll(path, **kwargs)
    with pytest.raises(InputError, match="tag_column"):
        read_conll(path, tag_column=0)


# --- Presets ---


def test_every_preset_reads_a_file_in_its_benchmark_layout(tmp_path):
    files = {
        "cola": "gj04\t1\t\tThe sailors rode.\n",
        "sst2": "sentence\tlabel\nhide new secretions\t0\n",
        "mrpc": "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tHe said.\tHe says.\n",
        "qqp": "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\tWhy?\tHow?\t0\n",
        "stsb": "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                "0\tmain\tf\t2012\t1\tnone\tnone\tA plane.\tAn airplane.\t5.000\n",
        "mnli": "index\tpromptID\tpairID\tgenre\tb1\tb2\tp1\tp2\tsentence1\tsentence2\tlabel1\tgold_label\n"
                "0\t1\t2\tgov\t(\t(\t(\t(\tPremise.\tHypothesis.\tneutral\tneutral\n",
        "qnli": "index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tentailment\n",
        "rte": "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tnot_entailment\n",
        "tnews": '{"label": "102", "label_desc": "news_entertainment", "sentence": "新闻", "keywords": ""}\n',
        "afqmc": '{"sentence1": "花呗", "sentence2": "借呗", "label": "0"}\n',
        "chnsenticorp": "房间太小。\tnegative\n",
    }
    presets = {name: preset for group in PRESETS.values() for name, preset in group.items()}
    assert sorted(presets) == sorted(files)
    for name, text in files.items():
        preset = presets[name]
        path = write(tmp_path, f"{name}.{'json' if preset.file_format == 'jsonl' else 'tsv'}", text)
        (example,) = read_preset_file(preset, path)
        assert example.text_a and (example.text_b is not None) == (preset.text_pair_column is not None), name
        if preset.task == "regression":
            assert preset.labels is None and preset.num_labels == 1 and example.label == "5.000"
        else:
            assert example.label in preset.labels
    assert get_preset("GLUE", "SST-2").name == "sst2"
    assert get_preset("clue", "tnews").num_labels == 15
    with pytest.raises(InputError, match="Unknown GLUE task 'wnli'"):
        get_preset("glue", "wnli")
    with pytest.raises(InputError, match="Unknown benchmark"):
        get_preset("superglue", "boolq")


def test_preset_rejects_labels_outside_its_list(tmp_path):
    path = write(tmp_path, "sst2.tsv", "sentence\tlabel\ngood\t2\n")
    with pytest.raises(InputError, match=rf"{path}:2: unknown label '2'. Known labels: '0', '1'"):
        read_preset_file(get_preset("glue", "sst2"), path)


# --- The real files of ../shared/data ---


def test_real_cola_and_chnsenticorp(shared_data):
    cola = get_preset("glue", "cola")
    counts = {}
    for name in ("in_domain_train", "in_domain_dev", "out_of_domain_dev"):
        examples = read_preset_file(cola, shared_data / "tasks" / "cola" / f"{name}.tsv")
        counts[name] = len(examples)
        assert collect_labels(examples) == ["0", "1"]
    assert counts == {"in_domain_train": 8551, "in_domain_dev": 527, "out_of_domain_dev": 516}
    chn = get_preset("clue", "chnsenticorp")
    folder = shared_data / "tasks" / "chnsenticorp"
    train, dev = read_preset_file(chn, folder / "train.tsv"), read_preset_file(chn, folder / "dev.tsv")
    assert (len(train), len(dev)) == (9600, 1200)
    assert collect_labels(train) == list(chn.labels) == (folder / "labels.txt").read_text().split()
    test = read_delimited(folder / "test.tsv", text_column="text_a", header=True)
    assert len(test) == 1200 and test[0].label is None


@pytest.mark.parametrize("language", ["en", "zh"])
def test_real_xquad(shared_data, language):
    squad = read_squad(shared_data / "tasks" / "xquad" / f"xquad.{language}.json")
    assert len(squad.examples) == 1190 and not squad.version_2_with_negative
    assert squad.answer_check.summary() == "1190 answers checked: 1190 at their answer_start, 0 repaired, 0 dropped"
    for example in squad.examples:
        for answer in example.answers:
            assert example.context[answer.char_start : answer.char_start + len(answer.text)] == answer.text
