"""qtui's pick against the peers (tui.core.peers) and what the rest of the judgement does with a peer, on synthetic
reports through the real code: never recommended, never the int8 route or a frontier point, `peer-as-fast` only
when the pick is not conclusively faster than an accurate peer."""

from tests.conftest import FIXTURES
from tests.synthetic import BASE, doc, route
from tui.core import frontier, peers
from tui.core.advice import diagnose
from tui.core.cpu import load_cpuinfo_file
from tui.core.recommendation import recommend_route

ZEN4 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen4-epyc-9r14.txt")


def peer(rid, point, cosine=0.998, **kw):
    r = route(rid, point, cosine=cosine, **kw)
    r.update(peer=True, backend="peer", peer_versions={"fastembed": "0.9.1"} if rid.startswith("fastembed") else
             {"sentence-transformers": "5.7.0"})
    return r


def report(*routes, pick_vs: dict):
    """A report whose `peers` field is judged from chosen paired ratios of the pick over each peer."""
    d = doc([BASE, *routes])
    entries = [{"id": r["id"], "status": r["status"], "why": None, "versions": r["peer_versions"],
                "accurate": r["accuracy"]["cosine_mean"] >= 0.99, "pick_vs": pick_vs[r["id"]]}
               for r in routes if r.get("peer")]
    d["peers"] = peers.judge({"pick": d["recommendation"]["route"], "routes": entries}, d)
    return d


def vs(point, lo, hi):
    return {"point": point, "ci95": [lo, hi], "verdict": "faster" if lo > 1 else "slower" if hi < 1 else
            "inconclusive"}


def test_a_faster_peer_is_never_the_recommendation_nor_on_the_frontier():
    routes = [BASE, route("openvino-int8", 2.5, cosine=0.998), peer("st-openvino-qint8", 3.0)]
    assert recommend_route(routes, 0.99)["route"] == "openvino-int8"
    d = doc(routes)
    assert frontier.int8_pick(d)["id"] == "openvino-int8"
    assert "st-openvino-qint8" not in [p["route"] for p in frontier.points(d)]


def test_export_is_advised_only_when_the_pick_is_conclusively_faster_than_the_fastest_accurate_peer():
    d = report(route("openvino-int8", 2.5, cosine=0.998), peer("fastembed", 0.5, cosine=1.0),
               peer("st-openvino-qint8", 2.0), pick_vs={"fastembed": vs(5.0, 4.8, 5.2),
                                                        "st-openvino-qint8": vs(1.25, 1.1, 1.4)})
    assert d["peers"]["best"] == "st-openvino-qint8" and d["peers"]["export_advised"]
    text = peers.comparison(d)
    assert "5.00× [4.80–5.20] fastembed" in text and "1.25× [1.10–1.40] st-openvino-qint8" in text
    assert "qtui export openvino-int8" in text
    assert "worth exporting over st-openvino-qint8" in peers.finding_clause(d)
    assert "peer-as-fast" not in [a.code for a in diagnose(ZEN4, d)]


def test_an_accurate_peer_as_fast_as_the_pick_is_what_the_advice_says_to_run():
    d = report(route("openvino-int8", 2.5, cosine=0.998), peer("st-openvino-qint8", 2.45),
               pick_vs={"st-openvino-qint8": vs(1.02, 0.95, 1.09)})
    assert d["peers"]["best"] == "st-openvino-qint8" and not d["peers"]["export_advised"]
    assert "gains nothing measurable" in peers.comparison(d)
    assert "not conclusively faster than st-openvino-qint8" in peers.finding_clause(d)
    item = next(a for a in diagnose(ZEN4, d) if a.code == "peer-as-fast")
    assert "1.02× (95 % CI 0.95–1.09)" in item.evidence and "sentence-transformers 5.7.0" in item.evidence
    assert "export_static_quantized_openvino_model" in item.recipe  # the peer's own documented call


def test_a_peer_that_misses_the_gate_is_not_the_one_to_beat():
    d = report(route("openvino-int8", 2.5, cosine=0.998), peer("st-onnx-qint8", 3.0, cosine=0.95),
               pick_vs={"st-onnx-qint8": vs(0.8, 0.75, 0.85)})
    assert d["peers"]["best"] is None and not d["peers"]["export_advised"]
    text = peers.comparison(d)
    assert "(which misses the accuracy gate)" in text and "No peer passes the accuracy gate" in text


def test_versions_are_read_from_the_workers_facts():
    assert peers.peer_versions({"versions": "fastembed=0.9.1,onnxruntime=1.32.0"}) == {
        "fastembed": "0.9.1", "onnxruntime": "1.32.0"}
    assert peers.peer_versions({}) is None
    assert peers.comparison(doc([BASE])) is None and peers.finding_clause(doc([BASE])) == ""
