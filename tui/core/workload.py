"""The texts a benchmark encodes: a default corpus that exists offline everywhere, or the user's `--texts FILE`.

Also splits off a calibration set for static int8 quantization (never overlapping the measured texts) and
summarises token lengths without knowing which tokenizer is used.

Stdlib only and nothing computed at import: the dashboard imports this before its first paint.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import io
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# json, csv, hashlib and random are imported where used: together ~11 ms the first paint need not pay.

# Pure-Python modules that ship with every CPython 3.10-3.13 and whose docstrings are plain English.
# Sorted so the list itself reads as data; none is imported unless its source file is missing.
CORPUS_MODULES: tuple[str, ...] = (
    "argparse", "asyncio.events", "base64", "bdb", "calendar", "cmd", "codecs", "configparser", "csv",
    "difflib", "email.message", "email.utils", "fileinput", "ftplib", "gzip", "hmac", "http.client",
    "http.cookiejar", "http.server", "inspect", "json.decoder", "json.encoder", "logging", "logging.handlers",
    "mailbox", "numbers", "operator", "pathlib", "queue", "random", "sched", "shutil", "smtplib",
    "socketserver", "statistics", "tarfile", "tempfile", "textwrap", "threading", "traceback", "typing",
    "unittest.case", "urllib.parse",
)
CORPUS_SEED = 0

# nncf's default subset_size: statistics (and SmoothQuant's scales) from many varied texts fit texts not seen.
DEFAULT_CALIBRATION = 300
# A file that cannot spare the whole calibration set still calibrates on its own texts if it spares this many: the
# user's kind of text beats more of the corpus's.
MIN_FILE_CALIBRATION = 64

MIN_WORDS, MAX_WORDS = 6, 40
MIN_PROSE_SHARE = 0.8
BINARY_PROBE_BYTES = 8192

# Patterns are kept as strings: `re` compiles and caches them on first use, not at import.
# A docstring is a string literal standing alone at the start of a line. One regex pass finds them ~10x
# faster than ast.parse and, like ast, executes nothing; the odd non-docstring literal it also finds is
# one more candidate for the prose filter. Anchored on "\n" because "^" with re.M is ~3x slower, and
# written as [^"]*(?:"(?!"")[^"]*)* rather than .*? because that is 2x faster.
_DOCSTRING = (
    r"""\n[ \t]*[rRuU]?(?:"{3}([^"]*(?:"(?!"")[^"]*)*)"{3}|'{3}([^']*(?:'(?!'')[^']*)*)'{3}"""
    r"""|"([^"\n\\]+)"[ \t]*(?=\n)|'([^'\n\\]+)'[ \t]*(?=\n))"""
)
_PARAGRAPH_BREAK = r"\n[ \t]*\n"
_SENTENCE_END = r"(?<=[.!?])\s+(?=[A-Z])"
_MARKUP = r">>>|:[a-z]+:|^\w+:|[\\=\[\]{}<>|#@$~^*_`]"  # doctest, reST role, "Returns:", code characters
_NOT_PROSE = r"[^\w .,;:'\"()?!-]|[\d_]"  # anything but letters, spaces and basic punctuation


class WorkloadError(ValueError):
    """A mistake in the user's input; the message is one line naming the problem and the fix."""


@dataclass(frozen=True)
class Workload:
    texts: tuple[str, ...]  # what is measured
    calibration: tuple[str, ...]  # for static int8 calibration; never shares a text with `texts`
    source: str  # "default corpus (N sentences from the Python 3.11 standard library)" or the file path
    fingerprint: str  # short sha256 of `texts`, so two reports can tell whether they measured the same thing
    warnings: tuple[str, ...] = ()  # shown to the user, e.g. "12 lines had invalid UTF-8 (replaced)"


@dataclass(frozen=True)
class TextFile:
    texts: tuple[str, ...]
    replaced_lines: int  # lines whose invalid UTF-8 bytes became U+FFFD

    @property
    def warnings(self) -> tuple[str, ...]:
        if not self.replaced_lines:
            return ()
        noun = "line" if self.replaced_lines == 1 else "lines"
        return (f"{self.replaced_lines} {noun} had invalid UTF-8 (replaced)",)


@dataclass(frozen=True)
class TokenStats:
    mean_tokens: float
    max_tokens: int
    histogram: tuple[tuple[str, int], ...]  # (label, count) per bucket: "≤16", "17–32", …, ">256"


# ---------------------------------------------------------------------------------------------- corpus


def default_corpus() -> list[str]:
    """Prose sentences from stdlib docstrings, deduplicated, in a fixed shuffled order (built once)."""
    return list(_corpus())


@functools.lru_cache(maxsize=1)
def _corpus() -> tuple[str, ...]:
    import random

    candidates = {sentence for name in CORPUS_MODULES for sentence in _module_sentences(name)}
    unique = _dedupe_casefolded(sorted(candidates))
    random.Random(CORPUS_SEED).shuffle(unique)
    return tuple(unique)


def _module_sentences(module_name: str) -> Iterable[str]:
    for docstring in _module_docstrings(module_name):
        for paragraph in re.split(_PARAGRAPH_BREAK, docstring):
            for sentence in re.split(_SENTENCE_END, " ".join(paragraph.split())):
                if looks_like_prose(sentence):
                    yield sentence


def _module_docstrings(module_name: str) -> list[str]:
    source = _stdlib_source(module_name)
    if source is None:  # e.g. an embedded Python that ships only .pyc files
        return _imported_docstrings(module_name)
    return [match.group(match.lastindex) for match in re.finditer(_DOCSTRING, "\n" + source)]


def _stdlib_source(module_name: str) -> str | None:
    path = _stdlib_dir().joinpath(*module_name.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@functools.lru_cache(maxsize=1)
def _stdlib_dir() -> Path:
    import sysconfig  # ~2 ms, paid only when the corpus is built

    return Path(sysconfig.get_path("stdlib"))


def _imported_docstrings(module_name: str) -> list[str]:
    """Fallback without sources: docstrings of the module, its own classes/functions and their methods."""
    try:
        module = importlib.import_module(module_name)
    except Exception:  # an optional stdlib part may be missing; the corpus just gets smaller
        return []
    docs = [module.__doc__]
    for obj in vars(module).values():
        if getattr(obj, "__module__", None) != module_name:
            continue
        docs.append(getattr(obj, "__doc__", None))
        if isinstance(obj, type):
            members = [m for m in vars(obj).values() if callable(m) or isinstance(m, property)]
            docs.extend(getattr(member, "__doc__", None) for member in members)
    return [doc for doc in docs if isinstance(doc, str)]


def looks_like_prose(sentence: str) -> bool:
    """True for a sentence a person wrote for people: no code, markup or fragments."""
    if not MIN_WORDS <= len(sentence.split()) <= MAX_WORDS:
        return False
    if not (sentence[0].isupper() and sentence.endswith(".") and not sentence.endswith("..")):
        return False
    if re.search(_MARKUP, sentence):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count('"') % 2:
        return False  # a fragment split out of a longer sentence
    return len(re.findall(_NOT_PROSE, sentence)) <= (1 - MIN_PROSE_SHARE) * len(sentence)


def _dedupe_casefolded(sentences: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for sentence in sentences:
        key = sentence.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(sentence)
    return unique


def corpus_source() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"default corpus ({len(_corpus())} sentences from the Python {version} standard library)"


# -------------------------------------------------------------------------------------------- workload


def make_workload(
    n_texts: int = 256,
    *,
    texts_file: str | os.PathLike[str] | None = None,
    n_calibration: int = DEFAULT_CALIBRATION,
    seed: int = 0,
) -> Workload:
    """Measured texts plus a disjoint calibration set, from the default corpus or a file.

    Texts are a seeded random pick kept in their original order. A file shorter than asked is used
    whole (never repeated); calibration takes the file's other texts, as many as it can spare, and comes
    from the default corpus instead when it spares fewer than MIN_FILE_CALIBRATION. Either way no
    calibration text equals a measured one (ignoring case and spacing), so static quantization is never
    calibrated on what is then measured; a calibration set smaller than asked is named in the warnings.
    """
    if n_texts < 1:
        raise WorkloadError(f"number of texts must be at least 1 (got {n_texts})")
    if n_calibration < 0:
        raise WorkloadError(f"number of calibration texts must be 0 or more (got {n_calibration})")
    if texts_file is None:
        return _corpus_workload(n_texts, n_calibration, seed)
    return _file_workload(Path(texts_file), n_texts, n_calibration, seed)


def _corpus_workload(n_texts: int, n_calibration: int, seed: int) -> Workload:
    corpus = _corpus()
    texts, rest = _pick(corpus, n_texts, seed)
    calibration = _without(rest, texts)[:n_calibration]
    warnings = []
    if len(texts) < n_texts:
        warnings.append(f"asked for {n_texts} texts; the default corpus has {len(corpus)}, measuring all of them")
    if len(calibration) < n_calibration:
        warnings.append(f"only {len(calibration)} calibration texts left after the measured ones")
    return Workload(texts, calibration, corpus_source(), fingerprint(texts), tuple(warnings))


def _file_workload(path: Path, n_texts: int, n_calibration: int, seed: int) -> Workload:
    loaded = read_text_file(path)
    warnings = list(loaded.warnings)
    texts, rest = _pick(loaded.texts, n_texts, seed)
    if len(texts) < n_texts:
        warnings.append(f"{path} has {len(texts)} texts (asked for {n_texts}); measuring all of them")
    calibration = _without(rest, texts)[:n_calibration]  # the file may repeat a measured line
    if len(calibration) < n_calibration:
        calibration, warning = _short_file_calibration(path, calibration, texts, n_calibration)
        warnings.append(warning)
    return Workload(texts, calibration, str(path), fingerprint(texts), tuple(warnings))


def _short_file_calibration(path: Path, spare: tuple[str, ...], texts: tuple[str, ...],
                            n_calibration: int) -> tuple[tuple[str, ...], str]:
    """The calibration set when a file cannot spare all that was asked, and the warning that says where it came from."""
    if len(spare) >= MIN_FILE_CALIBRATION:
        return spare, (f"only {len(spare)} calibration texts left in {path} after the measured ones "
                       f"(asked for {n_calibration})")
    # Calibrating on the user's own kind of text is best, but a short file cannot spare enough.
    corpus_calibration = _without(_corpus(), texts)[:n_calibration]
    return corpus_calibration, f"calibration texts come from the default corpus: {path} has too few texts to spare"


def _pick(pool: Sequence[str], n_texts: int, seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A seeded random choice of n_texts kept in pool order (reads better per text), and the rest shuffled."""
    import random

    order = list(range(len(pool)))
    random.Random(seed).shuffle(order)
    chosen = tuple(pool[i] for i in sorted(order[:n_texts]))
    rest = tuple(pool[i] for i in order[n_texts:])
    return chosen, rest


def _without(candidates: Iterable[str], excluded: Iterable[str]) -> tuple[str, ...]:
    """Candidates whose content (ignoring case and spacing) is not among `excluded`."""
    excluded_keys = {_content_key(text) for text in excluded}
    return tuple(text for text in candidates if _content_key(text) not in excluded_keys)


def _content_key(text: str) -> str:
    return " ".join(text.casefold().split())


def fingerprint(texts: Sequence[str]) -> str:
    """Short sha256 of the texts; JSON framing so ["a b"] and ["a", "b"] differ."""
    import hashlib
    import json

    payload = json.dumps(list(texts), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:12]


# ------------------------------------------------------------------------------------------ text files


def load_texts(path: str | os.PathLike[str]) -> list[str]:
    """Texts from a file: .txt (one per line), .jsonl ("text" field), .csv ("text" column); else as .txt."""
    return list(read_text_file(path).texts)


def read_text_file(path: str | os.PathLike[str]) -> TextFile:
    """Like load_texts, but also reports how many lines had invalid UTF-8.

    CSV: the first row is always the header. The column named "text" (any case) is used; a file with a
    single column uses that column whatever its name; several columns without "text" is an error.
    """
    path = Path(path)
    text, replaced_lines = _decode(_read_bytes(path))
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        texts = _jsonl_texts(text, path)
    elif suffix == ".csv":
        texts = _csv_texts(text, path)
    else:
        texts = _line_texts(text)
    if not texts:
        raise WorkloadError(f"--texts {path}: is empty; it needs at least one non-blank text")
    return TextFile(tuple(texts), replaced_lines)


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise WorkloadError(f"--texts {path}: is a directory; pass a file with one text per line")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WorkloadError(f"--texts {path}: no such file") from None
    except OSError as error:
        raise WorkloadError(f"--texts {path}: cannot read ({error.strerror}); check the path and permissions") from None
    if b"\0" in data[:BINARY_PROBE_BYTES]:
        raise WorkloadError(f"--texts {path}: looks binary (NUL bytes); pass a UTF-8 text file")
    return data


def _decode(data: bytes) -> tuple[str, int]:
    """UTF-8 text (BOM dropped) and the number of lines that needed replacement characters."""
    try:
        return data.decode("utf-8-sig"), 0
    except UnicodeDecodeError:
        pass
    # Line by line so the count is exact; each line is decoded once, so long lines stay linear.
    lines, replaced = [], 0
    for raw in data.removeprefix(b"\xef\xbb\xbf").splitlines(keepends=True):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="replace"))
            replaced += 1
    return "".join(lines), replaced


def _physical_lines(text: str) -> list[str]:
    # Only \r\n, \r and \n end a line; str.splitlines would also split on \x0c, \u2028 and friends.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _line_texts(text: str) -> list[str]:
    return [line.strip() for line in _physical_lines(text) if line.strip()]


def _jsonl_texts(text: str, path: Path) -> list[str]:
    import json

    texts = []
    for number, line in enumerate(_physical_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            message = f"--texts {path}: line {number} is not valid JSON; put one JSON object per line"
            raise WorkloadError(message) from None
        value = record.get("text") if isinstance(record, dict) else None
        if value is None:
            raise WorkloadError(f"--texts {path}: no 'text' field on line {number}; each line needs {{\"text\": ...}}")
        if not isinstance(value, str):
            raise WorkloadError(f"--texts {path}: 'text' on line {number} is not a string; make it a JSON string")
        if value.strip():
            texts.append(value.strip())
    return texts


def _csv_texts(text: str, path: Path) -> list[str]:
    import csv

    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # a long text is allowed in any cell
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        if header is None:
            return []  # reported as an empty file
        column = _text_column(header, path)
        cells = [row[column] for row in rows if column < len(row)]
    except csv.Error as error:
        raise WorkloadError(f"--texts {path}: not valid CSV ({error}); quote cells that contain commas") from None
    return [cell.strip() for cell in cells if cell.strip()]


def _text_column(header: list[str], path: Path) -> int:
    names = [name.strip() for name in header]
    for index, name in enumerate(names):
        if name.casefold() == "text":
            return index
    if len(names) == 1:
        return 0
    listed = ", ".join(names)
    raise WorkloadError(f"--texts {path}: has no 'text' column (columns: {listed}); name the column to measure 'text'")


# --------------------------------------------------------------------------------------- token lengths


def token_stats(
    texts: Iterable[str],
    count_tokens: Callable[[str], int],
    buckets: Sequence[int] = (16, 32, 64, 128, 256),
) -> TokenStats:
    """Mean, max and a histogram of token counts; `count_tokens` is whatever tokenizer the model uses."""
    if not buckets or any(high <= low for low, high in itertools.pairwise(buckets)) or buckets[0] < 1:
        raise ValueError(f"buckets must be increasing positive integers (got {tuple(buckets)})")
    counts = [count_tokens(text) for text in texts]
    tally = [0] * (len(buckets) + 1)
    for count in counts:
        tally[bisect.bisect_left(buckets, count)] += 1
    mean = sum(counts) / len(counts) if counts else 0.0
    return TokenStats(mean, max(counts, default=0), tuple(zip(bucket_labels(buckets), tally, strict=True)))


def bucket_labels(buckets: Sequence[int]) -> list[str]:
    """["≤16", "17–32", …, ">256"] for buckets (16, 32, …, 256)."""
    labels = [f"≤{buckets[0]}"]
    for low, high in itertools.pairwise(buckets):
        labels.append(str(high) if high == low + 1 else f"{low + 1}–{high}")
    labels.append(f">{buckets[-1]}")
    return labels
