"""Test driver: tiny randomly initialised (seeded) BertForMaskedLM and XLMRobertaForMaskedLM saved the way the hub
stores them (save_pretrained, with their slow tokenizers' vocab.txt / sentencepiece.bpe.model), for the exporter.
The BERT vocabulary is the bundled WordPiece one; the XLM-R one a SentencePiece model trained here on the sample
(without byte fallback, as XLM-R's: its fast converter has none).

    .venv/bin/python test/support/make_word_models.py WORDPIECE_TOKENIZER_JSON CORPUS_TXT OUT_DIR
"""

import json
import os
import sys

import sentencepiece as spm
import torch
from transformers import BertConfig, BertForMaskedLM, BertTokenizer, XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaTokenizer

wordpiece, corpus, out = sys.argv[1:4]
small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=130)

with open(wordpiece, encoding="utf-8") as f:
    vocab = json.load(f)["model"]["vocab"]
os.makedirs(os.path.join(out, "bert"), exist_ok=True)
vocab_txt = os.path.join(out, "bert", "vocab.txt")
with open(vocab_txt, "w", encoding="utf-8") as f:
    f.write("\n".join(t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])) + "\n")
tok = BertTokenizer(vocab_file=vocab_txt, do_lower_case=False)
torch.manual_seed(3)
BertForMaskedLM(BertConfig(vocab_size=len(tok), pad_token_id=0, **small)).save_pretrained(os.path.join(out, "bert"))
tok.save_pretrained(os.path.join(out, "bert"))

prefix = os.path.join(out, "spm")
spm.SentencePieceTrainer.train(
    input=corpus, model_prefix=prefix, vocab_size=2000, model_type="unigram", character_coverage=1.0, byte_fallback=False, minloglevel=2
)
tok = XLMRobertaTokenizer(vocab_file=prefix + ".model")
torch.manual_seed(4)
XLMRobertaForMaskedLM(XLMRobertaConfig(vocab_size=len(tok), pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, **small)).save_pretrained(
    os.path.join(out, "xlmr")
)
tok.save_pretrained(os.path.join(out, "xlmr"))
print("ok")

# mLUKE: LukeForMaskedLM with MLukeTokenizer over the same SentencePiece model and a small entity vocabulary in
# mLUKE's format ("<lang>:<title>" keys, special entities unprefixed, [MASK2] last).
from transformers import LukeConfig, LukeForMaskedLM, MLukeTokenizer  # noqa: E402

entities = ["[PAD]", "[UNK]", "[MASK]", "en:Paris", "en:France", "ja:東京", "en:Tokyo", "en:Japanese", "[MASK2]"]
ev_file = os.path.join(out, "entity_vocab.json")
with open(ev_file, "w", encoding="utf-8") as f:
    json.dump({e: i for i, e in enumerate(entities)}, f, ensure_ascii=False)
tok = MLukeTokenizer(vocab_file=prefix + ".model", entity_vocab_file=ev_file)
torch.manual_seed(5)
config = LukeConfig(
    vocab_size=len(tok), entity_vocab_size=len(entities), entity_emb_size=16, pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, **small
)
LukeForMaskedLM(config).save_pretrained(os.path.join(out, "luke"))
tok.save_pretrained(os.path.join(out, "luke"))
print("ok luke")
