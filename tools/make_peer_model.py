#!/usr/bin/env python3
"""A randomly initialised, mLUKE-base-sized LukeForMaskedLM saved the way the hub's studio-ousia/mluke-base is
(config, weights, MLukeTokenizer with its SentencePiece model and entity_vocab.json), built offline for
`make bench-peer`: the peer benchmark runs it in PyTorch, and tools/export_mluke.py exports it for the harness.

    python3 tools/make_peer_model.py ../shared/datasets/mlama checkpoints/peer-hf

The tokenizer is real but small: a Unigram SentencePiece model trained with pip sentencepiece on the data's
templates and labels, then padded with pieces no text can produce (private-use characters) up to XLM-R's
250,000 pieces, so the word vocabulary (with <mask>, <ent>, <ent2>) has mLUKE's 250,004 ids. The entity
vocabulary has one id per Wikidata entity of the data (its titles in every language, "<lang>:<title>") and
filler up to 1,000,000 ids, plus [MASK2] as mLUKE's conversion appends it. The weights are RANDOM.
"""

import argparse
import glob
import json
import os
import sys
import tempfile

SP_PIECES = 250_000  # XLM-R's SentencePiece size: + fairseq offset + <mask> + <ent>, <ent2> = 250,004 ids
ENTITIES = 1_000_000  # before [MASK2]


def corpus_and_entities(data):
    lines, by_uri = set(), {}
    langs = sorted(d for d in os.listdir(data) if os.path.isfile(os.path.join(data, d, "templates.jsonl")))
    for lang in langs:
        for path in sorted(glob.glob(os.path.join(data, lang, "*.jsonl"))):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        continue
                    r = json.loads(line)
                    if "template" in r:
                        lines.add(r["template"].replace("[X]", "").replace("[Y]", ""))
                        continue
                    for uri, label in ((r["sub_uri"], r["sub_label"]), (r["obj_uri"], r["obj_label"])):
                        lines.add(label)
                        by_uri.setdefault(uri, {}).setdefault(lang, label)
        objects = os.path.join(data, "TREx_multilingual_objects", f"{lang}.json")
        if os.path.exists(objects):
            with open(objects, encoding="utf-8") as f:
                for sets in json.load(f).values():
                    for k in ("subjects", "objects"):
                        lines.update(sets.get(k, []))
    return sorted(line for line in lines if line.strip()), by_uri


def train_spm(lines, out_model):
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        spm.SentencePieceTrainer.train(
            input=corpus,
            model_prefix=os.path.join(tmp, "m"),
            vocab_size=32000,
            model_type="unigram",
            character_coverage=1.0,
            normalization_rule_name="nfkc",
            num_threads=2,
            shuffle_input_sentence=False,
            minloglevel=2,
        )
        m = pb.ModelProto()
        with open(os.path.join(tmp, "m.model"), "rb") as f:
            m.ParseFromString(f.read())
    low = min(p.score for p in m.pieces) - 10
    for i in range(len(m.pieces), SP_PIECES):
        p = m.pieces.add()
        p.piece = "\ue000" + format(i, "x")  # a private-use prefix: no NFKC-normalised data text contains it
        p.score = low
        p.type = pb.ModelProto.SentencePiece.NORMAL
    with open(out_model, "wb") as f:
        f.write(m.SerializeToString())


def entity_vocab(by_uri):
    vocab = {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2}
    n = 3
    for uri in sorted(by_uri):
        for lang, title in sorted(by_uri[uri].items()):
            vocab.setdefault(f"{lang}:{title}", n)
        n += 1
    if n > ENTITIES:
        sys.exit(f"error: the data has {n} entities, more than {ENTITIES}")
    for i in range(n, ENTITIES):
        vocab[f"xx:\ue000filler {i}"] = i
    vocab["[MASK2]"] = ENTITIES
    return vocab, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", help="mLAMA directory")
    ap.add_argument("out", help="directory to write (transformers' save_pretrained layout)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import torch
    from export_mluke import MLUKE_BASE
    from transformers import LukeConfig, LukeForMaskedLM, MLukeTokenizer

    os.makedirs(a.out, exist_ok=True)
    lines, by_uri = corpus_and_entities(a.data)
    with tempfile.TemporaryDirectory() as tmp:
        sp = os.path.join(tmp, "sentencepiece.bpe.model")
        train_spm(lines, sp)
        vocab, real = entity_vocab(by_uri)
        ev = os.path.join(tmp, "entity_vocab.json")
        with open(ev, "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        tok = MLukeTokenizer(vocab_file=sp, entity_vocab_file=ev)
        tok.save_pretrained(a.out)
    if len(tok) != 250_004:
        sys.exit(f"error: the tokenizer has {len(tok)} ids, not 250,004")
    torch.manual_seed(a.seed)
    config = LukeConfig(vocab_size=len(tok), entity_vocab_size=ENTITIES + 1, use_entity_aware_attention=True, **MLUKE_BASE)
    model = LukeForMaskedLM(config).eval()
    model.save_pretrained(a.out)
    with open(os.path.join(a.out, "RANDOM_WEIGHTS"), "w") as f:
        f.write("randomly initialised by tools/make_peer_model.py: benchmark use only, no knowledge in it\n")
    print(f"wrote {a.out}: {len(lines)} training lines, {len(tok)} word ids, {real} data entities + filler = {ENTITIES + 1} entity ids, RANDOM weights")


if __name__ == "__main__":
    main()
