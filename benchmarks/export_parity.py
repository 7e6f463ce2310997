"""Does an exported folder run as fast as what qtui measured? Throughput of `qtui export`'s encode.py against
qtui's own runner of the same route, alternated round by round in one run. Written as JSON.

Each side runs in its own process, as qtui's bench workers do: one builds the route as a bench worker would
(`tui.core.routes.prepare`, the same artefact cache) and times `runner.encode`; the other is a Python that
cannot import qtui (`-S`, site-packages only on its path) and times the exported folder's `encode.py`
`load().encode`. Both encode the same texts at the same batch size and thread count; each round times both, in
alternating order, and the ratio of the two times is taken per round (goal: within 5 %).
Usage: python benchmarks/export_parity.py [--routes ort-qint8,openvino-int8,torch-qint8-x86] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.05

QTUI_SIDE = """
import json, sys, time
from pathlib import Path
from tui.core.models import resolve_model
from tui.core.routes import ROUTES, PrepareContext, prepare
from tui.core.workload import make_workload
route, n_texts, batch, threads, scratch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
workload = make_workload(n_texts)
model = resolve_model(None)
ctx = PrepareContext(model_dir=model.path, model_fingerprint=model.fingerprint, threads=threads,
                     calibration=list(workload.calibration), cache_root=None, scratch=Path(scratch))
runner = prepare(ROUTES[route], ctx)
texts = list(workload.texts)
encode = lambda: runner.encode(texts, batch)
"""
EXPORT_SIDE = """
import json, sys, time
folder, texts_file, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    import tui
except ModuleNotFoundError:
    pass
else:
    sys.exit("tui is importable: the exported side must run without qtui")
sys.path.insert(0, folder)
from encode import load
model = load(folder, threads=threads)
texts = json.loads(open(texts_file).read())
encode = lambda: model.encode(texts, batch)
"""
LOOP = """
encode()  # warm-up: kernels are built on the first call
print("ready", flush=True)
for _ in sys.stdin:
    start = time.perf_counter()
    encode()
    print(time.perf_counter() - start, flush=True)
"""


class Side:
    def __init__(self, argv: list[str], env: dict, cwd: Path) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"{argv[:3]} did not start (exit {self.proc.wait()})")

    def time_once(self) -> float:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def parity(route: str, rounds: int, n_texts: int, batch: int, threads: int, tmp: Path) -> dict:
    from tui.core.workload import make_workload  # the benchmark's own process: only to write the texts

    folder = tmp / route
    subprocess.run([sys.executable, "-m", "tui", "export", route, "--out", str(folder), "--no-measure",
                    "--threads", str(threads), "--num-texts", str(n_texts), "--batch-size", str(batch)],
                   check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    texts_file = tmp / "texts.json"
    texts_file.write_text(json.dumps(list(make_workload(n_texts).texts)))
    isolated = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    isolated["PYTHONPATH"] = sysconfig.get_paths()["purelib"]
    qtui = Side([sys.executable, "-c", QTUI_SIDE + LOOP, route, str(n_texts), str(batch), str(threads), str(tmp)],
                dict(os.environ), ROOT)
    exported = Side([sys.executable, "-S", "-c", EXPORT_SIDE + LOOP, str(folder), str(texts_file), str(batch),
                     str(threads)], isolated, folder)
    try:
        qtui_s, export_s = [], []
        for i in range(rounds):  # alternate who goes first, so a drift or a warm cache favours neither
            if i % 2:
                export_s.append(exported.time_once())
                qtui_s.append(qtui.time_once())
            else:
                qtui_s.append(qtui.time_once())
                export_s.append(exported.time_once())
    finally:
        qtui.close()
        exported.close()
    ratios = [q / e for q, e in zip(qtui_s, export_s, strict=True)]  # > 1: the exported folder is faster
    ratio = statistics.median(ratios)
    return {"route": route, "rounds": rounds, "texts": n_texts, "batch_size": batch, "threads": threads,
            "qtui_sentences_per_s": round(n_texts / statistics.median(qtui_s), 1),
            "export_sentences_per_s": round(n_texts / statistics.median(export_s), 1),
            "export_over_qtui": round(ratio, 4), "ratio_min": round(min(ratios), 4), "ratio_max": round(max(ratios), 4),
            "within_goal": abs(ratio - 1) <= GOAL, "qtui_s": qtui_s, "export_s": export_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", default="ort-qint8,openvino-int8,torch-qint8-x86,torch-qint8-x86-perchannel")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--num-texts", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=str(RESULTS / "export_parity.json"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for route in args.routes.split(","):
            results.append(parity(route, args.rounds, args.num_texts, args.batch_size, args.threads, Path(tmp)))
            r = results[-1]
            print(f"{route:<28} qtui {r['qtui_sentences_per_s']:>7.1f}/s  "
                  f"export {r['export_sentences_per_s']:>7.1f}/s  "
                  f"export/qtui {r['export_over_qtui']:.3f} [{r['ratio_min']:.3f}–{r['ratio_max']:.3f}]  "
                  f"{'within' if r['within_goal'] else 'OUTSIDE'} ±{GOAL:.0%}", flush=True)
    out = write_result(args.out, {"benchmark": "export_parity", "goal": f"within ±{GOAL:.0%}",
                                  "all_within_goal": all(r["within_goal"] for r in results), "routes": results})
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
