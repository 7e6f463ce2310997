"""A removed widget's render cache is freed (Textual #6665 work-around in tui.textual_fixes)."""

import gc
import weakref

from textual._styles_cache import StylesCache
from textual.color import Color

import tui.app  # noqa: F401  (applies the fixes)


def test_styles_cache_is_not_pinned_by_get_inner_outer():
    cache = StylesCache()
    inner, outer = cache.get_inner_outer(Color(10, 20, 30), Color(200, 100, 0, 0.5))
    assert inner.background == Color(10, 20, 30) + Color(200, 100, 0, 0.5) and outer.background == Color(10, 20, 30)
    ref = weakref.ref(cache)
    del cache
    gc.collect()
    assert ref() is None
