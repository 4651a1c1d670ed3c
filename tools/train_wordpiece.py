"""A cased multilingual WordPiece tokenizer.json laid out as bert-base-multilingual-cased's: [PAD]=0,
[unused1..99], [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103, then the learned pieces (continuations with ##).
Trained with tokenizers' BertWordPieceTokenizer (BertNormalizer without lowercasing or accent stripping, Chinese
characters split, BertPreTokenizer), written as vocab.txt and converted by transformers' BertTokenizerFast, which
is how mBERT's own tokenizer.json comes from its vocab.txt ([CLS] $A [SEP]).

    python tools/train_wordpiece.py CORPUS.txt OUT.tokenizer.json VOCAB_SIZE
"""

import os
import sys
import tempfile

from tokenizers import BertWordPieceTokenizer
from transformers import BertTokenizerFast

corpus, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
SPECIALS = ["[PAD]"] + [f"[unused{i}]" for i in range(1, 100)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
trainer = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
trainer.train(
    [corpus],
    vocab_size=size,
    min_frequency=2,
    limit_alphabet=20000,
    special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    wordpieces_prefix="##",
    show_progress=False,
)
learned = [t for t, _ in sorted(trainer.get_vocab().items(), key=lambda kv: kv[1]) if t not in SPECIALS]
with tempfile.TemporaryDirectory() as tmp:
    vocab = os.path.join(tmp, "vocab.txt")
    with open(vocab, "w", encoding="utf-8") as f:
        f.write("\n".join(SPECIALS + learned) + "\n")
    fast = BertTokenizerFast(vocab_file=vocab, do_lower_case=False, tokenize_chinese_chars=True, strip_accents=None)
    assert [fast.convert_tokens_to_ids(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")] == [0, 100, 101, 102, 103]
    fast.backend_tokenizer.save(out, pretty=False)
print(f"{len(SPECIALS) + len(learned)} ids")
