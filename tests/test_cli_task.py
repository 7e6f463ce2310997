"""`qtui bench --task …` with bad input: one line naming the file and the fix, exit 2, nothing written, before any
work starts (no worker, so each call returns in about a second)."""

from __future__ import annotations

import pytest

from tests.conftest import run_qtui
from tests.task_files import write_beir


def _bench(tmp_path, *args):
    out = tmp_path / "r.json"
    result = run_qtui("bench", "--routes", "torch-fp32", "--json", str(out), *args, timeout=60)
    return result, out


def _says_one_line(result, *needles):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(n in lines[0] for n in needles), lines[0]


@pytest.mark.parametrize("name,text,says", [
    ("no-score.csv", "sentence1,sentence2\na,b\n", "no score column"),
    ("words.csv", "sentence1,sentence2,score\n" + "a,b,high\n" * 25, "'high' is not a number"),
    ("few.tsv", "sentence1\tsentence2\tscore\n" + "a\tb\t1\n" * 5, "at least 20"),
    ("flat.jsonl", '{"sentence1": "a", "sentence2": "b", "score": 2}\n' * 25, "scores that differ"),
    ("notes.txt", "a b 1\n", ".csv, .tsv or .jsonl"),
])
def test_bad_pairs_files(tmp_path, name, text, says):
    path = tmp_path / name
    path.write_text(text)
    result, out = _bench(tmp_path, "--task", str(path))
    _says_one_line(result, str(path), says)
    assert not out.exists()


def test_a_missing_or_unreadable_task(tmp_path):
    result, out = _bench(tmp_path, "--task", str(tmp_path / "nope.csv"))
    _says_one_line(result, "no such file or folder", "stsb")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"sentence1,sentence2,score\n\xff\xfe\x00,b,1\n")
    result, out = _bench(tmp_path, "--task", str(binary))
    _says_one_line(result, str(binary), "not UTF-8")
    assert not out.exists()


def test_bad_beir_folders(tmp_path):
    folder = write_beir(tmp_path / "set")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tmissing-doc\t1\n")
    result, out = _bench(tmp_path, "--task", str(folder))
    _says_one_line(result, "corpus-id 'missing-doc' is not in corpus.jsonl")
    (folder / "corpus.jsonl").write_text("")
    result, _ = _bench(tmp_path, "--task", str(folder))
    _says_one_line(result, "no documents")
    assert not out.exists()


def test_max_task_loss_needs_a_task_and_a_percentage(tmp_path):
    result, _ = _bench(tmp_path, "--max-task-loss", "1")
    _says_one_line(result, "--max-task-loss needs --task")
    result, _ = _bench(tmp_path, "--task", "stsb", "--max-task-loss", "150")
    _says_one_line(result, "must be below 100")


def test_the_fleet_checks_the_task_before_connecting(tmp_path):
    result = run_qtui("fleet", "nohost.invalid", "--out", str(tmp_path / "out"), "--task", str(tmp_path / "x.csv"),
                      timeout=60)
    _says_one_line(result, "no such file or folder")
