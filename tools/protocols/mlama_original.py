#!/usr/bin/env python3
"""mLAMA's original ranked evaluation (norakassner/mlama) run here, offline on CPU, for `make protocols-mlama`.

Their code is never copied into this repository: `run` extracts it from a git directory at run time (their
scripts/ and mlama/ folders) and calls it unchanged. What it takes to make it run here, and nothing else:
  - stand-ins for two packages it imports but never calls on the ranked path (spacy, scipy; their pins have no
    wheels for Python 3.11), put in sys.modules only when the real one is missing;
  - their batch script's `np` is numpy with one old behaviour back: numpy >= 1.24 refuses to make an array of
    lists of different lengths (their masked positions for 1..N masks), which numpy 1.15 made as an object array;
  - the model directory given as `bert_model_dir` (their LMs list downloads bert-base-multilingual-cased);
  - their run_experiments() called once per candidate file (TREx relations, then GoogleRE's): main() passes the
    whole templates.jsonl, and the candidate file is picked from the first relation only;
  - golds missing from a candidate file appended to it (their rank lookup raises IndexError on them): the layout
    handed over has them appended already (tools/protocols/layout.ts), and the harness reads the same;
  - scripts/eval.py's English baseline folder (output/results/bert_base/en) linked to this run's English results.

    python tools/protocols/mlama_original.py model --out WORK/model [--seed 1]
    python tools/protocols/mlama_original.py run --src GITDIR --data LAYOUT --model WORK/model/ppb --work WORK \
        --languages en,ja --out WORK/theirs.json
"""

import argparse
import json
import os
import pickle
import runpy
import shutil
import sys
import types
from pathlib import Path

from git_extract import extract_commit

HERE = os.path.dirname(os.path.abspath(__file__))
LABEL = "mbert_base"
# Their LMs entry, with the model directory filled in; the name only decides lowercasing ('uncased' in the path).
INPUT_PARAM = {"lm": "bert", "label": LABEL, "models_names": ["bert"], "bert_model_name": "bert-base-multilingual-cased"}
STAND_INS = ("spacy", "scipy")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_by_candidate_file(relations):
    """Their run_experiments picks the candidate file from the first relation's name ('P' in it: TREx)."""
    trex = [r for r in relations if "P" in r["relation"]]
    google = [r for r in relations if "P" not in r["relation"]]
    return [g for g in (trex, google) if g]


def ragged_numpy(np):
    """numpy whose array() makes an object array of ragged lists, as numpy 1.15 did, instead of raising."""
    proxy = types.ModuleType("numpy")
    proxy.__dict__.update(np.__dict__)

    def array(obj, *args, **kwargs):
        try:
            return np.array(obj, *args, **kwargs)
        except ValueError:
            if args or kwargs or not isinstance(obj, list):
                raise
            out = np.empty(len(obj), dtype=object)
            for i, x in enumerate(obj):
                out[i] = x
            return out

    proxy.array = array
    return proxy


def triple_records(result, language, relation, lineids):
    """Per triple of one result.pkl: their top-1 (the last of the ascending argsort), its score, the runner-up's."""
    out = []
    for el in result["list_of_results"]:
        top = el["masked_topk"]
        uuid = int(el["sample"]["uuid"])
        probs = [float(p) for p in top["probs"]]
        out.append(
            {
                "language": language,
                "relation": relation,
                "uuid": uuid,
                "lineid": lineids[uuid],
                "subject": el["sample"]["sub_label"],
                "gold": el["sample"]["obj_label"],
                "top1": str(top["predicted"][-1]),
                "top1Score": probs[-1],
                "secondScore": probs[-2] if len(probs) > 1 else None,
                "rank": int(top["rank"]),
            }
        )
    return out


def relation_p1(records):
    """eval.py's P@1 of a relation: the share of its triples ranked 0; None for a relation with none."""
    return sum(1 for r in records if r["rank"] == 0) / len(records) if records else None


def read_eval_csv(path):
    """scripts/eval.py's output: language, triples, P@1 (mean over relations), English P@1 of the same triples."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lang, total, p, p_eng = line.strip().split(",")
                out[lang] = {"triples": float(total), "p1": float(p), "p1English": float(p_eng)}
    return out


def extract(src, dest):
    """Their scripts/ and mlama/ folders at the git directory's HEAD, into dest; returns the commit."""
    return extract_commit(Path(src), "HEAD", ["mlama", "scripts"], Path(dest))


def install_stand_ins():
    used = []
    for name in STAND_INS:
        try:
            __import__(name)
        except ImportError:
            mod = types.ModuleType(name)
            mod.__doc__ = f"stand-in: {name} is imported by mLAMA's scripts but not called on the ranked path"
            sys.modules[name] = mod
            used.append(name)
    return used


def prepare_data(layout, run_dir):
    """Their relative ./data: a copy of the layout's data/ (missing golds already appended by layout.ts)."""
    data = os.path.join(run_dir, "data")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(os.path.join(layout, "data"), data)


def run(a):
    work = os.path.abspath(a.work)
    model_dir = os.path.abspath(a.model)
    out_file = os.path.abspath(a.out)
    languages = a.languages.split(",")
    commit = extract(a.src, os.path.join(work, "mlama-src"))
    run_dir = os.path.join(work, "run")
    shutil.rmtree(os.path.join(run_dir, "output"), ignore_errors=True)
    prepare_data(os.path.abspath(a.data), run_dir)
    stand_ins = install_stand_ins()
    src = os.path.join(work, "mlama-src")
    sys.path[:0] = [src, os.path.join(src, "scripts")]
    os.chdir(run_dir)
    import batch_eval_KB_completion_mBERT_ranked as bx
    import numpy
    import run_experiments_mBERT_ranked as rx

    bx.np = ragged_numpy(numpy)
    param = {**INPUT_PARAM, "bert_model_dir": model_dir}
    for lang in languages:
        relations, pre, post, _ = rx.get_MultiLingual_parameters(language=lang)
        for group in split_by_candidate_file(relations):
            rx.run_experiments(group, pre, post, lang, input_param=param)
    records, relations_p1 = collect(run_dir, languages)
    printed = run_eval(src, run_dir, languages)
    cands, sentences = their_inputs(run_dir, model_dir, languages)
    out = {
        "commit": commit,
        "standIns": stand_ins,
        "triples": records,
        "relations": relations_p1,
        "printed": printed,
        "candidateIds": cands,
        "sentenceIds": sentences,
    }
    with open(out_file, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


def collect(run_dir, languages):
    records, p1 = [], {}
    for lang in languages:
        base = os.path.join(run_dir, "output", "results", LABEL, lang)
        p1[lang] = {}
        for rel in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            with open(os.path.join(base, rel, "result.pkl"), "rb") as f:
                result = pickle.load(f)
            lineids = [line.get("lineid", i) for i, line in enumerate(read_jsonl(os.path.join(run_dir, "data", "mlama1.1", lang, rel + ".jsonl")))]
            rs = triple_records(result, lang, rel, lineids)
            records += rs
            p1[lang][rel] = relation_p1(rs)
    return records, p1


def run_eval(src, run_dir, languages):
    """scripts/eval.py unchanged; it reads English results of a 'bert_base' label beside each language's."""
    if "en" not in languages:
        return None
    base = os.path.join(run_dir, "output", "results", "bert_base")
    os.makedirs(base, exist_ok=True)
    os.symlink(os.path.join("..", LABEL, "en"), os.path.join(base, "en"))
    runpy.run_path(os.path.join(src, "scripts", "eval.py"), run_name="__main__")
    return read_eval_csv(os.path.join(run_dir, "output", "mbert_ranked.csv"))


def their_inputs(run_dir, model_dir, languages):
    """What their connector feeds the model, for telling causes apart: each candidate's ids (get_id: the object
    tokenized alone) and each (relation, subject) sentence's ids with one [MASK], as the batch script builds it."""
    from batch_eval_KB_completion_mBERT_ranked import parse_template
    from mlama.modules import build_model_by_name
    from mlama.modules.base_connector import MASK

    model = build_model_by_name("bert", argparse.Namespace(**INPUT_PARAM, bert_model_dir=model_dir, bert_vocab_name="vocab.txt"), verbose=False)
    cands, sentences = {}, {}
    for lang in languages:
        for t in read_jsonl(os.path.join(run_dir, "data", "mlama1.1", lang, "templates.jsonl")):
            path = os.path.join(run_dir, "data", "mlama1.1", lang, t["relation"] + ".jsonl")
            for line in read_jsonl(path) if os.path.exists(path) else []:
                text = parse_template(t["template"].strip(), line["sub_label"].strip(), MASK)[0].replace("][", "] [")
                ids = model._Bert__get_input_tensors([text])[0]
                sentences[f"{lang}/{t['relation']}/{line['sub_label']}"] = [int(i) for i in ids[0]]
        for folder in ("TREx_multilingual_objects", "GoogleRE_objects"):
            cfile = os.path.join(run_dir, "data", folder, lang + ".json")
            if os.path.exists(cfile):
                with open(cfile, encoding="utf-8") as f:
                    for rel, entry in json.load(f).items():
                        cands[f"{lang}/{rel}"] = {o: model.get_id(o) for o in entry["objects"]}
    return cands, sentences


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("model", help="a small random BERT as a transformers directory and in pytorch-pretrained-bert's layout")
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run", help="their ranked evaluation on the official layout")
    r.add_argument("--src", required=True, help="git directory of norakassner/mlama")
    r.add_argument("--data", required=True, help="folder holding data/ (the official layout)")
    r.add_argument("--model", required=True, help="pytorch-pretrained-bert model directory")
    r.add_argument("--work", required=True)
    r.add_argument("--languages", required=True)
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "model":
        sys.path.insert(0, HERE)
        from bert_model import build

        print(json.dumps(build(a.out, a.seed)))
    else:
        run(a)


if __name__ == "__main__":
    main()
