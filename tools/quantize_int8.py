#!/usr/bin/env python3
"""Writes model.int8.onnx beside a checkpoint's gathered graph (model.onnx): onnxruntime's dynamic quantisation
(int8 weights, activations quantised per batch at run time) of the MatMul and Gemm nodes whose weights are the
graph's own constants. The products over tied tables (the word and entity output projections, whose tables the
exporter leaves as overridable inputs so they stay one copy) stay float32: quantising them would keep a second,
int8 copy of each table and put quantisation noise into the full-vocabulary log-softmax the ranking reads.

    python3 tools/quantize_int8.py checkpoints/mluke-base

`mlama bench peer --precisions float32,int8` measures it against float32 (speed and top-1 agreement).
"""
import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="checkpoint directory (tools/export_mluke.py)")
    a = ap.parse_args()
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src = os.path.join(a.checkpoint, "model.onnx")
    if not os.path.exists(src):
        sys.exit(f"error: {src}: missing")
    model = onnx.load(src, load_external_data=False)
    inputs = {i.name for i in model.graph.input}
    tied = [n.name for n in model.graph.node if n.op_type in ("MatMul", "Gemm") and any(x in inputs for x in n.input[1:2])]
    out = os.path.join(a.checkpoint, "model.int8.onnx")
    quantize_dynamic(src, out, op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8, per_channel=False,
                     nodes_to_exclude=tied, use_external_data_format=True)
    size = sum(os.path.getsize(os.path.join(a.checkpoint, f)) for f in os.listdir(a.checkpoint) if f.startswith("model.int8.onnx"))
    print(f"wrote {out}: {size / 2**20:.0f} MiB with its data; float32 kept for {len(tied)} tied output projection(s): {', '.join(tied)}")


if __name__ == "__main__":
    main()
