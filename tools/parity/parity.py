#!/usr/bin/env python3
"""make parity: the harness against transformers on the CPU, for every family in FAMILIES.

Inputs: on every prompt (query x style, all languages of --data, --limit queries per relation) MLukeTokenizer /
XLMRobertaTokenizer called the way a user calls them (`tok(text, entities=..., entity_spans=...)`) against the
inputs the harness builds (tools/dump-inputs.ts): input ids, attention mask, entity ids, entity position ids, and
the candidates' token ids and entity ids. With its two deliberate differences off (`--tokenization spans`, no
Wikidata fallback) the harness must be identical on every prompt; with each on, the differences are counted.
Scores: `mlama run` on the exported checkpoint against the PyTorch model's log-softmax scores on the same prompts
(max |difference| <= 1e-4) and every ranking (top 10 and gold rank) identical; a ranking that rests on candidates
whose scores lie within that tolerance of each other is a near tie, counted apart whichever way a machine's float
noise ordered it (tools/parity/ranking.py), and never a failure.

The checkpoints have RANDOM weights (tools/parity/fixtures.py): this checks computation, not knowledge.
"""

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from fixtures import FAMILIES as BUILT  # noqa: E402
from ranking import compare, rank  # noqa: E402,F401  (rank: the ordering both sides are compared by)

# A family is one row: its checkpoint, the styles it is checked with, and whose tokenizer files it shares
# (luke_aware has luke's, so its inputs are luke's and are checked once).
FAMILIES = {
    "luke": {"styles": ["word", "entity", "entity-nosubj"], "inputs_of": "luke"},
    "luke_aware": {"styles": ["word", "entity", "entity-nosubj"], "inputs_of": "luke"},
    "xlmr": {"styles": ["word"], "inputs_of": "xlmr"},
    "bert": {"styles": ["word"], "inputs_of": "bert", "filled": True},
}
MODES = [("spans", False), ("in-context", False), ("spans", True), ("in-context", True)]
MAX_ABS = 1e-4
UNSCORABLE = -1e29  # the store keeps -1e30 for a candidate without an entity id


def sh(cmd, **kw):
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"parity: {' '.join(cmd[:3])}... failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r.stdout


def fixtures_hash(data, seed, families):
    """The version of the builder, the exporter, the requirements, the WordPiece pieces and the data directory."""
    h = hashlib.sha256()
    for f in ("fixtures.py", "../export_mluke.py", "../requirements.txt", "../../datasets/tokenizer/wordpiece-12k.tokenizer.json"):
        with open(os.path.join(HERE, f), "rb") as fh:
            h.update(fh.read())
    h.update(os.path.abspath(data).encode())
    h.update(f"seed {seed} families {families}".encode())
    return h.hexdigest()


def ensure_fixtures(data, work, seed, families):
    """Builds the fixtures (those of the families checked and of the families whose inputs they share) once per
    fixtures_hash."""
    families = ",".join(sorted({g for f in families for g in (f, FAMILIES[f]["inputs_of"])}))
    stamp, digest = os.path.join(work, ".stamp"), fixtures_hash(data, seed, families)
    if os.path.exists(stamp) and open(stamp).read() == digest:
        return
    print(
        sh(
            [sys.executable, "-W", "ignore", os.path.join(HERE, "fixtures.py"), "--data", data, "--out", work, "--seed", str(seed), "--families", families]
        ).strip()
    )
    with open(stamp, "w") as f:
        f.write(digest)


def styles_table():
    out = {}
    for f in os.listdir(os.path.join(ROOT, "prompts")):
        with open(os.path.join(ROOT, "prompts", f)) as fh:
            s = json.load(fh)
        out[s["name"]] = s
    return out


def dump(ck, data, styles, limit, mode, fallback, out):
    cmd = [
        "node",
        "--import",
        "tsx",
        "tools/dump-inputs.ts",
        "--model",
        ck,
        "--data",
        data,
        "--styles",
        ",".join(styles),
        "--limit",
        str(limit),
        "--tokenization",
        mode,
        "--out",
        out,
    ] + ([] if fallback else ["--no-fallback"])
    sh(cmd)
    with open(out) as f:
        return json.load(f)


def slots(template, subject, run):
    """The filled sentence and the character starts of the subject and of the mask run."""
    ix, iy = template.index("[X]"), template.index("[Y]")
    if ix < iy:
        text = template[:ix] + subject + template[ix + 3 : iy] + run + template[iy + 3 :]
        return text, ix, iy - 3 + len(subject)
    text = template[:iy] + run + template[iy + 3 : ix] + subject + template[ix + 3 :]
    return text, ix - 3 + len(run), iy


class Reference:
    """What a user gets from transformers' tokenizer for a harness prompt."""

    def __init__(self, tok, styles):
        self.tok, self.styles, self.cands = tok, styles, {}
        self.vocab = getattr(tok, "entity_vocab", None)

    def candidates(self, rel):
        # Cached per label, not per relation object: id() of a freed dump's relation is reused by the next dump's.
        for label in rel["labels"]:
            if label not in self.cands:
                self.cands[label] = self.tok(label, add_special_tokens=False)["input_ids"]
        return [self.cands[label] for label in rel["labels"]]

    def prompt(self, p, rel):
        style = self.styles[p["style"]]
        tokens = self.candidates(rel)
        passes = []
        for n in sorted({len(t) for t in tokens}):
            run = self.tok.mask_token * n
            text, xs, ys = slots(p["template"], p["subject"], run)
            if style["head"] == "word":
                enc = self.tok(text)
                # BERT's one-sentence token types are all 0, which is what the harness feeds (src/model/scorer.ts).
                assert not any(enc.get("token_type_ids", [])), text
                passes.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "entity_ids": [], "entity_position_ids": []})
                continue
            ents, spans = ["[MASK]"], [(ys, ys + len(run))]
            subj = f"{p['language']}:{p['subject']}"
            if style["subject_entity"] == "mask" or (style["subject_entity"] == "entity" and subj in self.vocab):
                ents.append("[MASK]" if style["subject_entity"] == "mask" else subj)
                spans.append((xs, xs + len(p["subject"])))
            enc = self.tok(text, entities=ents, entity_spans=spans)
            passes.append(
                {
                    "input_ids": enc["input_ids"],
                    "attention_mask": enc["attention_mask"],
                    "entity_ids": enc["entity_ids"],
                    "entity_position_ids": [[i for i in row if i != -1] for row in enc["entity_position_ids"]],
                }
            )
        ent_ids = [self.vocab.get(f"{p['language']}:{label}") for label in rel["labels"]] if style["head"] == "entity" else None
        return passes, tokens, ent_ids


def same_inputs(p, rel, ref):
    """(model inputs identical, candidates' token ids and entity ids identical)"""
    passes, tokens, ent_ids = ref
    fields = ("input_ids", "attention_mask", "entity_ids", "entity_position_ids")
    model = len(passes) == len(p["passes"]) and all(h[f] == r[f] for h, r in zip(p["passes"], passes) for f in fields)
    return model, rel["tokens"] == tokens and (ent_ids is None or rel["entity_ids"] == ent_ids)


def check_inputs(ck, tok_dir, data, limit, styles, tmp, styles_info):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_dir, use_fast=False)
    ref = Reference(tok, styles_info)
    counts, default = {}, None
    for mode, fallback in MODES:
        d = dump(ck, data, styles, limit, mode, fallback, os.path.join(tmp, f"dump-{mode}-{fallback}.json"))
        same = [same_inputs(p, d["relations"][p["relation_key"]], ref.prompt(p, d["relations"][p["relation_key"]])) for p in d["prompts"]]
        counts[(mode, fallback)] = (sum(a and b for a, b in same), len(same), len(same) - sum(a for a, _ in same), len(same) - sum(b for _, b in same))
        if mode == "in-context" and not fallback:
            default = d  # what `mlama run` builds by default: in-context, no fallback (the paper's protocol)
        if mode == "spans" and not fallback:
            counts["filled"] = filled_sentences(d, tok)
    return counts, default


def filled_sentences(d, tok):
    """WordPiece's deliberate difference: a candidate stands where the [MASK]s stood, which split words, so the
    harness tokenizes it as a word of its own; the tokenizer, given the sentence with a gold object in place,
    merges it with a letter glued to it. (prompts where some gold differs, of those with [Y] glued to a letter)"""
    differ = glued = 0
    for p in d["prompts"]:
        rel, t = d["relations"][p["relation_key"]], p["template"]
        iy = t.index("[Y]")
        letter = (iy > 0 and t[iy - 1].isalpha()) or (iy + 3 < len(t) and t[iy + 3].isalpha())
        for g in p["golds"]:
            toks = rel["tokens"][g]
            ps = next(ps for ps in p["passes"] if len(ps["mask_positions"]) == len(toks))
            want = list(ps["input_ids"])
            for pos, tid in zip(ps["mask_positions"], toks):
                want[pos] = tid
            if tok(slots(t, p["subject"], rel["labels"][g])[0])["input_ids"] != want:
                differ, glued = differ + 1, glued + letter
                break
    return differ, glued


def model_inputs(rows, head, entities):
    L = len(rows[0]["input_ids"])
    feeds = {"input_ids": torch.tensor([r["input_ids"] for r in rows]), "attention_mask": torch.tensor([r["attention_mask"] for r in rows])}
    if head == "entity" and entities:
        E = len(rows[0]["entity_ids"])
        P = max(len(x) for r in rows for x in r["entity_position_ids"])
        feeds.update(
            {
                "entity_ids": torch.tensor([r["entity_ids"] for r in rows]),
                "entity_attention_mask": torch.ones(len(rows), E, dtype=torch.long),
                "entity_token_type_ids": torch.zeros(len(rows), E, dtype=torch.long),
                "entity_position_ids": torch.tensor([[x + [-1] * (P - len(x)) for x in r["entity_position_ids"]] for r in rows]),
            }
        )
    assert all(len(r["input_ids"]) == L for r in rows)
    return feeds


def word_head(model):
    # BertForMaskedLM keeps its MLM head in `cls`, LUKE and the RoBERTa family in `lm_head`.
    return model.cls if hasattr(model, "cls") else model.lm_head


def reference_scores(model, d, styles_info, entities, batch=64):
    """PyTorch log-softmax scores of every candidate of every prompt: word = mean over the candidate's tokens at the
    masks; entity = the object [MASK] entity's log-probability of the candidate's id (None without an id)."""
    scores = [[None] * len(d["relations"][p["relation_key"]]["labels"]) for p in d["prompts"]]
    buckets = {}
    for i, p in enumerate(d["prompts"]):
        head = styles_info[p["style"]]["head"]
        for ps in p["passes"]:
            buckets.setdefault((head, len(ps["input_ids"]), len(ps["entity_ids"])), []).append((i, ps))
    with torch.no_grad():
        for (head, _, _), items in buckets.items():
            for s in range(0, len(items), batch):
                chunk = items[s : s + batch]
                # The model's own encoder and heads, the heads applied only where something is read (what its
                # forward computes at those rows; the rest of the full logits would only cost time).
                out = model.base_model(**model_inputs([ps for _, ps in chunk], head, entities), return_dict=True)
                if head == "entity":
                    elogits = model.entity_predictions(out.entity_last_hidden_state[:, 0])
                for b, (i, ps) in enumerate(chunk):
                    rel = d["relations"][d["prompts"][i]["relation_key"]]
                    cands = ps["candidates"]
                    if head == "word":
                        # log-softmax over the vocabulary in float32 (as the graph), the mean over tokens in float64
                        logits = word_head(model)(out.last_hidden_state[b, ps["mask_positions"]])
                        lp = torch.log_softmax(logits, dim=-1).double().numpy()
                        toks = np.array([rel["tokens"][c] for c in cands])
                        vals = lp[np.arange(toks.shape[1])[None, :], toks].mean(axis=1)
                        for c, v in zip(cands, vals):
                            scores[i][c] = float(v)
                    else:
                        lp = torch.log_softmax(elogits[b], dim=-1).double().numpy()
                        for c in cands:
                            e = rel["entity_ids"][c]
                            scores[i][c] = float(lp[e]) if e is not None else None
    return scores


def check_scores(name, ck, hf_dir, data, limit, styles, d, tmp, styles_info):
    from transformers import AutoModelForMaskedLM

    db = os.path.join(tmp, "parity.sqlite")
    sh(["node", "bin/mlama.js", "run", "--model", ck, "--data", data, "--limit", str(limit), "--styles", ",".join(styles), "--db", db, "--name", name])
    model = AutoModelForMaskedLM.from_pretrained(hf_dir).eval()
    ref = reference_scores(model, d, styles_info, BUILT[name]["entities"])
    con = sqlite3.connect(db)
    rows = {
        tuple(r[:5]): r[5:]
        for r in con.execute(
            "SELECT style, language, relation, template, subject, top, gold_rank, gold_score"
            " FROM results r JOIN runs ON runs.id = r.run_id WHERE runs.name = ?",
            (name,),
        )
    }
    con.close()
    worst, counts = 0.0, {"identical": 0, "near-tie": 0, "differs": 0}
    for p, sc in zip(d["prompts"], ref):
        row = rows.get((p["style"], p["language"], p["relation"], p["template"], p["subject"]))
        if row is None:
            continue
        labels = d["relations"][p["relation_key"]]["labels"]
        index = {label: i for i, label in enumerate(labels)}
        stored = json.loads(row[0])
        top = [index[t["label"]] for t in stored]
        verdict = compare(sc, p["golds"], top, row[1], MAX_ABS, {i: t["score"] for i, t in zip(top, stored)})
        for i, t in zip(top, stored):
            if (sc[i] is None) != (t["score"] < UNSCORABLE):
                verdict = "differs"
            elif sc[i] is not None:
                worst = max(worst, abs(sc[i] - t["score"]))
        best = min(p["golds"], key=lambda i: (-(sc[i] if sc[i] is not None else float("-inf")), i))
        if sc[best] is not None:
            worst = max(worst, abs(sc[best] - row[2]))
        counts[verdict] += 1
    return worst, counts, len(d["prompts"]), len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "datasets", "mlama"))
    ap.add_argument("--work", default=os.path.join(ROOT, "checkpoints", "parity"))
    ap.add_argument("--seed", type=int, default=1, help="the fixtures' seed (random weights and entity vocabulary)")
    ap.add_argument("--limit", type=int, default=1, help="queries per (language, relation)")
    ap.add_argument("--families", default=",".join(FAMILIES), help="a subset, for a quicker check (the last line then names only those)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    sys.stdout.reconfigure(line_buffering=True)
    ensure_fixtures(a.data, a.work, a.seed, a.families.split(","))
    styles_info = styles_table()
    fail = []
    inputs_same = inputs_all = 0
    defaults, results = {}, {}
    with tempfile.TemporaryDirectory(prefix="mlama-parity-") as tmp:
        for name in a.families.split(","):
            fam = FAMILIES[name]
            src = fam["inputs_of"]
            if src not in defaults:
                counts, defaults[src] = check_inputs(
                    os.path.join(a.work, "ck", src), os.path.join(a.work, "hf", src), a.data, a.limit, FAMILIES[src]["styles"], tmp, styles_info
                )
                n, m = counts[("spans", False)][:2]
                inputs_same, inputs_all = inputs_same + n, inputs_all + m
                d = defaults[src]["prompts"]
                yx = sum(p["template"].index("[Y]") < p["template"].index("[X]") for p in d)
                multi = sum(any(len(ps["mask_positions"]) > 1 for ps in p["passes"]) for p in d)
                subj = sum(p["subject_entity"] is not None and p["subject_entity"]["id"] is not None for p in d)
                print(
                    f"inputs {src}: {m} prompts over {len({p['language'] for p in d})} languages, styles {','.join(FAMILIES[src]['styles'])} "
                    f"({yx} with [Y] before [X], {multi} with multi-token objects, {subj} with a subject entity)"
                )
                print(f"inputs {src}: identical to transformers' tokenizer with the harness's choices off (--tokenization spans, no fallback): {n}/{m}")
                for label, k in (
                    ("in-context candidates on (mlama run's default)", ("in-context", False)),
                    ("Wikidata fallback on", ("spans", True)),
                    ("both on", ("in-context", True)),
                ):
                    c = counts[k]
                    print(f"inputs {src}: {label}: {c[1] - c[0]}/{m} prompts differ (model inputs {c[2]}, candidates' token or entity ids {c[3]})")
                if FAMILIES[src].get("filled"):
                    differ, glued = counts["filled"]
                    print(
                        f"inputs {src}: a gold object in place of the masks, the sentence tokenized whole: {differ}/{m} prompts differ "
                        f"({glued} with [Y] glued to a letter; the harness keeps a candidate a word of its own, as the [MASK]s it replaces split words)"
                    )
            worst, counts, total, stored = check_scores(
                name, os.path.join(a.work, "ck", name), os.path.join(a.work, "hf", name), a.data, a.limit, fam["styles"], defaults[src], tmp, styles_info
            )
            results[name] = (worst, counts, total)
            print(
                f"scores {name}: {stored}/{total} prompts stored by mlama run; max |harness - torch| {worst:.2e}; rankings identical "
                f"{counts['identical']}/{total}, near ties {counts['near-tie']} (rankings resting on candidates within {MAX_ABS:g} of each other)"
            )
            if not worst <= MAX_ABS:
                fail.append(f"{name} max_abs {worst:.2e} > {MAX_ABS:g}")
            if counts["differs"] or stored != total:
                fail.append(
                    f"{name} rankings differ on {counts['differs']}/{total} (identical {counts['identical']}, near ties {counts['near-tie']}, stored {stored})"
                )
    if inputs_same != inputs_all or inputs_all < 1000:
        fail.append(f"inputs identical {inputs_same}/{inputs_all}")
    r_same, r_all = sum(r[1]["identical"] for r in results.values()), sum(r[2] for r in results.values())
    r_near = sum(r[1]["near-tie"] for r in results.values())
    for f in fail:
        print(f"parity: FAILED {f}")
    print(
        "parity: "
        + " ".join(f"{n} max_abs={r[0]:.2e}" for n, r in results.items())
        + f" inputs_identical={inputs_same}/{inputs_all} rankings_identical={r_same}/{r_all} near_ties={r_near} seed={a.seed}"
    )
    sys.exit(1 if fail else 0)


if __name__ == "__main__":
    main()
