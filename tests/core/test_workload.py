"""Workload: the default corpus, --texts files, the calibration split and token-length statistics."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_python
from tui.core import workload
from tui.core.workload import (
    TokenStats,
    WorkloadError,
    default_corpus,
    load_texts,
    looks_like_prose,
    make_workload,
    read_text_file,
    token_stats,
)

BASIC_PUNCTUATION = set(" .,;:'\"()-?!")


def content(text: str) -> str:
    """What "the same text" means for disjointness: case and spacing ignored."""
    return " ".join(text.casefold().split())


def write(tmp_path, name: str, data: str | bytes):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def numbered_lines(count: int, prefix: str = "Sentence number") -> str:
    return "\n".join(f"{prefix} {i} of the file." for i in range(count)) + "\n"


# ---------------------------------------------------------------------------------------------- corpus


def test_default_corpus_has_at_least_600_sentences():
    assert len(default_corpus()) >= 600


def test_default_corpus_has_no_duplicates_ignoring_case():
    corpus = default_corpus()
    assert len({sentence.casefold() for sentence in corpus}) == len(corpus)


def test_every_corpus_sentence_reads_like_prose():
    # Checks the documented rules directly rather than calling the filter under test.
    for sentence in default_corpus():
        words = sentence.split()
        assert 6 <= len(words) <= 40, sentence
        assert sentence[0].isupper() and sentence.endswith("."), sentence
        assert ">>>" not in sentence and "`" not in sentence, sentence
        assert not re.search(r":[a-z]+:", sentence), sentence
        assert sentence == " ".join(words), f"whitespace not normalised: {sentence!r}"
        prose = sum(1 for char in sentence if char.isalpha() or char in BASIC_PUNCTUATION)
        assert prose >= 0.8 * len(sentence), sentence


def test_default_corpus_is_identical_on_every_call_and_callers_cannot_change_it():
    first = default_corpus()
    first.clear()
    assert default_corpus() == default_corpus() != []


@pytest.fixture
def fake_stdlib(monkeypatch):
    """Corpus built from given sentences per module; the real cached corpus is restored afterwards."""
    def install(sentences_by_module: dict[str, list[str]]) -> None:
        monkeypatch.setattr(workload, "CORPUS_MODULES", tuple(sentences_by_module))
        monkeypatch.setattr(workload, "_module_sentences", lambda name: iter(sentences_by_module[name]))
        workload._corpus.cache_clear()

    yield install
    workload._corpus.cache_clear()


def test_corpus_drops_duplicates_that_differ_only_in_case(fake_stdlib):
    fake_stdlib({"a": ["Open the file for reading now.", "Close it when done please."],
                 "b": ["OPEN THE FILE FOR READING NOW.", "Close it when done please."]})
    assert sorted(s.casefold() for s in default_corpus()) == ["close it when done please.",
                                                             "open the file for reading now."]


def test_corpus_order_does_not_depend_on_module_order(fake_stdlib):
    sentences = {f"m{i}": [f"Sentence {i} is about topic number {i}."] for i in range(30)}
    fake_stdlib(sentences)
    forward = default_corpus()
    fake_stdlib(dict(reversed(sentences.items())))
    assert default_corpus() == forward != sorted(forward)  # same order, and shuffled rather than sorted


def _corpus_digest_in_subprocess(hash_seed: str) -> str:
    code = (
        "import hashlib, json\n"
        "from tui.core.workload import default_corpus\n"
        "print(hashlib.sha256(json.dumps(default_corpus()).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_default_corpus_is_identical_across_processes_with_different_hash_seeds():
    import hashlib

    here = hashlib.sha256(json.dumps(default_corpus()).encode()).hexdigest()
    assert _corpus_digest_in_subprocess("1") == _corpus_digest_in_subprocess("2") == here


def test_building_the_corpus_is_fast_and_imports_none_of_the_modules_it_reads():
    code = (
        "import sys, time\n"
        "from tui.core import workload\n"
        "start = time.perf_counter(); workload.default_corpus(); elapsed = time.perf_counter() - start\n"
        "print(elapsed)\n"
        "print(sorted(m for m in ('smtplib', 'mailbox', 'http.server', 'difflib', 'tarfile') if m in sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    elapsed, imported = result.stdout.split("\n", 1)
    assert float(elapsed) < 1.5  # ~0.13 s on a laptop; generous for a loaded CI runner
    assert imported.strip() == "[]"


def test_corpus_falls_back_to_imported_docstrings_when_sources_are_missing():
    code = (
        "from tui.core import workload\n"
        "workload._stdlib_source = lambda name: None\n"
        "print(len(workload.default_corpus()))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 600


@pytest.mark.parametrize("sentence", [
    "Return the number of items in the queue.",
    "If the stream has an 'encoding' attribute, it is used to determine how to write to it.",
])
def test_prose_filter_keeps_plain_sentences(sentence):
    assert looks_like_prose(sentence)


@pytest.mark.parametrize("sentence", [
    "Too short to keep.",
    "this one starts with a lowercase letter and is long enough.",
    "This one is long enough but has no full stop at the end",
    "Call :func:`shutil.copy` to copy the file somewhere else.",
    ">>> print(value) prints the value of the variable here.",
    "Returns: the parsed value of the header as a string.",
    "Set x = compute(a, b) before you call the function below.",
    "Pass the value in self.__dict__ for the instance state here.",
    "Use 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 as the values.",
    "An unbalanced (parenthesis starts here but never ends ok.",
    " ".join(["Word"] * 41) + ".",
])
def test_prose_filter_rejects_code_markup_and_fragments(sentence):
    assert not looks_like_prose(sentence)


# -------------------------------------------------------------------------------------------- workload


def test_default_workload_has_the_asked_sizes_and_names_its_source():
    result = make_workload()
    assert (len(result.texts), len(result.calibration)) == (256, 300)
    assert re.fullmatch(r"default corpus \(\d+ sentences from the Python 3\.\d+ standard library\)", result.source)
    assert result.warnings == ()


def test_calibration_never_overlaps_the_measured_texts():
    result = make_workload(300, n_calibration=200)
    assert not {content(t) for t in result.texts} & {content(t) for t in result.calibration}


def test_same_seed_gives_same_workload_and_another_seed_another():
    assert make_workload(50, seed=3) == make_workload(50, seed=3)
    assert make_workload(50, seed=3).texts != make_workload(50, seed=4).texts


def test_fingerprint_follows_the_measured_texts():
    assert make_workload(20, seed=1).fingerprint == make_workload(20, seed=1).fingerprint
    assert make_workload(20, seed=1).fingerprint != make_workload(20, seed=2).fingerprint
    assert workload.fingerprint(["a b"]) != workload.fingerprint(["a", "b"])
    assert re.fullmatch(r"[0-9a-f]{12}", make_workload(5).fingerprint)


def test_asking_for_more_than_the_corpus_uses_it_once_without_repeats():
    corpus_size = len(default_corpus())
    result = make_workload(corpus_size + 10, n_calibration=5)
    assert len(result.texts) == corpus_size == len(set(result.texts))
    assert result.calibration == ()
    assert any("measuring all" in warning for warning in result.warnings)


def test_a_large_file_supplies_texts_and_calibration_in_file_order(tmp_path):
    path = write(tmp_path, "big.txt", numbered_lines(400))
    lines = load_texts(path)
    result = make_workload(100, texts_file=path, n_calibration=30)
    assert (len(result.texts), len(result.calibration)) == (100, 30)
    assert set(result.calibration) <= set(lines)
    assert not set(result.texts) & set(result.calibration)
    assert list(result.texts) == sorted(result.texts, key=lines.index)
    assert result.source == str(path)
    assert result.warnings == ()


def test_a_small_file_is_used_whole_and_calibration_comes_from_the_corpus_disjoint_by_content(tmp_path):
    borrowed = default_corpus()[:40]  # corpus sentences in the file, in other case and spacing
    path = write(tmp_path, "small.txt", "\n".join("  " + s.upper().replace(" ", "   ") for s in borrowed))
    result = make_workload(256, texts_file=path, n_calibration=64)
    assert len(result.texts) == 40 == len(set(result.texts))
    assert len(result.calibration) == 64
    assert not {content(t) for t in result.texts} & {content(t) for t in result.calibration}
    assert any("has 40 texts (asked for 256)" in w for w in result.warnings)
    assert any("calibration texts come from the default corpus" in w for w in result.warnings)


def test_a_file_between_n_texts_and_n_texts_plus_calibration_calibrates_on_the_corpus(tmp_path):
    path = write(tmp_path, "medium.txt", numbered_lines(300))
    result = make_workload(256, texts_file=path, n_calibration=64)
    assert len(result.texts) == 256
    assert set(result.calibration) <= set(default_corpus())


def test_repeated_lines_in_a_file_never_reach_calibration(tmp_path):
    path = write(tmp_path, "repeats.txt", "The same line appears again and again here.\n" * 50)
    result = make_workload(10, texts_file=path, n_calibration=5)
    assert "The same line appears again and again here." not in result.calibration
    assert len(result.calibration) == 5


def test_a_one_line_file_gives_one_text(tmp_path):
    result = make_workload(256, texts_file=write(tmp_path, "one.txt", "Just this.\n"))
    assert result.texts == ("Just this.",)


def test_file_warnings_reach_the_workload(tmp_path):
    path = write(tmp_path, "bad.txt", b"fine line\nbroken \xff line\n")
    result = make_workload(2, texts_file=path, n_calibration=0)
    assert "1 line had invalid UTF-8 (replaced)" in result.warnings


@pytest.mark.parametrize(("n_texts", "n_calibration"), [(0, 64), (-1, 64), (10, -1)])
def test_impossible_sizes_are_workload_errors(n_texts, n_calibration):
    with pytest.raises(WorkloadError):
        make_workload(n_texts, n_calibration=n_calibration)


# ------------------------------------------------------------------------------------------ text files


def test_txt_skips_blank_lines_and_strips_crlf_and_spaces(tmp_path):
    path = write(tmp_path, "t.txt", "first text\r\n\r\n   \r\n  second text  \r\nthird\rfourth\n")
    assert load_texts(path) == ["first text", "second text", "third", "fourth"]


def test_txt_drops_a_utf8_bom_and_keeps_unicode(tmp_path):
    path = write(tmp_path, "bom.txt", "\ufeffCafé crème\nnaïve\u2028still one line\n")
    assert load_texts(path) == ["Café crème", "naïve\u2028still one line"]


def test_unknown_extension_is_read_as_txt(tmp_path):
    path = write(tmp_path, "notes.md", "# heading\nsome text\n")
    assert load_texts(path) == ["# heading", "some text"]


def test_jsonl_reads_the_text_field(tmp_path):
    lines = [json.dumps({"text": "first", "id": 1}), "", json.dumps({"text": "Zweite Zeile ü"}), "  "]
    path = write(tmp_path, "t.jsonl", "\r\n".join(lines))
    assert load_texts(path) == ["first", "Zweite Zeile ü"]


def test_csv_reads_the_text_column_with_quoted_commas_and_newlines(tmp_path):
    path = write(tmp_path, "t.csv", 'id,text,label\r\n1,"hello, world",a\r\n2,"two\nlines",b\r\n3,,c\r\n')
    assert load_texts(path) == ["hello, world", "two\nlines"]


def test_csv_with_one_column_uses_it_whatever_its_name(tmp_path):
    path = write(tmp_path, "one.csv", "sentence\nalpha\nbeta\n")
    assert load_texts(path) == ["alpha", "beta"]


def test_csv_text_column_name_ignores_case(tmp_path):
    path = write(tmp_path, "case.csv", "id,Text\n1,alpha\n")
    assert load_texts(path) == ["alpha"]


@pytest.mark.parametrize("name", ["t.txt", "t.jsonl", "t.csv"])
def test_invalid_utf8_is_replaced_and_counted(tmp_path, name):
    rows = {"t.txt": [b"good", b"bad \xff here", b"also \xc3 bad"],
            "t.jsonl": [b'{"text": "good"}', b'{"text": "bad \xff here"}', b'{"text": "also \xc3 bad"}'],
            "t.csv": [b"text", b"good", b"bad \xff here", b"also \xc3 bad"]}[name]
    loaded = read_text_file(write(tmp_path, name, b"\n".join(rows) + b"\n"))
    assert loaded.texts == ("good", "bad \ufffd here", "also \ufffd bad")
    assert loaded.replaced_lines == 2
    assert loaded.warnings == ("2 lines had invalid UTF-8 (replaced)",)


def test_valid_file_has_no_warnings(tmp_path):
    assert read_text_file(write(tmp_path, "ok.txt", "fine\n")).warnings == ()


@pytest.mark.parametrize("name", ["long.txt", "long.jsonl", "long.csv"])
def test_a_100000_character_line_is_kept_whole_and_quickly(tmp_path, name):
    long_text = ("word " * 20_000).strip() + "x"
    assert len(long_text) == 100_000
    rows = {"long.txt": [long_text, "short one"],
            "long.jsonl": [json.dumps({"text": long_text}), json.dumps({"text": "short one"})],
            "long.csv": ["text", long_text, "short one"]}[name]
    path = write(tmp_path, name, "\n".join(rows) + "\n")
    start = time.perf_counter()
    texts = load_texts(path)
    assert time.perf_counter() - start < 1.0
    assert texts == [long_text, "short one"]


def test_a_100000_character_line_with_invalid_utf8_is_kept(tmp_path):
    path = write(tmp_path, "long-bad.txt", b"a" * 100_000 + b"\xff\n")
    loaded = read_text_file(path)
    assert loaded.texts == ("a" * 100_000 + "\ufffd",)
    assert loaded.replaced_lines == 1


# ------------------------------------------------------------------------------------------ user errors


def assert_workload_error(path, *fragments: str) -> None:
    with pytest.raises(WorkloadError) as caught:
        load_texts(path)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert str(path) in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file(tmp_path):
    assert_workload_error(tmp_path / "nope.txt", "no such file")


def test_directory(tmp_path):
    assert_workload_error(tmp_path, "is a directory", "pass a file with one text per line")


@pytest.mark.parametrize(("name", "data"), [
    ("empty.txt", ""), ("blank.txt", "\n  \n\r\n"), ("empty.jsonl", "\n"), ("header-only.csv", "text\n"),
    ("empty.csv", ""), ("blank-texts.jsonl", '{"text": "  "}\n'),
])
def test_empty_files(tmp_path, name, data):
    assert_workload_error(write(tmp_path, name, data), "is empty")


def test_binary_file(tmp_path):
    assert_workload_error(write(tmp_path, "model.bin", b"PK\x03\x04\x00\x00binary"), "looks binary (NUL bytes)",
                          "UTF-8 text file")


def test_nul_after_the_first_8_kib_is_not_binary(tmp_path):
    path = write(tmp_path, "late-nul.txt", b"x" * 9000 + b"\x00tail\n")
    assert len(load_texts(path)) == 1


def test_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"text": "a"}\n\n{"text": oops}\n')
    assert_workload_error(path, "line 3 is not valid JSON")


def test_missing_text_field_names_the_line(tmp_path):
    path = write(tmp_path, "field.jsonl", '{"text": "a"}\n{"text": "b"}\n{"body": "c"}\n')
    assert_workload_error(path, "no 'text' field on line 3")


def test_json_line_that_is_not_an_object(tmp_path):
    assert_workload_error(write(tmp_path, "list.jsonl", '["a"]\n'), "no 'text' field on line 1")


def test_non_string_text_field(tmp_path):
    assert_workload_error(write(tmp_path, "num.jsonl", '{"text": 5}\n'), "'text' on line 1 is not a string")


def test_csv_without_a_text_column_lists_the_columns(tmp_path):
    path = write(tmp_path, "cols.csv", "a,b\n1,2\n")
    assert_workload_error(path, "has no 'text' column (columns: a, b)")


def test_make_workload_passes_file_errors_through(tmp_path):
    with pytest.raises(WorkloadError, match="no such file"):
        make_workload(texts_file=tmp_path / "missing.txt")


# --------------------------------------------------------------------------------------- token lengths


def test_token_stats_buckets_by_inclusive_upper_bounds():
    counts = [1, 16, 17, 32, 33, 64, 65, 128, 129, 256, 257, 1000]
    texts = [" ".join(["w"] * n) for n in counts]
    stats = token_stats(texts, lambda s: len(s.split()))
    assert stats == TokenStats(
        mean_tokens=sum(counts) / len(counts),
        max_tokens=1000,
        histogram=(("≤16", 2), ("17–32", 2), ("33–64", 2), ("65–128", 2), ("129–256", 2), (">256", 2)),
    )


def test_token_stats_of_nothing_is_all_zero():
    stats = token_stats([], len)
    assert (stats.mean_tokens, stats.max_tokens) == (0.0, 0)
    assert [count for _, count in stats.histogram] == [0] * 6


def test_token_stats_with_custom_buckets():
    stats = token_stats(["a", "bb", "ccc", "dddd", "eeeee"], len, buckets=(1, 2, 4))
    assert stats.histogram == (("≤1", 1), ("2", 1), ("3–4", 2), (">4", 1))


@pytest.mark.parametrize("buckets", [(), (32, 16), (16, 16), (0, 8)])
def test_token_stats_rejects_bad_buckets(buckets):
    with pytest.raises(ValueError):
        token_stats(["a"], len, buckets=buckets)


# ------------------------------------------------------------------------------------------ import cost


def test_importing_workload_loads_no_heavy_runtime():
    heavy = ("torch", "textual", "transformers", "sentence_transformers")
    result = run_python(
        "import sys, tui.core.workload\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
