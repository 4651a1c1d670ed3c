#!/usr/bin/env python3
"""Hub-style model directories for `make quickstart`, written by transformers' save_pretrained as the hub stores
them: a LukeForMaskedLM with MLukeTokenizer (sentencepiece.bpe.model + entity_vocab.json), an XLMRobertaForMaskedLM
with XLMRobertaTokenizer and a BertForMaskedLM with BertTokenizer (vocab.txt laid out as multilingual BERT's).

Weights are RANDOM (seeded) and tiny: the quickstart checks that the README's commands work on the files a user
downloads, not what any model knows. The tokenizers, entity vocabulary and models are built by the parity fixtures'
own builders (tools/parity/fixtures.py) with their small `golden` preset, on the data given.

    .venv/bin/python tools/quickstart_hub.py --data datasets/mlama-sample --out WORK/hub
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

# transformers' notices (generation mixin, tokenizer defaults) are not the quickstart's output.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))
import fixtures  # noqa: E402

# The directory names a user gets from the hub (the README's quickstart uses them), by fixture family.
HUB_NAMES = {"luke": "mluke-base", "xlmr": "xlm-roberta-base", "bert": "bert-base-multilingual-cased"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="an mLAMA folder in the shared layout (<lang>/templates.jsonl)")
    ap.add_argument("--out", required=True, help="folder that receives one directory per model")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    preset = fixtures.PRESETS["golden"]
    data = fixtures.read_data(a.data)
    os.makedirs(a.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spm_model, _ = fixtures.train_spm(data, preset["vocab_size"], tmp)
        ev_file = os.path.join(tmp, "entity_vocab.json")
        with open(ev_file, "w", encoding="utf-8") as f:
            json.dump(fixtures.build_entity_vocab(data, a.seed), f, ensure_ascii=False)
        for fam, hub in HUB_NAMES.items():
            built = fixtures.build_family(fam, fixtures.FAMILIES[fam], preset, spm_model, ev_file, a.seed, tmp)
            dest = os.path.join(a.out, hub)
            shutil.rmtree(dest, ignore_errors=True)
            shutil.move(built, dest)
            print(f"quickstart hub: {dest}: {fixtures.FAMILIES[fam]['model']} + {fixtures.FAMILIES[fam]['tokenizer']} (random weights, seed {a.seed})")


if __name__ == "__main__":
    main()
