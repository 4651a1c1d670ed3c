#!/usr/bin/env python3
"""Writes the committed golden fixtures (test/fixtures/parity) that test/parity.test.ts checks without Python:
tiny exported checkpoints per family (RANDOM weights, built by fixtures.py --preset golden on the bundled sample),
the tokenizer files they came from, and what transformers gives on the sample:

  expected.json  {"limit", "styles", "families": {name: {"inputs": {prompt key: passes, ...} (transformers'
                 tokenizer, for the harness with --tokenization spans and no fallback), "candidates": {relation key:
                 {tokens, entity_ids}}, "scores": {prompt key: {top: [[label, score]], gold_rank, gold_score}}
                 (PyTorch on the harness's default inputs)}}}

    .venv/bin/python tools/parity/golden.py
"""

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import parity  # noqa: E402

ROOT = parity.ROOT
OUT = os.path.join(ROOT, "test", "fixtures", "parity")
DATA = os.path.join(ROOT, "datasets", "mlama-sample")
LIMIT = 2
CK_FILES = ["model.onnx", "model.naive.onnx", "weights.bin", "tokenizer.json", "entity_vocab.json", "config.json", "mlama-checkpoint.json"]
TOKENIZER_FILES = ["sentencepiece.bpe.model", "entity_vocab.json", "tokenizer_config.json", "special_tokens_map.json"]
# Not bert: its golden checkpoint measured 1.2 MB (the 12k WordPiece pieces, twice in the graphs and once in
# tokenizer.json), over the fixtures' budget; make parity checks it.
FAMILIES = ["luke", "luke_aware", "xlmr"]


def key(p):
    return "|".join([p["style"], p["language"], p["relation"], p["template"], p["subject"]])


def share_files(name):
    """Points a family's manifest at an earlier family's byte-identical tokenizer or entity vocabulary (luke_aware
    has luke's) and drops its own copy: the fixtures hold each file once."""
    own = os.path.join(OUT, name)
    with open(os.path.join(own, "mlama-checkpoint.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    for field in ("tokenizer", "entity_vocab"):
        file = manifest["files"].get(field)
        if file is None:
            continue
        for earlier in FAMILIES[: FAMILIES.index(name)]:
            other = os.path.join(OUT, earlier, file)
            if os.path.exists(other) and filecmp.cmp(other, os.path.join(own, file), shallow=False):
                os.remove(os.path.join(own, file))
                manifest["files"][field] = f"../{earlier}/{file}"
                break
    with open(os.path.join(own, "mlama-checkpoint.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)


def main():
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    styles_info = parity.styles_table()
    with tempfile.TemporaryDirectory(prefix="mlama-golden-") as tmp:
        work = os.path.join(tmp, "fixtures")
        subprocess.run(
            [
                sys.executable,
                "-W",
                "ignore",
                os.path.join(HERE, "fixtures.py"),
                "--preset",
                "golden",
                "--data",
                DATA,
                "--out",
                work,
                "--families",
                ",".join(FAMILIES),
            ],
            check=True,
        )
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(os.path.join(OUT, "tokenizer"))
        for f in TOKENIZER_FILES:
            shutil.copy(os.path.join(work, "hf", "luke", f), os.path.join(OUT, "tokenizer", f))
        expected = {"limit": LIMIT, "data": "datasets/mlama-sample", "families": {}}
        for name in FAMILIES:
            fam = parity.FAMILIES[name]
            ck = os.path.join(work, "ck", name)
            os.makedirs(os.path.join(OUT, name))
            for f in CK_FILES:
                if os.path.exists(os.path.join(ck, f)):
                    shutil.copy(os.path.join(ck, f), os.path.join(OUT, name, f))
            share_files(name)
            entry = {"styles": fam["styles"]}
            if fam["inputs_of"] == name:
                ref = parity.Reference(AutoTokenizer.from_pretrained(os.path.join(work, "hf", name), use_fast=False), styles_info)
                d = parity.dump(ck, DATA, fam["styles"], LIMIT, "spans", False, os.path.join(tmp, "spans.json"))
                entry["inputs"], entry["candidates"] = {}, {}
                for p in d["prompts"]:
                    rel = d["relations"][p["relation_key"]]
                    passes, tokens, ent_ids = ref.prompt(p, rel)
                    entry["inputs"][key(p)] = passes
                    c = entry["candidates"].setdefault(p["relation_key"], {"tokens": tokens})
                    if ent_ids is not None:
                        c["entity_ids"] = ent_ids
            d = parity.dump(ck, DATA, fam["styles"], LIMIT, "in-context", True, os.path.join(tmp, "default.json"))
            model = AutoModelForMaskedLM.from_pretrained(os.path.join(work, "hf", name)).eval()
            scores = parity.reference_scores(model, d, styles_info, parity.BUILT[name]["entities"])
            entry["scores"] = {}
            for p, sc in zip(d["prompts"], scores):
                labels = d["relations"][p["relation_key"]]["labels"]
                top, gold_rank, best = parity.rank(sc, p["golds"])
                entry["scores"][key(p)] = {"top": [[labels[i], sc[i]] for i in top], "gold_rank": gold_rank, "gold_score": sc[best]}
            expected["families"][name] = entry
        with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, ensure_ascii=False)
    for d in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, d)
        size = sum(os.path.getsize(os.path.join(p, f)) for f in os.listdir(p)) if os.path.isdir(p) else os.path.getsize(p)
        print(f"golden: {d} {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
