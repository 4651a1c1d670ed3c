#!/usr/bin/env python3
"""The peer of `mlama bench peer`: the authors' scoring pattern (studio-ousia/luke, examples/mlama/evaluate.py)
re-implemented on transformers' AutoModelForMaskedLM in PyTorch, CPU: passes in arrival order, 8 to a batch
padded to the longest, the model's full outputs, log-softmax over the whole word vocabulary at every position
and over the whole entity vocabulary at every entity slot, candidates read from those.

It serves the benchmark over stdin/stdout, one JSON object a line, so the model is loaded once:
    {"cmd": "calibrate", "shapes": [[m, k, n], ...]}     -> torch version, threads, float32 GFLOP/s at those shapes
    {"cmd": "load"}                                      -> the model loaded (once), and the seconds it took
    {"cmd": "score", "queries": FILE}                    -> seconds per style and each query's top-1
The query file is written by the harness (the same built prompts it scores), one query a line:
    {"key", "style", "head", "n": candidates, "cands": [token ids | entity id | null per candidate],
     "passes": [{"ids", "masks", "eids", "epos", "cands"}]}
so both sides score the very same inputs; the peer is not charged for tokenizing them.
"""

import argparse
import json
import sys
import time


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def batches(queries, size):
    jobs = []
    for q in queries:
        q["scores"] = [float("-inf")] * q["n"]
        for i, p in enumerate(q["passes"]):
            jobs.append((q, p, i == len(q["passes"]) - 1))
            if len(jobs) == size:
                yield jobs
                jobs = []
    if jobs:
        yield jobs


def run_batch(torch, model, jobs, pad_id, pad_entity):
    B = len(jobs)
    L = max(len(p["ids"]) for _, p, _ in jobs)
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    mask = torch.zeros((B, L), dtype=torch.long)
    for b, (_, p, _) in enumerate(jobs):
        ids[b, : len(p["ids"])] = torch.tensor(p["ids"])
        mask[b, : len(p["ids"])] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    E = max(len(p["eids"]) for _, p, _ in jobs)
    if E:
        P = max(len(x) for _, p, _ in jobs for x in p["epos"])
        eids = torch.full((B, E), pad_entity, dtype=torch.long)
        emask = torch.zeros((B, E), dtype=torch.long)
        epos = torch.full((B, E, P), -1, dtype=torch.long)
        for b, (_, p, _) in enumerate(jobs):
            for e, (eid, pos) in enumerate(zip(p["eids"], p["epos"])):
                eids[b, e] = eid
                emask[b, e] = 1
                epos[b, e, : len(pos)] = torch.tensor(pos)
        feeds.update(entity_ids=eids, entity_attention_mask=emask, entity_token_type_ids=torch.zeros((B, E), dtype=torch.long), entity_position_ids=epos)
    out = model(**feeds, return_dict=True)
    lp = torch.log_softmax(out.logits, dim=-1)
    elp = torch.log_softmax(out.entity_logits, dim=-1) if E else None
    done = []
    for b, (q, p, last) in enumerate(jobs):
        s = q["scores"]
        if q["head"] == "word":
            rows = lp[b, p["masks"]]  # [masks, V]
            for c in p["cands"]:
                toks = q["cands"][c]
                s[c] = float(rows[range(len(toks)), toks].sum()) / len(p["masks"])
        else:
            for c in p["cands"]:
                if q["cands"][c] is not None:
                    s[c] = float(elp[b, 0, q["cands"][c]])
        if last:
            done.append(q)
    return done


def top1(scores):
    best = 0
    for i, x in enumerate(scores):
        if x > scores[best]:
            best = i  # ties keep the lower index, as the harness's ranking does
    return best, scores[best]


def score(torch, model, path, batch_size, pad_id, pad_entity):
    with open(path, encoding="utf-8") as f:
        queries = [json.loads(line) for line in f if line.strip()]
    styles, order = {}, []
    for q in queries:
        if q["style"] not in styles:
            styles[q["style"]] = []
            order.append(q["style"])
        styles[q["style"]].append(q)
    result = {"styles": {}, "top1": {}}
    with torch.no_grad():
        for style in order:
            t0 = time.perf_counter()
            n = 0
            for jobs in batches(styles[style], batch_size):
                for q in run_batch(torch, model, jobs, pad_id, pad_entity):
                    n += 1
                    result["top1"][q["key"]] = top1(q["scores"])
            result["styles"][style] = {"queries": n, "seconds": time.perf_counter() - t0}
    return result


def calibrate(torch, shapes, reps=20, budget=10.0):
    """Per shape, the FLOPs of up to `reps` timed products over their total time (as the harness calibrates),
    fewer when a slow BLAS would take over `budget` seconds."""
    out = []
    g = torch.Generator().manual_seed(1)
    for m, k, n in shapes:
        a = torch.rand((m, k), generator=g) - 0.5
        w = torch.nn.Linear(k, n, bias=False)  # the model's layers are Linear: x @ W^T
        with torch.no_grad():
            w(a)
            times = []
            while len(times) < reps and (not times or sum(times) < budget):
                t0 = time.perf_counter()
                w(a)
                times.append(time.perf_counter() - t0)
        out.append({"m": m, "k": k, "n": n, "gflops": 2 * m * k * n * len(times) / sum(times) / 1e9})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="transformers directory (tools/make_peer_model.py)")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=8)
    a = ap.parse_args()
    import torch
    from transformers import AutoModelForMaskedLM

    torch.set_num_threads(a.threads)
    model, load = None, None
    pad_entity = 0
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] in ("load", "score") and model is None:  # lazily: a torch that loses the MatMul check never loads it
            t0 = time.perf_counter()
            model = AutoModelForMaskedLM.from_pretrained(a.model).eval()
            load = time.perf_counter() - t0
        if req["cmd"] == "load":
            reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "load_seconds": load, "python": sys.executable}
        elif req["cmd"] == "calibrate":
            reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "shapes": calibrate(torch, req["shapes"])}
        elif req["cmd"] == "score":
            reply = score(torch, model, req["queries"], a.batch_size, model.config.pad_token_id, pad_entity)
        else:
            reply = {"error": f"unknown command {req['cmd']!r}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
