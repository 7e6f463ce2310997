"""The stand-in peer interpreter's entry: the real peer worker (tui.core.peer_process.child_main, the protocol under
test), with every peer prepared as torch fp32 of the run's model and reporting a made-up package version, so the
test knows the versions came from this process."""

import sys
from dataclasses import replace

assert sys.argv[1:3] == ["-m", "tui.core.peer_main"], sys.argv  # what PeerProcess runs the peers' python with
sys.argv = [sys.argv[0], *sys.argv[3:]]

import tui.core.routes as routes  # noqa: E402
from tui.core.peer_main import child_main  # noqa: E402


def prepare_standin(spec, ctx):
    import torch

    from tui.core.models import load_sentence_transformer
    from tui.core.routes.base import TorchRunner

    torch.set_num_threads(ctx.threads)
    model = load_sentence_transformer(ctx.model_dir).eval()
    return TorchRunner(model, ctx.threads, {"versions": "standin-peer=1.0", "interpreter": sys.executable})


routes.RUNTIMES["peer"] = replace(routes.RUNTIMES["peer"], prepare=prepare_standin)
child_main()
