"""What the accuracy rescue costs on the packaged model: the layer pass (each Linear quantized alone) and the
search for the fewest fp32 layers (inside the mixed route's preparation), from a cold cache and then cached.

The packaged model meets the default threshold with per-channel int8, so the runs ask for a stricter one
(--min-cosine 0.998 by default) and name the mixed route, which makes the search do real work. Each run is a
fresh `qtui bench` with a cache of its own (QTUI_CACHE_DIR in a temporary directory), the second reusing the
first's. Writes JSON (default benchmarks/results/rescue_cost.json).
Usage: python benchmarks/rescue_cost.py [--min-cosine 0.998] [--engine x86] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402


def summary(doc: dict, wall: float, mixed_id: str) -> dict:
    layers = doc.get("layers") or {}
    mixed = next((r for r in doc["routes"] if r["id"] == mixed_id), {})
    facts = mixed.get("facts") or {}
    return {"wall_s": round(wall, 1), "layer_pass_s": layers.get("seconds"), "layers_cache": layers.get("cache"),
            "layers_measured": len(layers.get("layers") or []), "mixed_status": mixed.get("status"),
            "mixed_why": mixed.get("why"), "mixed_prepare_s": mixed.get("prepare_s"),
            "mix_cache": facts.get("mix_cache"), "search_steps": facts.get("search_steps"),
            "kept_fp32": facts.get("kept"), "linear_layers": facts.get("linear_layers"),
            "cosine": (mixed.get("accuracy") or {}).get("cosine_mean"),
            "speedup": (mixed.get("speedup") or {}).get("point")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-cosine", default="0.998")
    parser.add_argument("--engine", default="x86", help="torch quantized engine of the mixed route (default x86)")
    parser.add_argument("--out", default=str(RESULTS / "rescue_cost.json"))
    args = parser.parse_args()
    mixed_id = f"torch-qint8-{args.engine}-mixed"
    argv = ("--routes", f"torch-fp32,torch-qint8-{args.engine}-perchannel,{mixed_id}", "--min-cosine",
            args.min_cosine, "--time-budget", "10", "--rounds", "5")
    with tempfile.TemporaryDirectory() as cache:
        runs = {label: summary(*run_bench(*argv, env={"QTUI_CACHE_DIR": cache}), mixed_id)
                for label in ("cold", "cached")}
    doc = {"benchmark": "rescue_cost", "min_cosine": float(args.min_cosine), "route": mixed_id, **runs}
    out = write_result(args.out, doc)
    for label, r in runs.items():
        print(f"{label:<7} layer pass {r['layer_pass_s'] if r['layer_pass_s'] is not None else '—'} s "
              f"(cache {r['layers_cache']}), {mixed_id}: {r['mixed_status']}, prepare {r['mixed_prepare_s']} s "
              f"(search {r['search_steps']} steps, mix cache {r['mix_cache']}), kept {r['kept_fp32']} of "
              f"{r['linear_layers']} fp32, cosine {r['cosine']}, speedup {r['speedup']}; wall {r['wall_s']} s")
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
