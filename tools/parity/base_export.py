#!/usr/bin/env python3
"""Exports a randomly initialised mLUKE-base-sized LukeForMaskedLM (studio-ousia/mluke-base's shapes: hidden 768,
12 layers, 250,004 words, entity embedding 256) with tools/export_mluke.py's export path, to check that the export
fits in memory past protobuf's 2 GB limit and to benchmark the exported graph beside the generated base-shaped one.

The tokenizer and entity vocabulary are taken from a generated base-shaped checkpoint (--like) so both benchmarks
rank the same candidates: its tokenizer.json gains mLUKE's <ent> and <ent2> (250,002 -> 250,004 ids), its entity
vocabulary (1,000,000 ids) is kept. RANDOM weights: for memory and speed only.

    python3 tools/parity/base_export.py --like checkpoints/base-shaped --out checkpoints/exported-base
"""

import argparse
import importlib.util
import json
import os
import resource
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_exporter():
    spec = importlib.util.spec_from_file_location("export_mluke", os.path.join(HERE, "..", "export_mluke.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tokenizer_with_entity_tokens(src, dst):
    with open(src, encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    for t in ("<ent>", "<ent2>"):
        j["added_tokens"].append({"id": len(vocab), "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True})
        vocab.append([t, 0.0])
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    return len(vocab)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--like", required=True, help="a generated base-shaped checkpoint (tokenizer and entity vocabulary)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--entity-aware", action="store_true")
    a = ap.parse_args()
    import onnx
    import onnxruntime as ort
    import torch
    import transformers

    ex = load_exporter()
    with open(os.path.join(a.like, "config.json")) as f:
        like = json.load(f)
    t0 = time.time()
    os.makedirs(a.out, exist_ok=True)
    words = tokenizer_with_entity_tokens(os.path.join(a.like, "tokenizer.json"), os.path.join(a.out, "tokenizer.json.tmp"))
    config = transformers.LukeConfig(
        vocab_size=words,
        entity_vocab_size=like["entity_vocab_size"],
        layer_norm_eps=1e-5,
        use_entity_aware_attention=a.entity_aware,
        **ex.MLUKE_BASE,
    )
    torch.manual_seed(a.seed)
    mlm = transformers.LukeForMaskedLM(config).eval()
    params = sum(p.numel() for p in mlm.parameters())
    print(f"base export: LukeForMaskedLM {params / 1e6:.0f}M parameters (random), {time.time() - t0:.0f} s")

    def side_files(out_dir):
        os.replace(os.path.join(out_dir, "tokenizer.json.tmp"), os.path.join(out_dir, "tokenizer.json"))
        shutil.copy(os.path.join(a.like, "entity_vocab.json"), out_dir)

    origin = {
        "exporter": "tools/parity/base_export.py",
        "source": "random LukeForMaskedLM, mluke-base shapes",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
    }
    spec = ex.export_model(torch, onnx, mlm, "luke", mlm.config.to_dict(), a.out, origin, side_files, random_weights=True)
    ex.check_parity(torch, ort, mlm, a.out, spec, "luke", 1e-3)
    size = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"base export: {size / 2**30:.2f} GiB written (over protobuf's 2 GB limit: {size > 2**31}), peak RSS {peak:.1f} GiB, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
