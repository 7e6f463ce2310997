"""Small labelled tasks written into a test's temp dir: a pairs file and a BEIR folder (sentences chosen, scores
made up; what matters is that qtui reads them as the sentence-transformers evaluators would)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

TOPICS = {
    "weather": ["Heavy rain is expected in the mountains tonight.", "A storm will bring strong winds to the coast.",
                "The forecast says it will be sunny all weekend.", "Snow closed the pass for two days."],
    "trains": ["The train to Berlin leaves at seven.", "Rail workers went on strike this morning.",
               "The night train was delayed by an hour.", "A new high-speed line opened last year."],
    "cooking": ["Fresh bread smells wonderful in the morning.", "Simmer the sauce until it thickens.",
                "She baked a lemon cake for the party.", "Add salt to the boiling water before the pasta."],
    "software": ["Int8 quantization can be slower than fp32 on some CPUs.", "The compiler crashed on the new code.",
                 "We rewrote the parser in a weekend.", "The test suite takes ten minutes to run."],
    "football": ["The striker scored twice in the second half.", "The match ended in a goalless draw.",
                 "Fans waited hours outside the stadium.", "The coach was sacked after the defeat."],
    "music": ["The orchestra played Mahler's fifth symphony.", "He practises the violin every evening.",
              "The band's new album sold out in a day.", "She sang the aria without a microphone."],
}


def pair_rows(n: int = 40, seed: int = 0, distinct: bool = True) -> list[dict]:
    """Pairs from the same topic (high score) and from different topics (low score), with some noise. Distinct by
    default (at most 72 then), because a pair repeated ties with itself: the evaluator, which encodes every
    occurrence apart, breaks such ties by float noise."""
    assert not distinct or n <= 72, "only 36 distinct same-topic pairs exist"
    rng = random.Random(seed)
    topics = list(TOPICS)
    rows, seen = [], set()
    while len(rows) < n:
        a_topic = topics[(len(rows) // 2) % len(topics)]
        b_topic = a_topic if len(rows) % 2 == 0 else rng.choice([t for t in topics if t != a_topic])
        a, b = rng.choice(TOPICS[a_topic]), rng.choice(TOPICS[b_topic])
        if a == b or (distinct and frozenset((a, b)) in seen):
            continue
        seen.add(frozenset((a, b)))
        score = (4.0 if a_topic == b_topic else 1.0) + rng.uniform(-1, 1)
        rows.append({"sentence1": a, "sentence2": b, "score": round(score, 2)})
    return rows


def write_pairs(path: Path, rows: list[dict] | None = None) -> Path:
    rows = pair_rows() if rows is None else rows
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["sentence1", "sentence2", "score"],
                                delimiter="\t" if path.suffix == ".tsv" else ",")
        writer.writeheader()
        writer.writerows(rows)
    return path


QUERIES = {"q1": "Will it rain in the mountains?", "q2": "When does the Berlin train depart?",
           "q3": "How do I make bread?", "q4": "Why is int8 slow on my CPU?", "q5": "Who scored in the match?",
           "q6": "Which symphony did the orchestra play?", "q7": "Is there a rail strike?"}
RELEVANT = {"q1": ["weather-0"], "q2": ["trains-0", "trains-2"], "q3": ["cooking-0"], "q4": ["software-0"],
            "q5": ["football-0"], "q6": ["music-0"], "q7": ["trains-1"]}


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    corpus = [{"_id": f"{topic}-{i}", "title": topic.title() if i % 2 else "", "text": text}
              for topic, texts in TOPICS.items() for i, text in enumerate(texts)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in QUERIES.items()))
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, docs in RELEVANT.items() for d in docs]
    (folder / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return folder
