"""qtui's pick against the peers: what a user would run instead (fastembed, sentence-transformers' own recipes),
measured in the same paired rounds on the same texts and threads.

The question a user asks before `qtui export`: is qtui's route better than just using fastembed or
sentence-transformers' recipe? It is answered with the paired speed-up of the recommendation over each peer (the
rounds both ran), and export is advised only when the pick is conclusively faster than the fastest peer that passes
the same accuracy gate. Reads plain report dicts, so a saved report explains itself the same way.
"""

from __future__ import annotations

from tui.core import accuracy_gate as gate


def peer_versions(facts: dict | None) -> dict[str, str] | None:
    """{"fastembed": "0.9.1", …}: the peer's own packages, as its worker read them in its environment."""
    text = (facts or {}).get("versions")
    if not text:
        return None
    return dict(part.split("=", 1) for part in str(text).split(",") if "=" in part)


def _speedup_of(pick: str, peer: str, result, stats) -> dict | None:
    from tui.core import rounds

    if pick == peer or peer not in result.routes or pick not in result.routes:
        return None
    s = rounds.speedups(result, stats, peer).get(pick)
    return s.to_json() if s is not None else None


def document(doc: dict, result) -> dict | None:
    """The report's `peers` field: each peer's status, versions and gate, the pick's paired speed-up over it, the
    fastest accurate peer, and whether exporting qtui's pick is worth it against that peer."""
    from tui.core import stats

    peers = [r for r in doc["routes"] if r.get("peer")]
    if not peers:
        return None
    pick = doc["recommendation"]["route"]
    entries = []
    for r in peers:
        measured = r["status"] == "ok" and bool(r.get("speedup"))
        entries.append({"id": r["id"], "status": r["status"], "why": r.get("why"), "versions": r.get("peer_versions"),
                        "accurate": measured and gate.accurate(r, doc),
                        "pick_vs": _speedup_of(pick, r["id"], result, stats) if measured else None})
    return judge({"pick": pick, "routes": entries}, doc)


def judge(peers: dict, doc: dict) -> dict:
    """Adds `best` (the fastest peer that passes the gate) and `export_advised` to a `peers` document."""
    by_id = {r["id"]: r for r in doc["routes"]}
    accurate = [p for p in peers["routes"] if p["accurate"] and p["pick_vs"]]
    best = max(accurate, key=lambda p: by_id[p["id"]]["speedup"]["point"], default=None)
    peers["best"] = best["id"] if best else None
    peers["export_advised"] = bool(best) and best["pick_vs"]["verdict"] == "faster"
    return peers


def _times(vs: dict) -> str:
    lo, hi = vs["ci95"]
    return f"{vs['point']:.2f}× [{lo:.2f}–{hi:.2f}]"


def comparison(doc: dict) -> str | None:
    """"openvino-int8 is 2.41× [2.30–2.55] fastembed, 1.31× [1.22–1.40] st-openvino-qint8 (same texts, same
    threads)", and what follows for `qtui export`; None without peers."""
    peers = doc.get("peers")
    if not peers:
        return None
    pick = peers["pick"]
    measured = [p for p in peers["routes"] if p["pick_vs"]]
    if not measured:
        reasons = "; ".join(f"{p['id']}: {p['why'] or p['status']}" for p in peers["routes"])
        return f"Peers: none measured ({reasons})"
    parts = [f"{_times(p['pick_vs'])} {p['id']}" + ("" if p["accurate"] else " (which misses the accuracy gate)")
             for p in measured]
    text = f"Against the peers: {pick} is {', '.join(parts)} (same texts, same threads per process)."
    best = next((p for p in measured if p["id"] == peers.get("best")), None)
    if best is None:
        return text + " No peer passes the accuracy gate."
    if peers["export_advised"]:
        return text + f" Exporting {pick} (qtui export {pick}) is worth it over {best['id']}, the fastest peer."
    return (text + f" {pick} is not conclusively faster than {best['id']}, which passes the same gate: run "
            f"{best['id']} as its project documents it; a qtui export gains nothing measurable here.")


def finding_clause(doc: dict) -> str:
    """The finding's short form: " Against the peers: openvino-int8 is 5.53× fastembed, 1.05× st-openvino-qint8;
    not conclusively faster than st-openvino-qint8." (the summary's line has the CIs)."""
    peers = doc.get("peers") or {}
    measured = [p for p in peers.get("routes", []) if p["pick_vs"]]
    if not measured:
        return ""
    ratios = ", ".join(f"{p['pick_vs']['point']:.2f}× {p['id']}" for p in measured)
    best = peers.get("best")
    verdict = ("no peer passes the accuracy gate" if best is None
               else f"worth exporting over {best}" if peers["export_advised"]
               else f"not conclusively faster than {best}, which passes the same gate")
    return f" Against the peers: {peers['pick']} is {ratios}; {verdict}."
