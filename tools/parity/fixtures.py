#!/usr/bin/env python3
"""Builds the parity fixtures offline, deterministically, the way the real ones are built:

  spm.model                SentencePiece Unigram trained (pip sentencepiece) on the data's templates and labels
  entity_vocab.json        mLUKE's own format: "<lang>:<title>" -> id, titles of one Wikidata id sharing an id,
                           special entities unprefixed ([MASK2] last, as mLUKE's conversion appends it)
  hf/luke, hf/luke_aware   LukeForMaskedLM (use_entity_aware_attention False / True) + MLukeTokenizer, save_pretrained
  hf/xlmr                  XLMRobertaForMaskedLM + XLMRobertaTokenizer from the same SentencePiece model
  hf/bert                  BertForMaskedLM + BertTokenizer from a vocab.txt laid out as multilingual BERT's (cased),
                           the pieces of the WordPiece tokenizer trained offline on the same corpus
                           (datasets/tokenizer/wordpiece-12k.tokenizer.json, `make tokenizer-wordpiece`)
  ck/<family>              each exported with tools/export_mluke.py

Weights are RANDOM (torch.manual_seed): the fixtures check that the harness computes what transformers computes,
not what any model knows.

    python3 tools/parity/fixtures.py --data ../shared/datasets/mlama --out checkpoints/parity
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER = os.path.join(HERE, "..", "export_mluke.py")
SPECIALS = ["[PAD]", "[UNK]", "[MASK]"]
WORDPIECE = os.path.join(HERE, "..", "..", "datasets", "tokenizer", "wordpiece-12k.tokenizer.json")

# A family is one row: how its transformers model and tokenizer are made and whether it has entities.
FAMILIES = {
    "luke": {"model": "LukeForMaskedLM", "tokenizer": "MLukeTokenizer", "entities": True, "config": {"use_entity_aware_attention": False}},
    "luke_aware": {"model": "LukeForMaskedLM", "tokenizer": "MLukeTokenizer", "entities": True, "config": {"use_entity_aware_attention": True}},
    "xlmr": {"model": "XLMRobertaForMaskedLM", "tokenizer": "XLMRobertaTokenizer", "entities": False, "config": {}},
    "bert": {"model": "BertForMaskedLM", "tokenizer": "BertTokenizer", "entities": False, "config": {}, "vocab": "wordpiece"},
}

PRESETS = {
    # make parity: the shared data (10 languages), an 8k vocabulary, a small encoder
    "parity": {"vocab_size": 8000, "hidden": 32, "layers": 2, "heads": 4, "intermediate": 64, "entity_emb": 16},
    # committed golden fixtures: the bundled sample, a few hundred KB per checkpoint
    "golden": {"vocab_size": 1200, "hidden": 8, "layers": 2, "heads": 2, "intermediate": 16, "entity_emb": 4},
}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_data(root):
    """{lang: {"templates": [text], "triples": [(sub_uri, sub_label, obj_uri, obj_label)], "objects": [label]}}"""
    out = {}
    for lang in sorted(os.listdir(root)):
        tfile = os.path.join(root, lang, "templates.jsonl")
        if not os.path.exists(tfile):
            continue
        templates = read_jsonl(tfile)
        triples = []
        for t in templates:
            rfile = os.path.join(root, lang, f"{t['relation']}.jsonl")
            if os.path.exists(rfile):
                triples += [(r["sub_uri"], r["sub_label"], r["obj_uri"], r["obj_label"]) for r in read_jsonl(rfile)]
        objects = []
        for d in ("TREx_multilingual_objects", "GoogleRE_objects"):
            cfile = os.path.join(root, d, f"{lang}.json")
            if os.path.exists(cfile):
                with open(cfile, encoding="utf-8") as f:
                    for entry in json.load(f).values():
                        objects += entry.get("objects", [])
        out[lang] = {"templates": [t["template"] for t in templates], "triples": triples, "objects": objects}
    return out


def train_spm(data, vocab_size, out_dir):
    import sentencepiece as spm

    lines = set()
    for d in data.values():
        lines.update(t.replace("[X]", "").replace("[Y]", "") for t in d["templates"])
        for su, sl, ou, ol in d["triples"]:
            lines.update((sl, ol))
        lines.update(d["objects"])
    corpus = os.path.join(out_dir, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(line for line in lines if line.strip())) + "\n")
    # XLM-R's layout: <unk>=0, <s>=1, </s>=2 in SentencePiece, shifted by fairseq's offset in the tokenizer.
    spm.SentencePieceTrainer.train(
        input=corpus,
        model_prefix=os.path.join(out_dir, "spm"),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        byte_fallback=True,
        num_threads=1,
        shuffle_input_sentence=False,
        seed_sentencepiece_size=200000,
        minloglevel=2,
    )
    os.remove(corpus)
    return os.path.join(out_dir, "spm.model"), len(lines)


def unit_hash(seed, *parts):
    h = hashlib.sha256("|".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def build_entity_vocab(data, seed, keep_en=0.85, keep_other=0.5):
    """One id per Wikidata id, shared by its titles; like a Wikipedia-derived vocabulary it is incomplete (each
    (entity, language) title kept with a seeded probability), so lookups miss and the fallback has work to do.
    A title already taken by another entity (a homograph) stays with the first, as a real vocabulary has one
    entity per title."""
    titles = {}
    for lang, d in data.items():
        for su, sl, ou, ol in d["triples"]:
            titles.setdefault(su, {}).setdefault(lang, sl)
            titles.setdefault(ou, {}).setdefault(lang, ol)
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    nxt = len(SPECIALS)
    for uri in sorted(titles):
        keys = [f"{lang}:{label}" for lang, label in sorted(titles[uri].items()) if unit_hash(seed, uri, lang) < (keep_en if lang == "en" else keep_other)]
        keys = [k for k in keys if k not in vocab]
        if not keys:
            continue
        for k in keys:
            vocab[k] = nxt
        nxt += 1
    vocab["[MASK2]"] = nxt
    return vocab


def wordpiece_vocab_txt(out_dir):
    """mBERT's vocab.txt layout (one piece a line, the line number its id) from the committed WordPiece tokenizer."""
    with open(WORDPIECE, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    pieces = sorted(vocab, key=vocab.get)
    assert [vocab[p] for p in pieces] == list(range(len(pieces))), f"{WORDPIECE}: ids are not 0..{len(pieces) - 1}"
    path = os.path.join(out_dir, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(p + "\n" for p in pieces))
    return path


def build_family(name, fam, preset, spm_model, entity_vocab_file, seed, hf_dir):
    import torch
    import transformers

    tok_cls = getattr(transformers, fam["tokenizer"])
    if fam.get("vocab") == "wordpiece":
        # Cased, as multilingual BERT's (bert-base-multilingual-cased): no lower-casing, accents kept.
        tok = tok_cls(vocab_file=wordpiece_vocab_txt(os.path.dirname(spm_model)), do_lower_case=False)
    elif fam["entities"]:
        tok = tok_cls(vocab_file=spm_model, entity_vocab_file=entity_vocab_file)
    else:
        tok = tok_cls(vocab_file=spm_model)
    common = dict(
        vocab_size=len(tok),
        hidden_size=preset["hidden"],
        num_hidden_layers=preset["layers"],
        num_attention_heads=preset["heads"],
        intermediate_size=preset["intermediate"],
        max_position_embeddings=256,
        type_vocab_size=1,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    if fam["entities"]:
        config = transformers.LukeConfig(entity_vocab_size=max(tok.entity_vocab.values()) + 1, entity_emb_size=preset["entity_emb"], **common, **fam["config"])
    elif fam["model"] == "BertForMaskedLM":
        # mBERT's two token types; the harness feeds type 0 everywhere, as a single-sentence BertTokenizer does.
        config = transformers.BertConfig(**{**common, "type_vocab_size": 2}, **fam["config"])
    else:
        config = transformers.XLMRobertaConfig(**common, **fam["config"])
    torch.manual_seed(seed)
    model = getattr(transformers, fam["model"])(config).eval()
    out = os.path.join(hf_dir, name)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="parity")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--families", default=",".join(FAMILIES))
    a = ap.parse_args()
    preset = PRESETS[a.preset]
    os.makedirs(a.out, exist_ok=True)
    data = read_data(a.data)
    spm_model, n_lines = train_spm(data, preset["vocab_size"], a.out)
    vocab = build_entity_vocab(data, a.seed)
    ev_file = os.path.join(a.out, "entity_vocab.json")
    with open(ev_file, "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    print(
        f"fixtures: SentencePiece Unigram {preset['vocab_size']} pieces on {n_lines} lines of {len(data)} languages; "
        f"entity vocabulary {len(vocab)} keys, {vocab['[MASK2]'] + 1} ids"
    )
    for name in a.families.split(","):
        fam = FAMILIES[name]
        hf = build_family(name, fam, preset, spm_model, ev_file, a.seed, os.path.join(a.out, "hf"))
        ck = os.path.join(a.out, "ck", name)
        cmd = [sys.executable, EXPORTER, hf, ck, "--tolerance", "1e-4", "--random-weights"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"fixtures: {name}: {fam['model']} (random weights, seed {a.seed}) exported to {ck}")


if __name__ == "__main__":
    main()
