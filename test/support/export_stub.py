"""Test driver: exports a stub LUKE-shaped model with tools/export_mluke.py's export path, then scores the passes
the harness built (passes.json) with torch, so the harness can compare its onnxruntime scores.

    /usr/bin/python3 test/support/export_stub.py TINY_CHECKPOINT OUT_DIR [PASSES_JSON REFERENCE_JSON]
"""

import importlib.util
import json
import os
import shutil
import sys

import onnx
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from stub_luke import StubLukeForMaskedLM  # noqa: E402

spec = importlib.util.spec_from_file_location("export_mluke", os.path.join(here, "..", "..", "tools", "export_mluke.py"))
exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exporter)

source, out = sys.argv[1], sys.argv[2]
with open(os.path.join(source, "config.json")) as f:
    config = json.load(f)
config.update({"hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, "entity_emb_size": 16, "num_hidden_layers": 1})
mlm = StubLukeForMaskedLM(config, seed=5).eval()


def side_files(out_dir):
    shutil.copy(os.path.join(source, "tokenizer.json"), out_dir)
    shutil.copy(os.path.join(source, "entity_vocab.json"), out_dir)


exporter.export_model(torch, onnx, mlm, "luke", config, out, {"exporter": "tools/export_mluke.py", "source": "stub"}, side_files, unpack_min_bytes=0)

if len(sys.argv) > 4:
    with open(sys.argv[3]) as f:
        passes = json.load(f)
    scores = []
    with torch.no_grad():
        for p in passes:
            L, E = len(p["inputIds"]), max(1, len(p["entityIds"]))
            P = max([1] + [len(x) for x in p["entityPositions"]])
            ids = p["entityIds"] or [0]
            pos = [
                [(p["entityPositions"][e][k] if e < len(p["entityPositions"]) and k < len(p["entityPositions"][e]) else -1) for k in range(P)] for e in range(E)
            ]
            r = mlm(
                torch.tensor([p["inputIds"]]),
                torch.ones(1, L, dtype=torch.long),
                torch.tensor([ids]),
                torch.tensor([[1 if p["entityIds"] else 0] * E]),
                torch.zeros(1, E, dtype=torch.long),
                torch.tensor([pos]),
            )
            if p["head"] == "word":
                lp = torch.log_softmax(r.logits[0], -1)
                scores.append([sum(float(lp[m, t]) for m, t in zip(p["maskPositions"], toks)) / len(toks) for toks in p["candidateTokens"]])
            else:
                lp = torch.log_softmax(r.entity_logits[0, 0], -1)
                scores.append([float(lp[e]) if e is not None else None for e in p["candidateEntities"]])
    with open(sys.argv[4], "w") as f:
        json.dump(scores, f)
