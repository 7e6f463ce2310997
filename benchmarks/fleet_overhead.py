"""What `qtui fleet` costs: one host through the fleet over loopback SSH against `qtui bench` run directly, alternated.

Starts a throwaway sshd on 127.0.0.1 (benchmarks/ssh_server.py; its own keys, ssh_config and known_hosts), then
runs the same workload N times each way, in alternating order (direct first in odd pairs, fleet first in even
ones) so drift on a shared machine hits both alike. Per pair: each route's median sent/s through the fleet over
the direct run's; the time from the fleet's start on a host to its remote `qtui bench` starting (connect,
authenticate, `qtui detect`, as `qtui fleet` prints it); and the whole-run wall time difference, which also carries
the run's own variation.
Goals (issue 15): sent/s within 3 %, at most 2 s added. Writes JSON (default benchmarks/results/fleet_overhead.json).
Usage: python benchmarks/fleet_overhead.py [--pairs 5] [--num-texts 64] [--rounds 8] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402
from ssh_server import SSHServer  # noqa: E402

QTUI = Path(sys.executable).parent / "qtui"
GOAL_SENT_S = 0.03
GOAL_ADDED_S = 2.0


CONNECTED = re.compile(r"connected and detected in ([0-9.]+) s")


def timed(argv: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    return time.perf_counter() - start, done.stderr


def throughputs(report: Path) -> dict[str, float]:
    doc = json.loads(report.read_text())
    return {r["id"]: r["throughput"]["median"] for r in doc["routes"] if r.get("throughput")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--routes", default="torch-fp32,torch-qint8-x86")
    parser.add_argument("--num-texts", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "fleet_overhead.json"))
    args = parser.parse_args()
    workload = ["--routes", args.routes, "--num-texts", str(args.num_texts), "--rounds", str(args.rounds),
                "--threads", str(args.threads), "--no-rescue", "--no-kernels"]

    with tempfile.TemporaryDirectory(prefix="qtui-fleet-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        server = SSHServer(tmp)
        try:
            known, config = tmp / "known_hosts", tmp / "ssh_config"
            known.write_text(server.known_hosts_line())
            config.write_text(server.config_block("bench-host") + f"  UserKnownHostsFile {known}\n")
            cache = tmp / "cache"  # one artefact cache for both ways: the same prepared models, warmed below
            env = {**os.environ, "QTUI_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
            remote = f"env QTUI_CACHE_DIR={cache} HF_HUB_OFFLINE=1 {QTUI}"

            def direct(i: int) -> tuple[float, dict, None]:
                report = tmp / f"direct-{i}.json"
                wall, _ = timed([str(QTUI), "bench", *workload, "--json", str(report)], env)
                return wall, throughputs(report), None

            def fleet(i: int) -> tuple[float, dict, float]:
                out = tmp / f"fleet-{i}"
                wall, stderr = timed([str(QTUI), "fleet", "bench-host", "-F", str(config), "--out", str(out),
                                      "--remote-qtui", remote, *workload], env)
                return wall, throughputs(out / "bench-host.json"), float(CONNECTED.search(stderr).group(1))

            direct(-1)  # warm the cache (GEMM ceilings, quantized artefacts) and the page cache
            pairs = []
            for i in range(args.pairs):
                first, second = (direct, fleet) if i % 2 == 0 else (fleet, direct)
                a, b = first(i), second(i)
                d, f = (a, b) if first is direct else (b, a)
                pairs.append({"direct_wall_s": round(d[0], 3), "fleet_wall_s": round(f[0], 3),
                              "added_s": round(f[0] - d[0], 3), "connect_detect_s": f[2],
                              "direct_sent_s": d[1], "fleet_sent_s": f[1],
                              "order": "direct,fleet" if first is direct else "fleet,direct"})
                print(f"pair {i + 1}/{args.pairs}: direct {d[0]:.1f} s, fleet {f[0]:.1f} s (connect+detect "
                      f"{f[2]:.2f} s); "
                      + ", ".join(f"{rid} {f[1][rid] / d[1][rid]:.3f}×" for rid in d[1] if rid in f[1]), flush=True)
        finally:
            server.stop()

    routes = sorted(set.intersection(*(set(p["direct_sent_s"]) & set(p["fleet_sent_s"]) for p in pairs)))
    ratios = {rid: [p["fleet_sent_s"][rid] / p["direct_sent_s"][rid] for p in pairs] for rid in routes}
    per_route = {rid: {"median_ratio": round(statistics.median(r), 4), "ratios": [round(x, 4) for x in r],
                       "within_goal": abs(statistics.median(r) - 1) <= GOAL_SENT_S} for rid, r in ratios.items()}
    added = statistics.median(p["added_s"] for p in pairs)
    connect = statistics.median(p["connect_detect_s"] for p in pairs)
    doc = {"benchmark": "fleet_overhead", "python": platform.python_version(), "cpu_count": os.cpu_count(),
           "workload": workload, "pairs": pairs, "per_route": per_route, "median_added_s": round(added, 3),
           "median_connect_detect_s": round(connect, 3),
           "goal_sent_s_within": GOAL_SENT_S, "goal_added_s": GOAL_ADDED_S,
           "meets_goal": all(r["within_goal"] for r in per_route.values()) and connect <= GOAL_ADDED_S}
    out = write_result(args.out, doc)
    for rid, r in per_route.items():
        print(f"{rid:<20} fleet/direct sent/s median {r['median_ratio']:.3f} (goal within ±{GOAL_SENT_S:.0%}): "
              f"{'met' if r['within_goal'] else 'MISSED'}")
    print(f"fleet connect + authenticate + detect {connect:.2f} s (median; goal ≤ {GOAL_ADDED_S:.0f} s); whole-run "
          f"wall difference {added:+.2f} s (median; includes the run's own variation)  → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
