import threading

import pytest

from tui.core.cache import MANIFEST, ArtefactCache, verify


def build_counting(calls: list):
    def build(d):
        calls.append(d)
        (d / "model.bin").write_bytes(b"weights" * 100)
        return {"built": True}
    return build


def test_second_use_is_a_hit(tmp_path):
    cache, calls = ArtefactCache(tmp_path / "c"), []
    entry, facts, hit = cache.get_or_build("k", build_counting(calls), tmp_path / "scratch")
    assert not hit and facts == {"built": True} and (entry / "model.bin").exists()
    entry2, facts2, hit2 = cache.get_or_build("k", build_counting(calls), tmp_path / "scratch")
    assert hit2 and entry2 == entry and facts2 == facts and len(calls) == 1


@pytest.mark.parametrize("damage", ["truncate", "delete", "manifest"])
def test_corrupt_or_partial_entries_are_rebuilt(tmp_path, damage):
    cache, calls = ArtefactCache(tmp_path / "c"), []
    entry, _, _ = cache.get_or_build("k", build_counting(calls), tmp_path)
    if damage == "truncate":
        (entry / "model.bin").write_bytes(b"w")
    elif damage == "delete":
        (entry / "model.bin").unlink()
    else:
        (entry / MANIFEST).write_text("{not json")
    assert verify(entry) is None
    _, _, hit = cache.get_or_build("k", build_counting(calls), tmp_path)
    assert not hit and len(calls) == 2 and verify(entry) == {"built": True}


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    cache = ArtefactCache(tmp_path / "c")

    def broken(d):
        (d / "half").write_text("x")
        raise RuntimeError("export crashed")

    with pytest.raises(RuntimeError):
        cache.get_or_build("k", broken, tmp_path)
    assert [p.name for p in (tmp_path / "c").iterdir() if not p.name.endswith(".lock")] == []


def test_unusable_cache_root_means_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    cache = ArtefactCache(blocker / "cache")  # cannot mkdir under a file, even as root
    assert not cache.writable
    entry, facts, hit = cache.get_or_build("k", build_counting([]), tmp_path / "scratch")
    assert not hit and facts == {"built": True} and (entry / "model.bin").exists()


def test_two_builders_at_once_build_once(tmp_path):
    calls, results = [], []
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        results.append(ArtefactCache(tmp_path / "c").get_or_build("k", build_counting(calls), tmp_path))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(hit for _, _, hit in results) == [False, True]
