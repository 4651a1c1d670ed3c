"""A small RANDOM BERT (seeded) in the two forms issue 34's mLAMA check needs: a transformers save_pretrained
directory (BertForMaskedLM + vocab.txt, for `mlama export`) and the same weights in pytorch-pretrained-bert's layout
(bert_config.json, pytorch_model.bin under its key names, vocab.txt), which mLAMA's scripts load.

The model is the parity fixtures' BERT (tools/parity/fixtures.py, `parity` preset, the committed 12k WordPiece
vocabulary laid out as mBERT's). Both forms are checked to give the same MLM logits before use.
"""

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# BertConfig fields pytorch-pretrained-bert 0.6.1 reads from bert_config.json.
PPB_CONFIG = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
)
# The transformers key with no place in pytorch-pretrained-bert's BertForMaskedLM: the decoder's bias, which
# transformers ties to cls.predictions.bias (the one ppb has).
DROPPED = {"cls.predictions.decoder.bias"}


def ppb_config(hf_config):
    return {k: hf_config[k] for k in PPB_CONFIG}


def ppb_state(target_keys, hf_state, zeros_like):
    """ppb's keys filled from transformers' (same names); the pooler, absent from transformers' BertForMaskedLM and
    unused by the MLM head, as zeros. Returns the state and the transformers keys left out."""
    out = {}
    for k, ref in target_keys.items():
        out[k] = hf_state[k] if k in hf_state else zeros_like(ref)
        if k not in hf_state and not k.startswith("bert.pooler."):
            raise KeyError(f"transformers' BertForMaskedLM has no {k}")
    left = sorted(set(hf_state) - set(target_keys) - DROPPED)
    return out, left


def build(out, seed):
    import torch

    sys.path.insert(0, os.path.join(HERE, "..", "parity"))
    import fixtures
    from pytorch_pretrained_bert import BertConfig
    from pytorch_pretrained_bert import BertForMaskedLM as PpbBert

    hf_dir, ppb_dir = os.path.join(out, "hf"), os.path.join(out, "ppb")
    with tempfile.TemporaryDirectory() as tmp:
        built = fixtures.build_family("bert", fixtures.FAMILIES["bert"], fixtures.PRESETS["parity"], os.path.join(tmp, "spm.model"), None, seed, tmp)
        shutil.rmtree(hf_dir, ignore_errors=True)
        shutil.move(built, hf_dir)
    import transformers

    hf = transformers.BertForMaskedLM.from_pretrained(hf_dir).eval()
    os.makedirs(ppb_dir, exist_ok=True)
    with open(os.path.join(hf_dir, "config.json"), encoding="utf-8") as f:
        cfg = ppb_config(json.load(f))
    with open(os.path.join(ppb_dir, "bert_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    shutil.copy(os.path.join(hf_dir, "vocab.txt"), os.path.join(ppb_dir, "vocab.txt"))
    shell = PpbBert(BertConfig.from_json_file(os.path.join(ppb_dir, "bert_config.json")))
    state, left = ppb_state(shell.state_dict(), hf.state_dict(), torch.zeros_like)
    if left:
        raise SystemExit(f"error: transformers keys with no place in pytorch-pretrained-bert's model: {left}")
    torch.save(state, os.path.join(ppb_dir, "pytorch_model.bin"))
    ppb = PpbBert.from_pretrained(ppb_dir).eval()
    torch.manual_seed(seed)
    ids = torch.randint(1000, cfg["vocab_size"], (2, 12))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    with torch.no_grad():
        a = hf(input_ids=ids, attention_mask=mask).logits
        b = ppb(ids, torch.zeros_like(ids), mask)
    diff = float((a - b)[mask.bool()].abs().max())
    if diff > 1e-4:
        raise SystemExit(f"error: {ppb_dir}: pytorch-pretrained-bert's logits differ from transformers' by {diff}")
    return {"hf": hf_dir, "ppb": ppb_dir, "seed": seed, "logitMaxDiff": diff, "random_weights": True, "hidden": cfg["hidden_size"], "vocab": cfg["vocab_size"]}
