#!/usr/bin/env python3
"""Export a LUKE-architecture masked LM (studio-ousia/mluke-base, mluke-large, luke-base, ...) or a word-only
XLM-R-style masked LM into an mlama-harness checkpoint directory (see README, "The checkpoint contract").

    python3 tools/export_mluke.py studio-ousia/mluke-base checkpoints/mluke-base
    python3 tools/export_mluke.py /models/xlm-roberta-base checkpoints/xlmr-base --word-only

Needs torch, transformers, onnx, onnxruntime, sentencepiece and protobuf. Writes:
  model.onnx          the gathered graph: log-probabilities at the mask positions / the object entity slot only
                      (LUKE: dense layers on the real words and entities only, the last layer at the read rows)
  model.naive.onnx    full logits at every position and over the whole entity vocabulary (for checks and benchmarks)
  model.words.onnx    LUKE only: the encoder without entity inputs and the word head, for word-only prompts
                      (packed as the gathered graph)
  weights.bin         one external-data file the graphs point into (each tensor stored once, 4 KiB aligned)
  tokenizer.json      the fast XLM-R tokenizer of the model's own SentencePiece model (plus <ent>, <ent2> for mLUKE)
  entity_vocab.json   "<lang>:<title>" -> id, special entities unprefixed (LUKE only)
  config.json         as transformers writes it
  mlama-checkpoint.json  the manifest the harness validates against

The export refuses a checkpoint whose prediction heads transformers had to initialise (a LukeModel checkpoint
loaded as LukeForMaskedLM): ranking with random heads would report numbers that mean nothing. After writing, it
runs the exported graphs with onnxruntime next to the torch model on a few prompts and fails above --tolerance.
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile

FORMAT = "mlama-checkpoint/1"
ENCODER_INPUTS = ["input_ids", "attention_mask", "entity_ids", "entity_attention_mask", "entity_token_type_ids", "entity_position_ids"]
WORD_INPUTS = ["input_ids", "attention_mask"]
ALIGN = 4096  # page-aligned offsets let onnxruntime map the file instead of reading it
INLINE_BELOW = 1024  # bytes: small constants stay inside the graph


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------------------------
# The two graph variants, as torch modules around a loaded masked LM. Heads run on 2-D rows so torch exports the
# tied output projection as Gemm(transB=1) over the embedding table itself, not over a folded transposed copy.


def _pick(torch, logits_2d, like, candidates):
    """Log-softmax over the full vocabulary of [B*M] head rows, then only the candidate ids: [B, M, K]."""
    lp = torch.log_softmax(logits_2d, dim=-1).reshape(like.size(0), like.size(1), -1)
    return torch.gather(lp, 2, candidates)


def _build_modules(torch, word_only):
    nn = torch.nn

    def gather_rows(hidden, positions):
        # hidden [B, L, H], positions [B, M] -> [B*M, H]
        idx = positions.unsqueeze(-1).expand(-1, -1, hidden.size(-1))
        return torch.gather(hidden, 1, idx).reshape(-1, hidden.size(-1))

    class LukeGathered(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.mlm = mlm

        def forward(self, input_ids, attention_mask, entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids,
                    word_positions, word_candidates, entity_slots, entity_candidates):
            out = self.mlm.luke(input_ids=input_ids, attention_mask=attention_mask, entity_ids=entity_ids,
                                entity_attention_mask=entity_attention_mask, entity_token_type_ids=entity_token_type_ids,
                                entity_position_ids=entity_position_ids, return_dict=True)
            words = self.mlm.lm_head(gather_rows(out.last_hidden_state, word_positions))
            ents = self.mlm.entity_predictions(gather_rows(out.entity_last_hidden_state, entity_slots))
            return _pick(torch, words, word_positions, word_candidates), _pick(torch, ents, entity_slots, entity_candidates)

    class LukeNaive(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.mlm = mlm

        def forward(self, input_ids, attention_mask, entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids):
            out = self.mlm(input_ids=input_ids, attention_mask=attention_mask, entity_ids=entity_ids,
                           entity_attention_mask=entity_attention_mask, entity_token_type_ids=entity_token_type_ids,
                           entity_position_ids=entity_position_ids, return_dict=True)
            return out.logits, out.entity_logits

    class WordGathered(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.mlm = mlm

        def forward(self, input_ids, attention_mask, word_positions, word_candidates):
            hidden = self.mlm.base_model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).last_hidden_state
            return _pick(torch, self.mlm.lm_head(gather_rows(hidden, word_positions)), word_positions, word_candidates)

    class WordNaive(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.mlm = mlm

        def forward(self, input_ids, attention_mask):
            return self.mlm(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).logits

    return (WordGathered, WordNaive) if word_only else (LukeGathered, LukeNaive)


def _packed_luke_modules(torch):
    """LUKE's gathered and words graphs, written out layer by layer from transformers' own submodules (embeddings,
    query/key/value and entity-aware queries, output and feed-forward layers, LayerNorms, both heads), so that what
    a batch never reads costs nothing:
    - padding: every dense layer runs on the batch's real words and entities only, gathered into one [T, H]
      matrix; only the attention product goes back to the padded [B, L + E] layout, padded keys masked as
      transformers masks them. A batch of mixed lengths then costs its real tokens, not rows x longest row.
    - the last layer past its keys and values: only the rows a head reads (word masks, the object entity slot)
      go through its queries, output and feed-forward layers (about 5-8% of the encoder at mLAMA's lengths).
    A head reads real rows only (the harness's mask positions and object slot); a read of a padded slot would get
    a neighbouring row, not transformers' value for the pad.
    Row for row this is LukeModel's arithmetic; the export's parity check (a padded batch) and `make parity`
    (entity-aware attention included) hold it to transformers. Encoder weights enter as x @ W^T, folded to the
    same transposed constants as the naive graph's, so weights.bin stores them once; the heads stay Gemm over
    the tied tables (see leave_tied_tables_unpacked)."""
    import math
    nn = torch.nn

    def lin(m, x):
        return torch.matmul(x, m.weight.t()) + m.bias

    def flat_rows(mask, width, offset):
        # mask [B, N] -> the slots of its real entries in a [B, width] layout starting at column `offset`, and,
        # for every slot, the packed row holding it (padding: the nearest, masked out as a key)
        keep = (mask != 0).reshape(-1).long()
        real = torch.nonzero(keep).squeeze(1)
        n = mask.size(1)
        slots = (real // n) * width + offset + real % n
        return real, slots, (torch.cumsum(keep, 0) - 1).clamp(min=0)

    class Encoder(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.luke = mlm.luke
            self.heads = mlm.config.num_attention_heads
            self.head_size = mlm.config.hidden_size // self.heads  # a constant, not a traced size
            self.aware = bool(getattr(mlm.config, "use_entity_aware_attention", False))

        def forward(self, input_ids, attention_mask, entities, word_reads, entity_reads):
            """entities: (ids, mask, token types, positions) or None; word_reads [B, M] token positions, entity_reads
            [B, S] entity slots or None. Returns the last layer's rows at the reads, [B, M + S, H]."""
            B, L = input_ids.shape
            word = self.luke.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
            H = word.size(-1)
            masks = [attention_mask]
            if entities is not None:
                ent = self.luke.entity_embeddings(entities[0], entities[3], entities[2])
                masks.append(entities[1])
            E = entities[0].size(1) if entities is not None else 0
            W = L + E
            w_real, w_slots, w_row = flat_rows(attention_mask, W, 0)
            x = word.reshape(-1, H).index_select(0, w_real)
            Tw = x.size(0)
            slots, row_of = w_slots, w_row.view(B, L)
            reads = word_reads + torch.arange(B).unsqueeze(1) * L
            reads = w_row.index_select(0, reads.reshape(-1)).view(B, -1)
            if entities is not None:
                e_real, e_slots, e_row = flat_rows(entities[1], W, L)
                x = torch.cat([x, ent.reshape(-1, H).index_select(0, e_real)], 0)
                slots = torch.cat([slots, e_slots])
                # Padded entity slots point at row 0 (a word; masked out as a key): a batch without a real entity,
                # the masked dummy of word-only passes, has no row past the words.
                e_row = torch.where(entities[1].reshape(-1) != 0, e_row + Tw, torch.zeros_like(e_row))
                row_of = torch.cat([row_of, e_row.view(B, E)], 1)
                e_reads = e_row.index_select(0, (entity_reads + torch.arange(B).unsqueeze(1) * E).reshape(-1)).view(B, -1)
                reads = torch.cat([reads, e_reads], 1)
            row_of = row_of.reshape(-1)
            bias = (1.0 - torch.cat(masks, 1)[:, None, None, :].to(word.dtype)) * torch.finfo(word.dtype).min
            padded = lambda t: t.index_select(0, row_of).view(B, W, H)
            layers = self.luke.encoder.layer
            for i, layer in enumerate(layers):
                sa = layer.attention.self
                k, v = padded(lin(sa.key, x)), padded(lin(sa.value, x))
                last = i == len(layers) - 1
                rows = x.index_select(0, reads.reshape(-1)) if last else x
                n_word = word_reads.size(1) if last else Tw
                q_words, q_ents = self.queries(sa, rows, n_word, last, B, entities is not None)
                if not last:
                    q_words, q_ents = padded(q_words), (padded(q_ents) if q_ents is not None else None)
                ctx = self.attend(q_words, q_ents, k, v, L, B, bias)
                if not last:
                    ctx = ctx.index_select(0, slots)
                a = layer.attention.output.LayerNorm(lin(layer.attention.output.dense, ctx) + rows)
                inter = layer.intermediate.intermediate_act_fn(lin(layer.intermediate.dense, a))
                x = layer.output.LayerNorm(lin(layer.output.dense, inter) + a)
            return x.view(B, -1, H)

        def queries(self, sa, rows, n_word, last, B, with_entities):
            """Queries against the word keys and (entity-aware attention, when entities are fed) against the entity
            keys. Word rows come first: the first n_word packed rows, or in the last layer the first n_word reads of
            each batch row."""
            if not (self.aware and with_entities):
                q = lin(sa.query, rows)
                return q, None
            H = rows.size(-1)
            if last:
                r = rows.view(B, -1, H)
                w, e = r[:, :n_word].reshape(-1, H), r[:, n_word:].reshape(-1, H)
                join = lambda a, b: torch.cat([a.view(B, -1, H), b.view(B, -1, H)], 1).reshape(-1, H)
            else:
                w, e = rows[:n_word], rows[n_word:]
                join = lambda a, b: torch.cat([a, b], 0)
            return join(lin(sa.query, w), lin(sa.e2w_query, e)), join(lin(sa.w2e_query, w), lin(sa.e2e_query, e))

        def attend(self, q_words, q_ents, k, v, L, B, bias):
            # q [B, Q, H] (or packed rows [B * Q, H]); k, v [B, L + E, H] -> [B * Q, H]
            H, d = k.size(-1), self.head_size
            split = lambda t: t.reshape(B, -1, self.heads, d).transpose(1, 2)
            kt = split(k).transpose(-1, -2)
            if q_ents is None:
                scores = torch.matmul(split(q_words), kt)
            else:
                scores = torch.cat([torch.matmul(split(q_words), kt[..., :L]), torch.matmul(split(q_ents), kt[..., L:])], -1)
            probs = torch.softmax(scores / math.sqrt(d) + bias, dim=-1)
            return torch.matmul(probs, split(v)).transpose(1, 2).reshape(-1, H)

    class PackedGathered(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.encoder, self.lm_head, self.entity_predictions = Encoder(mlm), mlm.lm_head, mlm.entity_predictions

        def forward(self, input_ids, attention_mask, entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids,
                    word_positions, word_candidates, entity_slots, entity_candidates):
            M = word_positions.size(1)
            ents = (entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids)
            rows = self.encoder(input_ids, attention_mask, ents, word_positions, entity_slots)
            H = rows.size(-1)
            words = self.lm_head(rows[:, :M].reshape(-1, H))
            found = self.entity_predictions(rows[:, M:].reshape(-1, H))
            return _pick(torch, words, word_positions, word_candidates), _pick(torch, found, entity_slots, entity_candidates)

    class PackedWords(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.encoder, self.lm_head = Encoder(mlm), mlm.lm_head

        def forward(self, input_ids, attention_mask, word_positions, word_candidates):
            rows = self.encoder(input_ids, attention_mask, None, word_positions, None)
            return _pick(torch, self.lm_head(rows.reshape(-1, rows.size(-1))), word_positions, word_candidates)

    return PackedGathered, PackedWords


def is_transformers_luke(mlm):
    """transformers' LukeForMaskedLM layout (the packed graphs reach into it); the exporter test's stub has another."""
    return hasattr(getattr(mlm, "luke", None), "encoder") and hasattr(mlm.luke, "embeddings")


def graph_spec(word_only):
    """The graphs of an export. A LUKE export adds `words`: the encoder without entity inputs and the word head, for
    word-only prompts. Fed a masked dummy entity instead, the gathered graph runs entity-aware attention's extra
    query projection over every word (about 8% more encoder FLOPs) for nothing."""
    if word_only:
        return {
            "gathered": {"file": "model.onnx", "inputs": WORD_INPUTS + ["word_positions", "word_candidates"], "outputs": ["word_logprobs"]},
            "naive": {"file": "model.naive.onnx", "inputs": list(WORD_INPUTS), "outputs": ["logits"]},
        }
    return {
        "gathered": {"file": "model.onnx", "inputs": ENCODER_INPUTS + ["word_positions", "word_candidates", "entity_slots", "entity_candidates"],
                     "outputs": ["word_logprobs", "entity_logprobs"]},
        "naive": {"file": "model.naive.onnx", "inputs": list(ENCODER_INPUTS), "outputs": ["logits", "entity_logits"]},
        "words": {"file": "model.words.onnx", "inputs": WORD_INPUTS + ["word_positions", "word_candidates"], "outputs": ["word_logprobs"]},
    }


DYNAMIC = {
    "input_ids": {0: "batch", 1: "words"}, "attention_mask": {0: "batch", 1: "words"},
    "entity_ids": {0: "batch", 1: "entities"}, "entity_attention_mask": {0: "batch", 1: "entities"},
    "entity_token_type_ids": {0: "batch", 1: "entities"}, "entity_position_ids": {0: "batch", 1: "entities", 2: "span"},
    "word_positions": {0: "batch", 1: "masks"}, "word_candidates": {0: "batch", 1: "masks", 2: "word_k"},
    "entity_slots": {0: "batch", 1: "slots"}, "entity_candidates": {0: "batch", 1: "slots", 2: "entity_k"},
    "word_logprobs": {0: "batch", 1: "masks", 2: "word_k"}, "entity_logprobs": {0: "batch", 1: "slots", 2: "entity_k"},
    "logits": {0: "batch", 1: "words"}, "entity_logits": {0: "batch", 1: "entities"},
}


def example_inputs(torch, word_only, pad_entity):
    """Trace inputs with every dynamic axis above 1, so no size is frozen into the graph, and one padded row."""
    B, L, E, P, M, K, S, K2 = 2, 7, 2, 3, 2, 3, 1, 4
    i64 = lambda *shape, hi=5: torch.randint(4, hi + 4, shape, dtype=torch.long)
    words = {"input_ids": i64(B, L, hi=100), "attention_mask": torch.ones(B, L, dtype=torch.long)}
    # The second row is one token shorter, padded as the harness pads (id 1, masked out): the words graph packs
    # real tokens, and the parity check below must see it do so on a padded batch.
    words["input_ids"][1, -1], words["attention_mask"][1, -1] = 1, 0
    gather = {"word_positions": torch.tensor([[1, 2]] * B), "word_candidates": i64(B, M, K, hi=100)}
    if word_only:
        return words, gather
    ents = {
        "entity_ids": torch.full((B, E), pad_entity, dtype=torch.long) + torch.tensor([[2, 3]] * B),
        "entity_attention_mask": torch.ones(B, E, dtype=torch.long),
        "entity_token_type_ids": torch.zeros(B, E, dtype=torch.long),
        "entity_position_ids": torch.tensor([[[1, 2, -1], [3, 4, 5]]] * B),
    }
    gather.update({"entity_slots": torch.zeros(B, S, dtype=torch.long), "entity_candidates": i64(B, S, K2, hi=3)})
    return {**words, **ents}, gather


def export_graph(torch, module, inputs, spec, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    names = spec["inputs"]
    torch.onnx.export(module, tuple(inputs[n] for n in names), path, input_names=names, output_names=spec["outputs"],
                      dynamic_axes={n: DYNAMIC[n] for n in names + spec["outputs"]}, opset_version=17, do_constant_folding=True)


# ---------------------------------------------------------------------------------------------------------------
# One weights file for both graphs.


def share_weights(onnx, graphs, out_dir):
    """Moves every initializer of the graphs (path -> ModelProto) into out_dir/weights.bin, each distinct tensor
    once, and points the graphs at it. Returns the number of bytes written."""
    from onnx import external_data_helper as ext
    offsets = {}
    written = 0
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        for model in graphs.values():
            for t in model.graph.initializer:
                raw = t.raw_data if t.HasField("raw_data") else onnx.numpy_helper.to_array(t).tobytes()
                if len(raw) < INLINE_BELOW:
                    continue
                key = hashlib.sha1(raw).hexdigest() + str(len(raw))
                if key not in offsets:
                    pad = (-written) % ALIGN
                    f.write(b"\0" * pad)
                    written += pad
                    offsets[key] = written
                    f.write(raw)
                    written += len(raw)
                ext.set_external_data(t, location="weights.bin", offset=offsets[key], length=len(raw))
                t.data_location = onnx.TensorProto.EXTERNAL
                t.ClearField("raw_data")
                for field in ("float_data", "int64_data", "int32_data", "double_data"):
                    t.ClearField(field)
    return written


def leave_tied_tables_unpacked(model, min_bytes=64 << 20):
    """Declares large tables read both by a Gather (embedding lookup) and by a Gemm/MatMul (the tied output
    projection) as graph inputs with their stored value as default. onnxruntime then neither constant-folds nor
    pre-packs them, so the table stays one copy in memory (1.8 GB less for mluke-base)."""
    users = {}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            users.setdefault(name, set()).add(node.op_type if node.op_type != "Gemm" or i == 1 else "GemmA")
    declared = {i.name for i in model.graph.input}
    for t in model.graph.initializer:
        size = 4
        for d in t.dims:
            size *= d
        u = users.get(t.name, set())
        if size >= min_bytes and "Gather" in u and ({"Gemm", "MatMul"} & u) and t.name not in declared:
            vi = model.graph.input.add()
            vi.name = t.name
            vi.type.tensor_type.elem_type = t.data_type
            for d in t.dims:
                vi.type.tensor_type.shape.dim.add().dim_value = d


# ---------------------------------------------------------------------------------------------------------------
# Tokenizer, entity vocabulary, config.


def write_tokenizer(tokenizer, vocab_size, out_dir):
    """tokenizer.json from the fast XLM-R tokenizer of the model's own SentencePiece file, with the model's extra
    word tokens (<ent>, <ent2> for mLUKE) at the ids the slow tokenizer gives them."""
    from transformers import XLMRobertaTokenizerFast
    sp = getattr(tokenizer, "vocab_file", None)
    if not sp or not os.path.exists(sp):
        die("the tokenizer has no SentencePiece vocab_file to build a fast tokenizer from")
    fast = XLMRobertaTokenizerFast(vocab_file=sp)
    extra = [t for t in tokenizer.additional_special_tokens if t not in fast.get_vocab()]
    if extra:
        fast.add_special_tokens({"additional_special_tokens": extra})
    for t in extra + ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]:
        a, b = tokenizer.convert_tokens_to_ids(t), fast.convert_tokens_to_ids(t)
        if a != b:
            die(f"token {t}: id {a} in the model's tokenizer but {b} in the fast one")
    if len(fast) != vocab_size:
        die(f"tokenizer has {len(fast)} ids but config vocab_size is {vocab_size}")
    path = os.path.join(out_dir, "tokenizer.json")
    fast.backend_tokenizer.save(path)
    if sp_byte_fallback(sp):
        # transformers' converter drops SentencePiece's byte fallback: a character outside the pieces would become
        # <unk> where the model's own tokenizer gives its UTF-8 bytes. The Unigram model of tokenizers has the flag.
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        j["model"]["byte_fallback"] = True
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
    check_fast_file(tokenizer, path)


def sp_byte_fallback(sp_file):
    from sentencepiece import sentencepiece_model_pb2
    m = sentencepiece_model_pb2.ModelProto()
    with open(sp_file, "rb") as f:
        m.ParseFromString(f.read())
    return m.trainer_spec.byte_fallback


def check_fast_file(tokenizer, path):
    """The written file against the model's own tokenizer, including characters no piece covers."""
    from tokenizers import Tokenizer
    fast = Tokenizer.from_file(path)
    for text in ["Ryō Kase was born in Yokohama .", "[Y]は[X]の母語です", "ولد في القاهرة", "巴黎是法国的首都。", "\u2603 \U0001F600 ǅ ⅷ"]:
        a = tokenizer(text, add_special_tokens=False)["input_ids"]
        b = fast.encode(text, add_special_tokens=False).ids
        if a != b:
            die(f"tokenizer.json and the model's tokenizer disagree on {text!r}: {b} vs {a}")


SPECIAL_ENTITIES = ("[PAD]", "[UNK]", "[MASK]", "[MASK2]")


def read_entity_vocab(path, tokenizer):
    """The tokenizer's own entity vocabulary, or LUKE's original jsonl ({"id", "entities": [[title, lang], ...]})."""
    if path and path.endswith(".jsonl"):
        vocab = {}
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    for title, lang in rec["entities"]:
                        vocab[title if (title in SPECIAL_ENTITIES or not lang) else f"{lang}:{title}"] = int(rec["id"])
                except (ValueError, KeyError, TypeError) as e:
                    die(f"{path}:{n}: {e}")
        return vocab
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    vocab = getattr(tokenizer, "entity_vocab", None)
    if not vocab:
        die("the tokenizer has no entity vocabulary; pass --entity-vocab")
    return dict(vocab)


def write_entity_vocab(vocab, size, out_dir):
    if "[MASK2]" not in vocab and max(vocab.values()) + 2 == size:
        vocab["[MASK2]"] = size - 1  # mLUKE's conversion appends it
    for s in ("[PAD]", "[UNK]", "[MASK]"):
        if s not in vocab:
            die(f"entity vocabulary has no {s}")
    top = max(vocab.values()) + 1
    if top != size:
        die(f"entity vocabulary has {top} ids but config entity_vocab_size is {size}")
    with open(os.path.join(out_dir, "entity_vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)


def check_heads(info, model):
    tied = set(getattr(model, "_tied_weights_keys", None) or [])
    missing = [k for k in info.get("missing_keys", []) if (k.startswith("lm_head.") or k.startswith("entity_predictions.")) and k not in tied]
    if missing:
        die(f"the checkpoint has no trained prediction heads (transformers initialised {', '.join(sorted(missing)[:4])}"
            f"{'...' if len(missing) > 4 else ''}); refusing to export random heads")


# ---------------------------------------------------------------------------------------------------------------
# Parity: the exported graphs against the torch model they came from.


def parity(torch, ort, mlm, out_dir, spec, word_only, pad_entity, tolerance):
    inputs, gather = example_inputs(torch, word_only, pad_entity)
    worst = 0.0
    mlm.eval()
    with torch.no_grad():
        ref = mlm(**inputs, return_dict=True)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    naive = ort.InferenceSession(os.path.join(out_dir, spec["naive"]["file"]), opts, providers=["CPUExecutionProvider"])
    got = naive.run(None, {n: inputs[n].numpy() for n in spec["naive"]["inputs"]})
    worst = max(worst, float(abs(got[0] - ref.logits.numpy()).max()))
    if not word_only:
        worst = max(worst, float(abs(got[1] - ref.entity_logits.numpy()).max()))
    gathered = ort.InferenceSession(os.path.join(out_dir, spec["gathered"]["file"]), opts, providers=["CPUExecutionProvider"])
    feeds = {**inputs, **gather}
    got = gathered.run(None, {n: feeds[n].numpy() for n in spec["gathered"]["inputs"]})
    lp = torch.log_softmax(ref.logits, -1)
    want = torch.gather(torch.gather(lp, 1, gather["word_positions"].unsqueeze(-1).expand(-1, -1, lp.size(-1))), 2, gather["word_candidates"])
    worst = max(worst, float(abs(got[0] - want.numpy()).max()))
    if not word_only:
        elp = torch.log_softmax(ref.entity_logits, -1)
        want = torch.gather(torch.gather(elp, 1, gather["entity_slots"].unsqueeze(-1).expand(-1, -1, elp.size(-1))), 2, gather["entity_candidates"])
        worst = max(worst, float(abs(got[1] - want.numpy()).max()))
    if "words" in spec:
        with torch.no_grad():
            ref = mlm(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], return_dict=True)
        words = ort.InferenceSession(os.path.join(out_dir, spec["words"]["file"]), opts, providers=["CPUExecutionProvider"])
        got = words.run(None, {n: feeds[n].numpy() for n in spec["words"]["inputs"]})
        lp = torch.log_softmax(ref.logits, -1)
        want = torch.gather(torch.gather(lp, 1, gather["word_positions"].unsqueeze(-1).expand(-1, -1, lp.size(-1))), 2, gather["word_candidates"])
        worst = max(worst, float(abs(got[0] - want.numpy()).max()))
    print(f"parity: onnxruntime vs torch, max |difference| {worst:.2e} (tolerance {tolerance:g})")
    if not worst <= tolerance:
        die(f"exported graphs differ from the torch model by {worst:.2e} (> {tolerance:g})")


# ---------------------------------------------------------------------------------------------------------------


def export_checkpoint(torch, onnx, mlm, config, out_dir, word_only, origin, write_side_files, unpack_min_bytes=64 << 20, random_weights=False):
    """Everything after loading: graphs, shared weights, side files (a callback), manifest. Returns the spec."""
    os.makedirs(out_dir, exist_ok=True)
    mlm.eval()
    pad_entity = 0
    spec = graph_spec(word_only)
    Gathered, Naive = _build_modules(torch, word_only)
    Words = _build_modules(torch, True)[0]
    if not word_only and is_transformers_luke(mlm):
        Gathered, Words = _packed_luke_modules(torch)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        inputs, gather = example_inputs(torch, word_only, pad_entity)
        with torch.no_grad():
            # A wrapper is created in training mode, and torch.onnx.export restores the mode it found, recursively:
            # without eval() here the model comes back with dropout on (the graphs are right, torch is not).
            # Past 2 GB torch writes one external file per tensor, named after it, beside the graph: each graph
            # gets its own directory, or the second export overwrites the first's same-named tensors.
            export_graph(torch, Gathered(mlm).eval(), {**inputs, **gather}, spec["gathered"], os.path.join(tmp, "gathered", "model.onnx"))
            export_graph(torch, Naive(mlm).eval(), inputs, spec["naive"], os.path.join(tmp, "naive", "model.naive.onnx"))
            if "words" in spec:
                words = {n: inputs[n] for n in WORD_INPUTS}
                export_graph(torch, Words(mlm).eval(), {**words, **gather}, spec["words"], os.path.join(tmp, "words", "model.words.onnx"))
        graphs = {v: onnx.load(os.path.join(tmp, v, s["file"]), load_external_data=True) for v, s in spec.items()}
    # The words graph keeps its output table a constant, so onnxruntime pre-packs it (one more copy of the word table,
    # 0.73 GiB at base size, beside the second session's packed encoder): word-only prompts are most of a run's head
    # rows, and an unpacked 250k-row head runs slower (an 8-row batch 315 vs 269 ms). The gathered graph reads the word head only for prompts that feed entities and rank
    # by words (entity-word), and keeps the table a single copy.
    leave_tied_tables_unpacked(graphs["gathered"], unpack_min_bytes)
    weight_bytes = share_weights(onnx, graphs, out_dir)
    for v, s in spec.items():
        onnx.save_model(graphs[v], os.path.join(out_dir, s["file"]))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_side_files(out_dir)
    manifest = {
        "format": FORMAT,
        "architecture": "word-only" if word_only else "luke",
        "random_weights": random_weights,
        "origin": origin,
        "graphs": spec,
        "files": {"tokenizer": "tokenizer.json", "config": "config.json", "weights": ["weights.bin"], **({} if word_only else {"entity_vocab": "entity_vocab.json"})},
    }
    with open(os.path.join(out_dir, "mlama-checkpoint.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {out_dir}: {weight_bytes / 2**20:.0f} MiB of weights shared by the graphs")
    return spec


# ---------------------------------------------------------------------------------------------------------------
# Word-only families (XLM-R / RoBERTa, BERT): chosen from the config's model_type, graphs named by the contract
# (src/model/contract.json) and the family's input groups, as src/model/families declares them.

CONTRACT_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "model", "contract.json")
WORD_FAMILIES = {
    "xlmr": {"model_types": ("xlm-roberta", "roberta"), "input_groups": ("words",), "heads": ("word",)},
    "bert": {"model_types": ("bert",), "input_groups": ("words", "token_types"), "heads": ("word",)},
}


def load_contract():
    with open(CONTRACT_FILE, encoding="utf-8") as f:
        return json.load(f)


def word_family_of(model_type):
    return next((name for name, fam in WORD_FAMILIES.items() if model_type in fam["model_types"]), None)


def family_graph_spec(contract, family):
    """The manifest's graphs for a family: its input groups, then the gather inputs of its heads."""
    fam = WORD_FAMILIES[family]
    words = [n for g in fam["input_groups"] for n in contract["input_groups"][g]]
    heads = [contract["heads"][h] for h in fam["heads"]]
    files = contract["files"]
    return {
        "gathered": {"file": files["gathered"], "inputs": words + [n for h in heads for n in h["gather_inputs"]], "outputs": [h["gathered_output"] for h in heads]},
        "naive": {"file": files["naive"], "inputs": list(words), "outputs": [h["naive_output"] for h in heads]},
    }


def _word_family_head(mlm):
    # BertForMaskedLM keeps its head in `cls`, the RoBERTa family in `lm_head`.
    return mlm.cls if hasattr(mlm, "cls") else mlm.lm_head


def _word_family_modules(torch):
    nn = torch.nn

    class Gathered(nn.Module):
        def __init__(self, mlm, names):
            super().__init__()
            self.mlm, self.names = mlm, names

        def forward(self, *args):
            x = dict(zip(self.names, args))
            words = {k: x[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in x}
            hidden = self.mlm.base_model(**words, return_dict=True).last_hidden_state
            pos, cand = x["word_positions"], x["word_candidates"]
            rows = torch.gather(hidden, 1, pos.unsqueeze(-1).expand(-1, -1, hidden.size(-1))).reshape(-1, hidden.size(-1))
            lp = torch.log_softmax(_word_family_head(self.mlm)(rows), dim=-1).reshape(pos.size(0), pos.size(1), -1)
            return torch.gather(lp, 2, cand)

    class Naive(nn.Module):
        def __init__(self, mlm, names):
            super().__init__()
            self.mlm, self.names = mlm, names

        def forward(self, *args):
            return self.mlm(**dict(zip(self.names, args)), return_dict=True).logits

    return Gathered, Naive


def word_family_inputs(torch, spec):
    B, L = 2, 7
    inputs = {"input_ids": torch.randint(5, 100, (B, L)), "attention_mask": torch.ones(B, L, dtype=torch.long), "token_type_ids": torch.zeros(B, L, dtype=torch.long),
              "word_positions": torch.tensor([[1, 2]] * B), "word_candidates": torch.randint(5, 100, (B, 2, 3))}
    return {n: inputs[n] for n in spec["gathered"]["inputs"]}


def check_word_family_heads(info, model):
    tied = set(getattr(model, "_tied_weights_keys", None) or [])
    missing = [k for k in info.get("missing_keys", []) if k.startswith(("cls.", "lm_head.")) and k not in tied]
    if missing:
        die(f"the checkpoint has no trained MLM head (transformers initialised {', '.join(sorted(missing)[:4])}); refusing to export a random head")


def write_bert_tokenizer(tokenizer, vocab_size, out_dir):
    """tokenizer.json of a WordPiece model, as transformers converts BERT's vocab.txt, checked against the slow tokenizer."""
    from transformers import BertTokenizer, BertTokenizerFast
    if not hasattr(tokenizer, "save_vocabulary") or not hasattr(tokenizer, "vocab"):
        die("the tokenizer is not a WordPiece (BERT) tokenizer with a vocab.txt")
    lower = bool(getattr(tokenizer, "do_lower_case", False))
    with tempfile.TemporaryDirectory() as tmp:
        vocab = tokenizer.save_vocabulary(tmp)[0]
        slow = BertTokenizer(vocab_file=vocab, do_lower_case=lower)
        fast = BertTokenizerFast(vocab_file=vocab, do_lower_case=lower)
    for text in ["Ryō Kase was born in Yokohama .", "[X]は[Y]の母語です", "ولد في القاهرة", "巴黎是法国的首都。", "Paris is the capital of [MASK] ."]:
        a, b = slow(text)["input_ids"], fast(text)["input_ids"]
        if a != b:
            die(f"fast and slow WordPiece tokenizers disagree on {text!r}: {a} vs {b}")
    if len(fast) != vocab_size:
        die(f"tokenizer has {len(fast)} ids but config vocab_size is {vocab_size}")
    fast.backend_tokenizer.save(os.path.join(out_dir, "tokenizer.json"))


def export_word_family(torch, onnx, ort, mlm, tokenizer, family, out_dir, origin, tolerance, unpack_min_bytes=64 << 20):
    """Graphs, shared weights, tokenizer, config and manifest of a word-only family; then parity against torch."""
    contract = load_contract()
    spec = family_graph_spec(contract, family)
    os.makedirs(out_dir, exist_ok=True)
    mlm.eval()
    Gathered, Naive = _word_family_modules(torch)
    feeds = word_family_inputs(torch, spec)
    axes = {n: dict(enumerate(contract["dynamic_axes"][n])) for v in spec.values() for n in v["inputs"] + v["outputs"]}
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        with torch.no_grad():
            for variant, module in (("gathered", Gathered), ("naive", Naive)):
                names = spec[variant]["inputs"]
                # An eval-mode wrapper: torch.onnx.export restores the wrapper's mode afterwards, and a fresh
                # nn.Module is in training mode, which would leave the model's dropout on for the parity check.
                torch.onnx.export(module(mlm, names).eval(), tuple(feeds[n] for n in names), os.path.join(tmp, spec[variant]["file"]), input_names=names,
                                  output_names=spec[variant]["outputs"], dynamic_axes={n: axes[n] for n in names + spec[variant]["outputs"]},
                                  opset_version=17, do_constant_folding=True)
        graphs = {v: onnx.load(os.path.join(tmp, sp["file"]), load_external_data=True) for v, sp in spec.items()}
    leave_tied_tables_unpacked(graphs["gathered"], unpack_min_bytes)
    weight_bytes = share_weights(onnx, graphs, out_dir)
    for v, sp in spec.items():
        onnx.save_model(graphs[v], os.path.join(out_dir, sp["file"]))
    cfg = mlm.config.to_dict()
    with open(os.path.join(out_dir, contract["files"]["config"]), "w") as f:
        json.dump(cfg, f, indent=2)
    if family == "bert":
        write_bert_tokenizer(tokenizer, cfg["vocab_size"], out_dir)
    else:
        write_tokenizer(tokenizer, cfg["vocab_size"], out_dir)
    manifest = {"format": contract["format"], "family": family, "architecture": "word-only", "random_weights": False, "origin": origin, "graphs": spec,
                "files": {"tokenizer": contract["files"]["tokenizer"], "config": contract["files"]["config"], "weights": [contract["files"]["weights"]]}}
    with open(os.path.join(out_dir, contract["manifest"]), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {out_dir}: {family}, {weight_bytes / 2**20:.0f} MiB of weights shared by the graphs")
    worst = word_family_parity(torch, ort, mlm, out_dir, spec, feeds)
    print(f"{family} max_abs={worst:.3e}")
    if not worst <= tolerance:
        die(f"exported graphs differ from the torch model by {worst:.2e} (> {tolerance:g})")
    return spec


def word_family_parity(torch, ort, mlm, out_dir, spec, feeds):
    """The largest |onnxruntime - torch| over both graphs, on the trace inputs."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    words = {n: feeds[n] for n in spec["naive"]["inputs"]}
    with torch.no_grad():
        logits = mlm(**words, return_dict=True).logits
    session = lambda v: ort.InferenceSession(os.path.join(out_dir, spec[v]["file"]), opts, providers=["CPUExecutionProvider"])
    got = session("naive").run(None, {n: t.numpy() for n, t in words.items()})[0]
    worst = float(abs(got - logits.numpy()).max())
    lp = torch.log_softmax(logits, -1)
    pos, cand = feeds["word_positions"], feeds["word_candidates"]
    want = torch.gather(torch.gather(lp, 1, pos.unsqueeze(-1).expand(-1, -1, lp.size(-1))), 2, cand)
    got = session("gathered").run(None, {n: feeds[n].numpy() for n in spec["gathered"]["inputs"]})[0]
    return max(worst, float(abs(got - want.numpy()).max()))


def export_word_family_main(a, config):
    """The exporter's branch for XLMRobertaForMaskedLM, RobertaForMaskedLM and BertForMaskedLM."""
    import onnx
    import onnxruntime as ort
    import torch
    import transformers
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    family = word_family_of(config.model_type)
    mlm, info = AutoModelForMaskedLM.from_pretrained(a.source, output_loading_info=True)
    check_word_family_heads(info, mlm)
    tokenizer = AutoTokenizer.from_pretrained(a.source, use_fast=False)
    origin = {"exporter": "tools/export_mluke.py", "source": a.source, "family": family, "transformers": transformers.__version__, "torch": torch.__version__}
    export_word_family(torch, onnx, ort, mlm, tokenizer, family, a.out, origin, a.tolerance)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="hub name (studio-ousia/mluke-base) or local directory")
    ap.add_argument("out", help="checkpoint directory to write")
    ap.add_argument("--word-only", action="store_true", help="an XLM-R-style masked LM without entity inputs")
    ap.add_argument("--entity-vocab", help="entity vocabulary to use instead of the tokenizer's (.json or LUKE's .jsonl)")
    ap.add_argument("--random-weights", action="store_true", help="the source has random weights (test fixtures): the manifest says so and reports warn")
    ap.add_argument("--tolerance", type=float, default=1e-3, help="largest |difference| between onnxruntime and torch (default 1e-3)")
    a = ap.parse_args()
    try:
        import onnx
        import onnxruntime as ort
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer
    except ImportError as e:
        die(f"{e.name} is not installed (the exporter needs torch, transformers, onnx, onnxruntime, sentencepiece, protobuf)")

    config = AutoConfig.from_pretrained(a.source)
    if word_family_of(config.model_type):
        return export_word_family_main(a, config)
    if not a.word_only and config.model_type not in ("luke",):
        die(f"{a.source}: model_type {config.model_type!r} is not LUKE; use --word-only for XLM-R-style models")
    mlm, info = AutoModelForMaskedLM.from_pretrained(a.source, output_loading_info=True)
    check_heads(info, mlm)
    # The slow tokenizer is the SentencePiece model itself; AutoTokenizer's fast XLM-R conversion drops byte fallback.
    tokenizer = AutoTokenizer.from_pretrained(a.source, use_fast=False)
    cfg = mlm.config.to_dict()

    def side_files(out_dir):
        write_tokenizer(tokenizer, cfg["vocab_size"], out_dir)
        if not a.word_only:
            write_entity_vocab(read_entity_vocab(a.entity_vocab, tokenizer), cfg["entity_vocab_size"], out_dir)

    origin = {"exporter": "tools/export_mluke.py", "source": a.source, "transformers": transformers.__version__, "torch": torch.__version__}
    spec = export_checkpoint(torch, onnx, mlm, cfg, a.out, a.word_only, origin, side_files, random_weights=a.random_weights)
    parity(torch, ort, mlm, a.out, spec, a.word_only, 0, a.tolerance)


if __name__ == "__main__":
    main()
