"""What the accuracy rescue costs on the packaged model: the layer pass (each Linear quantized alone) and the
search for the fewest float layers (inside each mixed route's preparation: torch, ONNX Runtime, OpenVINO), from
a cold cache and then cached.

The packaged model meets the default threshold with int8, so the runs ask for a stricter one (--min-cosine
0.998 by default) and name the mixed routes, which makes the searches do real work. Each run is a
fresh `qtui bench` with a cache of its own (QTUI_CACHE_DIR in a temporary directory), the second reusing the
first's. Writes JSON (default benchmarks/results/rescue_cost.json).
Usage: python benchmarks/rescue_cost.py [--min-cosine 0.998] [--engine x86] [--mixes torch,ort,openvino] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

MIXES = {"torch": "torch-qint8-{engine}-mixed", "ort": "ort-qint8-mixed", "openvino": "openvino-int8-mixed"}


def mixed_summary(doc: dict, mixed_id: str) -> dict:
    mixed = next((r for r in doc["routes"] if r["id"] == mixed_id), {})
    facts = mixed.get("facts") or {}
    return {"status": mixed.get("status"), "why": mixed.get("why"), "prepare_s": mixed.get("prepare_s"),
            "mix_cache": facts.get("mix_cache"), "search_steps": facts.get("search_steps"),
            "kept": facts.get("kept"), "linear_layers": facts.get("linear_layers"),
            "kept_dtype": facts.get("kept_dtype"), "kept_dtype_note": facts.get("kept_dtype_note"),
            "cosine": (mixed.get("accuracy") or {}).get("cosine_mean"),
            "speedup": (mixed.get("speedup") or {}).get("point")}


def summary(doc: dict, wall: float, mixed_ids: list[str]) -> dict:
    layers = doc.get("layers") or {}
    return {"wall_s": round(wall, 1), "layer_pass_s": layers.get("seconds"), "layers_cache": layers.get("cache"),
            "layers_measured": len(layers.get("layers") or []),
            "mixes": {rid: mixed_summary(doc, rid) for rid in mixed_ids}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-cosine", default="0.998")
    parser.add_argument("--engine", default="x86", help="torch quantized engine of the mixed route (default x86)")
    parser.add_argument("--mixes", default="torch,ort,openvino", help="which mixed routes (default all three)")
    parser.add_argument("--out", default=str(RESULTS / "rescue_cost.json"))
    args = parser.parse_args()
    mixed_ids = [MIXES[m.strip()].format(engine=args.engine) for m in args.mixes.split(",") if m.strip()]
    argv = ("--routes", ",".join(["torch-fp32", f"torch-qint8-{args.engine}-perchannel", *mixed_ids]),
            "--min-cosine", args.min_cosine, "--time-budget", "10", "--rounds", "5")
    with tempfile.TemporaryDirectory() as cache:
        runs = {label: summary(*run_bench(*argv, env={"QTUI_CACHE_DIR": cache}), mixed_ids)
                for label in ("cold", "cached")}
    doc = {"benchmark": "rescue_cost", "min_cosine": float(args.min_cosine), "routes": mixed_ids, **runs}
    out = write_result(args.out, doc)
    for label, r in runs.items():
        print(f"{label:<7} layer pass {r['layer_pass_s'] if r['layer_pass_s'] is not None else '—'} s "
              f"(cache {r['layers_cache']}); wall {r['wall_s']} s")
        for rid, m in r["mixes"].items():
            print(f"        {rid}: {m['status']}, prepare {m['prepare_s']} s (search {m['search_steps']} steps, "
                  f"mix cache {m['mix_cache']}), kept {m['kept']} of {m['linear_layers']} {m['kept_dtype']}, "
                  f"cosine {m['cosine']}, speedup {m['speedup']}" + (f" — {m['why']}" if m["why"] else ""))
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
