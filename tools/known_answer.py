#!/usr/bin/env python3
"""Train the known-answer checkpoint: a small LukeForMaskedLM that has memorised some mLAMA facts and never saw others.

    .venv/bin/python tools/known_answer.py [--data datasets/mlama-sample] [--out datasets/known-answer] [--seed 17]
        [--split-seed 17] [--corrupt LANG]

Everything is built here, offline and deterministically from the seed: a SentencePiece Unigram tokenizer laid out
the fairseq/XLM-R way (trained on the data's labels and templates), an mLUKE-style entity vocabulary
("<lang>:<label>" keys, one id per Wikidata entity shared by its labels in every language), and the model, trained
with LUKE's own two losses on sentences made from the mLAMA templates:
  - word MLM: the object's tokens replaced by as many <mask>s, predicted by the word head, no entities
    (the harness's word-only prompt);
  - masked entity prediction: a [MASK] entity over the object's <mask>s (1 to 4 of them, as the harness's
    candidate-length groups give) and the subject's entity over the subject's tokens (the entity prompt); in half
    of these the subject's words are masked as well (as LUKE's pretraining masks words), so the answer must also
    come through the subject's entity, which every language shares.
Subjects of each relation are split by a seeded shuffle: "all" (trained in every language), "en-only" (trained in
English sentences only: the cross-lingual probe) and "held-out" (never trained). The model is exported with
tools/export_mluke.py; training-facts.jsonl lists every (language, relation, sub_uri, obj_uri) trained.
Sentences are cut and tokenized the way the harness's prompt builder does (README: in-context tokenization),
implemented again here over the `tokenizers` library so the harness is checked, not copied.
The regression gate's demo (make gate-demo) retrains with --seed (training order and initial weights) apart from
--split-seed (which facts are trained), and plants a regression with --corrupt LANG: that language's trained facts
are taught with a wrong object (each relation's objects rotated), the other languages' facts as before.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

LANGS = ["ar", "en", "ja", "zh"]
SPLIT = (("all", 0.5), ("en-only", 0.2), ("held-out", 0.3))
TRANSFER_LANG = "en"
MAX_GROUP = 4  # entity examples use 1..4 object masks, the candidate-length groups the harness builds

README = """# Known-answer checkpoint (trained here; not mLUKE)

A small `LukeForMaskedLM` (2 layers, hidden 128) trained by `make known-answer` (tools/known_answer.py)
on part of the facts of `datasets/mlama-sample`, exported by `tools/export_mluke.py`. `training-facts.jsonl`
lists every (language, relation, sub_uri, obj_uri) it was trained on; the sample's other facts were held out, or
trained in English only. Its purpose is to check the harness: `mlama known-answer --run NAME --facts
training-facts.jsonl --data datasets/mlama-sample` must find the trained facts and not the held-out ones.
Built from mLAMA (CC BY-NC 4.0) labels and templates; for evaluation and tests only.
"""


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_data(root):
    """templates[lang][rel], triples[lang][rel] (file order), candidates[lang][rel] (labels)."""
    templates, triples, candidates = {}, {}, {}
    for lang in LANGS:
        templates[lang] = {t["relation"]: t["template"] for t in read_jsonl(os.path.join(root, lang, "templates.jsonl"))}
        rels = sorted(f[:-6] for f in os.listdir(os.path.join(root, lang)) if f.endswith(".jsonl") and f != "templates.jsonl")
        triples[lang] = {r: read_jsonl(os.path.join(root, lang, f"{r}.jsonl")) for r in rels}
        with open(os.path.join(root, "TREx_multilingual_objects", f"{lang}.json"), encoding="utf-8") as f:
            candidates[lang] = {r: v["objects"] for r, v in json.load(f).items()}
    return templates, triples, candidates


def split_subjects(triples, seed):
    """(relation, sub_uri) -> split name, by a seeded shuffle of each relation's sorted subjects."""
    rng = random.Random(seed)
    out = {}
    for rel in sorted({r for lang in LANGS for r in triples[lang]}):
        subs = sorted({t["sub_uri"] for lang in LANGS for t in triples[lang].get(rel, [])})
        rng.shuffle(subs)
        start = 0
        for name, frac in SPLIT:
            n = round(frac * len(subs))
            out.update({(rel, s): name for s in subs[start : start + n]})
            start += n
        out.update({(rel, s): SPLIT[-1][0] for s in subs[start:]})
    return out


# ---------------------------------------------------------------------------------------------------------------
# Tokenizer and entity vocabulary


def train_sentencepiece(templates, triples, candidates, work):
    import sentencepiece as spm

    lines = set()
    for lang in LANGS:
        for t in templates[lang].values():
            lines.add(t.replace("[X]", "").replace("[Y]", ""))
        for rel, ts in triples[lang].items():
            for t in ts:
                lines.update((t["sub_label"], t["obj_label"]))
        for labels in candidates[lang].values():
            lines.update(labels)
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(lines)) + "\n")
    prefix = os.path.join(work, "sentencepiece.bpe")  # XLM-R's file name, although the model is Unigram
    spm.SentencePieceTrainer.train(
        input=corpus,
        model_prefix=prefix,
        vocab_size=4000,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        normalization_rule_name="nfkc",
        num_threads=1,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return prefix + ".model", len(lines)


def build_entity_vocab(triples, candidates):
    """mLUKE's form: "<lang>:<label>" -> id, one id per Wikidata entity; candidate labels the data gives no
    Wikidata id become entities of their own language. A label already taken in a language keeps its first id."""
    vocab = {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2}
    uri_labels = {}
    for lang in LANGS:
        for rel in sorted(triples[lang]):
            for t in triples[lang][rel]:
                for uri, label in ((t["sub_uri"], t["sub_label"]), (t["obj_uri"], t["obj_label"])):
                    uri_labels.setdefault(uri, {}).setdefault(lang, [])
                    if label not in uri_labels[uri][lang]:
                        uri_labels[uri][lang].append(label)
    uri_id, clashes = {}, 0
    for uri in sorted(uri_labels, key=lambda u: (len(u), u)):
        uri_id[uri] = len(uri_id) + 3
        for lang in LANGS:
            for label in uri_labels[uri].get(lang, []):
                key = f"{lang}:{label}"
                if key in vocab:
                    clashes += 1
                else:
                    vocab[key] = uri_id[uri]
    next_id = len(uri_id) + 3
    for lang in LANGS:
        for rel in sorted(candidates[lang]):
            for label in candidates[lang][rel]:
                if f"{lang}:{label}" not in vocab:
                    vocab[f"{lang}:{label}"] = next_id
                    next_id += 1
    vocab["[MASK2]"] = next_id
    return vocab, uri_id, clashes


class PieceEncoder:
    """The harness's in-context piece encoding (src/tokenize/tokenizer.ts semantics) over the `tokenizers`
    library: a piece that starts the sentence gets the word-initial ▁, one that continues it does not."""

    def __init__(self, fast):
        from tokenizers import Tokenizer

        spec = json.loads(fast.backend_tokenizer.to_str())
        self.initial = Tokenizer.from_str(json.dumps(spec))
        spec["pre_tokenizer"] = self._never(spec["pre_tokenizer"])
        self.continuing = Tokenizer.from_str(json.dumps(spec))

    def _never(self, pre):
        if pre and pre.get("type") == "Metaspace":
            return {**pre, "prepend_scheme": "never"}
        if pre and pre.get("type") == "Sequence":
            return {**pre, "pretokenizers": [self._never(p) for p in pre["pretokenizers"]]}
        return pre

    def encode(self, text, initial):
        if text == "":
            return []
        return (self.initial if initial else self.continuing).encode(text, add_special_tokens=False).ids


def cut_template(text, enc):
    """Template -> fixed pieces and the slot contexts, as the harness's prepareTemplate cuts it."""
    ix, iy = text.index("[X]"), text.index("[Y]")
    first = "X" if ix < iy else "Y"
    a, b = sorted((ix, iy))
    before, between, after = text[:a], text[a + 3 : b], text[b + 3 :].rstrip()
    bt, wt = before.rstrip(), between.rstrip()
    slots = {first: (before[len(bt) :], bt == ""), ("Y" if first == "X" else "X"): (between[len(wt) :], False)}
    return first, [enc.encode(bt, True), enc.encode(wt, False), enc.encode(after, False)], slots


def assemble(cut, subject_ids, object_len, bos, eos, mask):
    first, pieces, _ = cut
    ids = [bos] + pieces[0]
    pos = {}
    for slot, nxt in ((first, pieces[1]), ("Y" if first == "X" else "X", pieces[2])):
        start = len(ids)
        ids += subject_ids if slot == "X" else [mask] * object_len
        pos[slot] = list(range(start, len(ids)))
        ids += nxt
    return ids + [eos], pos["X"], pos["Y"]


# ---------------------------------------------------------------------------------------------------------------


def corrupted(triples, lang):
    """`lang`'s triples with each relation's objects rotated (sorted distinct objects, each to the next), so every
    fact of a relation with two or more objects is taught wrong in that language and only there."""
    out = {}
    for rel, ts in triples[lang].items():
        objs = sorted({(t["obj_uri"], t["obj_label"]) for t in ts})
        nxt = {o: objs[(i + 1) % len(objs)] for i, o in enumerate(objs)}
        out[rel] = [{**t, "obj_uri": nxt[(t["obj_uri"], t["obj_label"])][0], "obj_label": nxt[(t["obj_uri"], t["obj_label"])][1]} for t in ts]
    return {**triples, lang: out}


def make_examples(templates, triples, split, enc, vocab, special):
    """Word and entity examples for every trained (language, fact); the facts trained, for training-facts.jsonl."""
    bos, eos, mask = special
    examples, facts = [], []
    for lang in LANGS:
        for rel in sorted(triples[lang]):
            cut = cut_template(templates[lang][rel], enc)
            for t in triples[lang][rel]:
                part = split[(rel, t["sub_uri"])]
                if part == "held-out" or (part == "en-only" and lang != TRANSFER_LANG):
                    continue
                facts.append({"language": lang, "relation": rel, "sub_uri": t["sub_uri"], "obj_uri": t["obj_uri"]})
                xl, xi = cut[2]["X"]
                yl, yi = cut[2]["Y"]
                subj = enc.encode(xl + t["sub_label"], xi)
                obj = enc.encode(yl + t["obj_label"], yi)
                ids, sp, mp = assemble(cut, subj, len(obj), bos, eos, mask)
                labels = [-100] * len(ids)
                for p, o in zip(mp, obj):
                    labels[p] = o
                examples.append({"ids": ids, "labels": labels, "entities": []})
                examples.append(
                    {
                        "cut": cut,
                        "subj": subj,
                        "obj": obj,
                        "entities": [(vocab["[MASK]"], None, vocab[f"{lang}:{t['obj_label']}"]), (vocab[f"{lang}:{t['sub_label']}"], None, -100)],
                    }
                )
    return examples, facts


def entity_example(e, k, hide_subject, special):
    """The entity prompt: a [MASK] entity over k object masks (k varies as the candidate-length groups do; the word
    labels only when k is the object's own length) and the subject's entity over its tokens. With hide_subject the
    subject's words are masked too (as LUKE's pretraining masks words), so the answer must come through the
    subject's entity, which is shared across languages."""
    bos, eos, mask = special
    ids, sp, mp = assemble(e["cut"], [mask] * len(e["subj"]) if hide_subject else e["subj"], k, bos, eos, mask)
    labels = [-100] * len(ids)
    if k == len(e["obj"]):
        for p, o in zip(mp, e["obj"]):
            labels[p] = o
    (m, _, obj), (sub, _, _) = e["entities"]
    return {"ids": ids, "labels": labels, "entities": [(m, mp, obj), (sub, sp, -100)]}


def collate(torch, batch, pad_id, pad_entity):
    L = max(len(e["ids"]) for e in batch)
    E = max(1, max(len(e["entities"]) for e in batch))
    P = max([1] + [len(p) for e in batch for _, p, _ in e["entities"]])
    B = len(batch)
    t = {
        "input_ids": torch.full((B, L), pad_id, dtype=torch.long),
        "attention_mask": torch.zeros(B, L, dtype=torch.long),
        "labels": torch.full((B, L), -100, dtype=torch.long),
        "entity_ids": torch.full((B, E), pad_entity, dtype=torch.long),
        "entity_attention_mask": torch.zeros(B, E, dtype=torch.long),
        "entity_token_type_ids": torch.zeros(B, E, dtype=torch.long),
        "entity_position_ids": torch.full((B, E, P), -1, dtype=torch.long),
        "entity_labels": torch.full((B, E), -100, dtype=torch.long),
    }
    for i, e in enumerate(batch):
        n = len(e["ids"])
        t["input_ids"][i, :n] = torch.tensor(e["ids"])
        t["attention_mask"][i, :n] = 1
        t["labels"][i, :n] = torch.tensor(e["labels"])
        for j, (eid, pos, label) in enumerate(e["entities"]):
            t["entity_ids"][i, j] = eid
            t["entity_attention_mask"][i, j] = 1
            t["entity_position_ids"][i, j, : len(pos)] = torch.tensor(pos)
            t["entity_labels"][i, j] = label
    return t


def luke_losses(torch, model, b):
    """LukeForMaskedLM's own loss (word MLM + masked entity prediction, cross-entropy over the full vocabularies),
    with the heads run only on the labelled rows: the same value, a fraction of the cost."""
    out = model.luke(
        input_ids=b["input_ids"],
        attention_mask=b["attention_mask"],
        entity_ids=b["entity_ids"],
        entity_attention_mask=b["entity_attention_mask"],
        entity_token_type_ids=b["entity_token_type_ids"],
        entity_position_ids=b["entity_position_ids"],
        return_dict=True,
    )
    ce = torch.nn.functional.cross_entropy
    words = b["labels"] != -100
    ents = b["entity_labels"] != -100
    loss = ce(model.lm_head(out.last_hidden_state[words]), b["labels"][words])
    if ents.any():
        loss = loss + ce(model.entity_predictions(out.entity_last_hidden_state[ents]), b["entity_labels"][ents])
    return loss


def finish(out, facts, seed, extra=""):
    """training-facts.jsonl, and the build directory's path replaced by what the checkpoint is, so that a rebuild
    anywhere writes the same bytes."""
    with open(os.path.join(out, "training-facts.jsonl"), "w", encoding="utf-8") as f:
        for fact in facts:
            f.write(json.dumps(fact, ensure_ascii=False) + "\n")
    what = f"tools/known_answer.py --seed {seed}{extra}"
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(README)
    for name, edit in (
        ("config.json", lambda c: c.update(_name_or_path=what)),
        (
            "mlama-checkpoint.json",
            lambda m: m["origin"].update(
                source=what,
                description=f"a small LUKE model trained here on {len(facts)} (language, fact) pairs of the mLAMA sample (training-facts.jsonl); not mLUKE",
            ),
        ),
    ):
        path = os.path.join(out, name)
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
        edit(value)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="datasets/mlama-sample")
    ap.add_argument("--out", default="datasets/known-answer")
    ap.add_argument("--work", default="checkpoints/known-answer-build", help="transformers save directory (not committed)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--split-seed", type=int, default=None, help="seed of the trained/held-out split (default: --seed)")
    ap.add_argument("--corrupt", choices=LANGS, default=None, help="teach this language's facts with wrong objects (a planted regression)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads; results are reproducible for a given count")
    a = ap.parse_args()

    import torch
    import transformers
    from transformers import LukeConfig, LukeForMaskedLM, MLukeTokenizer, XLMRobertaTokenizerFast

    random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(a.threads)
    transformers.logging.set_verbosity_error()

    templates, triples, candidates = read_data(a.data)
    split_seed = a.seed if a.split_seed is None else a.split_seed
    split = split_subjects(triples, split_seed)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    with tempfile.TemporaryDirectory() as tmp:
        sp_file, lines = train_sentencepiece(templates, triples, candidates, tmp)
        vocab, uri_id, clashes = build_entity_vocab(triples, candidates)
        ev_file = os.path.join(tmp, "entity_vocab.json")
        with open(ev_file, "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        tok = MLukeTokenizer(vocab_file=sp_file, entity_vocab_file=ev_file)
        tok.save_pretrained(a.work)
        fast = XLMRobertaTokenizerFast(vocab_file=sp_file)
    print(
        f"tokenizer: {len(tok)} word ids from {lines} lines; entities: {len(uri_id)} Wikidata ids, "
        f"{max(vocab.values()) + 1} entity ids, {clashes} label clashes"
    )

    enc = PieceEncoder(fast)
    special = (tok.bos_token_id, tok.eos_token_id, tok.mask_token_id)
    taught = corrupted(triples, a.corrupt) if a.corrupt else triples
    examples, facts = make_examples(templates, taught, split, enc, vocab, special)
    print(
        f"training: {len(facts)} (language, fact) pairs, {len(examples)} examples; subjects per split: "
        + ", ".join(f"{n} {sum(1 for v in split.values() if v == n)}" for n, _ in SPLIT)
    )

    config = LukeConfig(
        vocab_size=len(tok),
        entity_vocab_size=max(vocab.values()) + 1,
        hidden_size=128,
        entity_emb_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=64,
        type_vocab_size=1,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        use_entity_aware_attention=False,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    model = LukeForMaskedLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    batch_size = 64
    steps = a.epochs * ((len(examples) + batch_size - 1) // batch_size)
    warm = steps // 20
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    rng = random.Random(a.seed + 2)
    model.train()
    started = time.time()
    step = 0
    for epoch in range(a.epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        total, n = 0.0, 0
        for i in range(0, len(order), batch_size):
            chosen = [
                examples[j]
                if "cut" not in examples[j]
                else entity_example(examples[j], rng.choice((len(examples[j]["obj"]), rng.randint(1, MAX_GROUP))), rng.random() < 0.5, special)
                for j in order[i : i + batch_size]
            ]
            batch = collate(torch, chosen, tok.pad_token_id, vocab["[PAD]"])
            loss = luke_losses(torch, model, batch)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            total += float(loss)
            n += 1
        if epoch % 5 == 0 or epoch == a.epochs - 1:
            print(f"epoch {epoch + 1}/{a.epochs}: loss {total / n:.4f} ({time.time() - started:.0f} s)", flush=True)
    model.eval()
    model.save_pretrained(a.work)

    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    exporter = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_mluke.py")
    subprocess.run([sys.executable, exporter, a.work, a.out], check=True)
    extra = ("" if split_seed == a.seed else f" --split-seed {split_seed}") + (f" --corrupt {a.corrupt}" if a.corrupt else "")
    finish(a.out, facts, a.seed, extra)
    print(f"wrote {a.out}: a model trained here on {len(facts)} (language, fact) pairs (training-facts.jsonl)")


if __name__ == "__main__":
    main()
