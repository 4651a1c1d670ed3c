#!/usr/bin/env python3
"""Writes model.int8.onnx beside a checkpoint's gathered graph (model.onnx): onnxruntime's dynamic quantisation
(int8 weights, activations quantised per batch at run time) of the MatMul and Gemm nodes whose weights are the
graph's own constants, the output projections included (onnxruntime's quantiser does not honour an exclusion
of a Gemm it has rewritten as a MatMul): their int8 copies sit beside the float tables the lookups read.

    python3 tools/quantize_int8.py checkpoints/mluke-base

`mlama bench peer --precisions float32,int8` measures it against float32 (speed and top-1 agreement).
"""
import argparse
import os
import sys


def repair(onnx, src, out):
    """Before quantising, onnxruntime rewrites each Gemm(transB=1) as a MatMul by transposing its weight in place,
    which also transposes a tied table under the embedding lookup that reads it (a Gather then fails to load:
    "/luke/embeddings/Add_1 incompatible dimensions"), and it drops the tables' graph-input declarations. The
    quantised head keeps its own int8 copy, so the float tables are pointed back at weights.bin, as they were.
    The shapes the quantiser inferred are dropped too: its symbolic axes do not all match the exporter's."""
    f = onnx.load(src, load_external_data=False)
    q = onnx.load(out, load_external_data=False)
    floats = {t.name: t for t in f.graph.initializer}
    restored = []
    for t in q.graph.initializer:
        o = floats.get(t.name)
        if o is not None and list(o.dims) != list(t.dims):
            t.CopyFrom(o)
            restored.append(t.name)
    declared = {i.name for i in q.graph.input}
    for i in f.graph.input:
        if i.name not in declared and i.name in floats:
            q.graph.input.append(i)
    del q.graph.value_info[:]
    onnx.save_model(q, out)
    return restored


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="checkpoint directory (tools/export_mluke.py)")
    a = ap.parse_args()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src = os.path.join(a.checkpoint, "model.onnx")
    if not os.path.exists(src):
        sys.exit(f"error: {src}: missing")
    out = os.path.join(a.checkpoint, "model.int8.onnx")
    quantize_dynamic(src, out, op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8, per_channel=False,
                     use_external_data_format=True)
    restored = repair(onnx, src, out)
    size = sum(os.path.getsize(os.path.join(a.checkpoint, f)) for f in os.listdir(a.checkpoint) if f.startswith("model.int8.onnx"))
    print(f"wrote {out}: {size / 2**20:.0f} MiB with its data; tables restored for their lookups: {', '.join(restored) or 'none'}")


if __name__ == "__main__":
    main()
