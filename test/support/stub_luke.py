"""A small LUKE-shaped masked LM in plain torch, for testing tools/export_mluke.py where transformers is absent.

It has the interface the exporter uses (mlm.luke(...) with last_hidden_state and entity_last_hidden_state,
mlm.lm_head, mlm.entity_predictions, mlm(...) with logits and entity_logits) and LUKE's input semantics (RoBERTa
word positions, entity embedding = table + mean of its tokens' position embeddings + type, tied output tables).
It is not LUKE's encoder: one standard transformer layer stands in for twelve entity-aware ones.
"""

from types import SimpleNamespace

import torch
from torch import nn


class Heads(nn.Module):
    def __init__(self, hidden, width, table):
        super().__init__()
        self.dense = nn.Linear(hidden, width)
        self.layer_norm = nn.LayerNorm(width, eps=1e-5)
        self.table = table
        self.bias = nn.Parameter(torch.zeros(table.weight.size(0)).uniform_(-0.01, 0.01))

    def forward(self, x):
        return nn.functional.linear(self.layer_norm(nn.functional.gelu(self.dense(x))), self.table.weight, self.bias)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        H = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], H)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], H)
        self.entity_embeddings = nn.Embedding(c["entity_vocab_size"], c["entity_emb_size"])
        self.entity_dense = nn.Linear(c["entity_emb_size"], H, bias=False)
        self.entity_type = nn.Parameter(torch.randn(H) * 0.02)
        self.norm = nn.LayerNorm(H, eps=1e-5)
        self.qkv = nn.Linear(H, 3 * H)
        self.out = nn.Linear(H, H)
        self.ffn = nn.Sequential(nn.Linear(H, c["intermediate_size"]), nn.GELU(), nn.Linear(c["intermediate_size"], H))
        self.norm1 = nn.LayerNorm(H, eps=1e-5)
        self.norm2 = nn.LayerNorm(H, eps=1e-5)
        # Like LUKE's hidden dropout: an export that leaves the model in training mode shows as a parity failure.
        self.dropout = nn.Dropout(0.1)

    def forward(
        self, input_ids, attention_mask, entity_ids=None, entity_attention_mask=None, entity_token_type_ids=None, entity_position_ids=None, return_dict=True
    ):
        pad = self.c["pad_token_id"]
        not_pad = (input_ids != pad).long()
        positions = torch.cumsum(not_pad, 1) * not_pad + pad
        words = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        if entity_ids is None:  # word-only, as LukeModel runs without entity inputs
            both, keep = self.dropout(self.norm(words)), attention_mask
        else:
            valid = (entity_position_ids != -1).float().unsqueeze(-1)
            pos = self.position_embeddings(entity_position_ids.clamp(min=0)) * valid
            mean = pos.sum(2) / valid.sum(2).clamp(min=1e-7)
            ents = self.entity_dense(self.entity_embeddings(entity_ids)) + mean + self.entity_type * (entity_token_type_ids.unsqueeze(-1) + 1).float()
            both = self.dropout(self.norm(torch.cat([words, ents], 1)))
            keep = torch.cat([attention_mask, entity_attention_mask], 1)
        # One post-norm attention block with an additive key mask, as transformers builds it.
        B, T, H = both.shape
        h = self.c["num_attention_heads"]
        q, k, v = self.qkv(both).reshape(B, T, 3, h, H // h).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / (H // h) ** 0.5 + ((1.0 - keep.float()) * -1e9)[:, None, None, :]
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H)
        x = self.norm1(both + self.out(ctx))
        out = self.norm2(x + self.ffn(x))
        L = input_ids.size(1)
        return SimpleNamespace(last_hidden_state=out[:, :L], entity_last_hidden_state=None if entity_ids is None else out[:, L:])


class StubLukeForMaskedLM(nn.Module):
    def __init__(self, c, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.config = c
        self.luke = Encoder(c)
        with torch.no_grad():
            for p in self.luke.parameters():
                if p.dim() > 1:
                    p.normal_(0, 0.02)
        self.lm_head = Heads(c["hidden_size"], c["hidden_size"], self.luke.word_embeddings)
        self.entity_predictions = Heads(c["hidden_size"], c["entity_emb_size"], self.luke.entity_embeddings)

    @property
    def base_model(self):
        return self.luke

    def forward(
        self, input_ids, attention_mask, entity_ids=None, entity_attention_mask=None, entity_token_type_ids=None, entity_position_ids=None, return_dict=True
    ):
        out = self.luke(input_ids, attention_mask, entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids)
        entity_logits = None if entity_ids is None else self.entity_predictions(out.entity_last_hidden_state)
        return SimpleNamespace(logits=self.lm_head(out.last_hidden_state), entity_logits=entity_logits)
