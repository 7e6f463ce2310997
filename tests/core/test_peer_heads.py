"""What the peers read of a model before building anything (tui.core.routes.peer_common, peer_fastembed): its
sentence-transformers head from its files, and the reasons fastembed cannot run a head. Standard library only,
so these run in qtui's own environment."""

import json
import shutil

import pytest

from tui.core.models import packaged_model_dir
from tui.core.routes.base import RouteUnavailable
from tui.core.routes.peer_common import model_head
from tui.core.routes.peer_fastembed import fastembed_pooling, parallel_unavailable


def test_the_packaged_models_head_is_mean_pooling_normalized_256_tokens_384_wide():
    head = model_head(packaged_model_dir())
    assert (head["pooling"], head["normalize"], head["max_seq_length"], head["dim"]) == ("mean_tokens", True,
                                                                                         256, 384)
    assert fastembed_pooling(head) == "MEAN"


def model_with(tmp_path, *, extra_module=None, pooling="pooling_mode_mean_tokens"):
    folder = tmp_path / "model"
    shutil.copytree(packaged_model_dir(), folder)
    modules = json.loads((folder / "modules.json").read_text())
    if extra_module:
        modules.append({"idx": len(modules), "name": "3", "path": "3_Dense", "type": extra_module})
        (folder / "modules.json").write_text(json.dumps(modules))
    config = folder / "1_Pooling" / "config.json"
    settings = {k: (k == pooling) if k.startswith("pooling_mode_") else v
                for k, v in json.loads(config.read_text()).items()}
    config.write_text(json.dumps({**settings, pooling: True}))
    return folder


def test_a_head_beyond_pooling_and_normalize_is_named_as_the_reason(tmp_path):
    head = model_head(model_with(tmp_path, extra_module="sentence_transformers.models.Dense"))
    with pytest.raises(RouteUnavailable, match="this model also has Dense"):
        fastembed_pooling(head)


def test_a_pooling_fastembed_lacks_is_named_as_the_reason(tmp_path):
    head = model_head(model_with(tmp_path, pooling="pooling_mode_max_tokens"))
    with pytest.raises(RouteUnavailable, match=r"no pooling like this model's \(max_tokens\)"):
        fastembed_pooling(head)


def test_a_folder_without_modules_json_is_not_a_sentence_transformers_model(tmp_path):
    with pytest.raises(RouteUnavailable, match="sentence-transformers model folder"):
        model_head(tmp_path)


def test_the_pool_needs_a_list_as_long_as_fastembeds_batch():
    assert "--num-texts 256" in parallel_unavailable(128) and parallel_unavailable(256) is None
