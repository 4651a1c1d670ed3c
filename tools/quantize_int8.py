#!/usr/bin/env python3
"""Writes an int8 copy of each graph a checkpoint scores with (every manifest graph but `naive`), <stem>.int8.onnx
beside it, and records them in the manifest as precisions.int8, which `mlama run --precision int8` reads.
onnxruntime's dynamic quantisation (int8 weights, activations quantised per batch at run time) of the MatMul and
Gemm nodes whose weights are the graph's own constants, the output projections included (onnxruntime's quantiser
does not honour an exclusion of a Gemm it has rewritten as a MatMul): their int8 copies sit beside the float tables
the lookups read.

    python3 tools/quantize_int8.py checkpoints/mluke-base

Re-running replaces the int8 files and the manifest's int8 entry; nothing else in the manifest changes.
"""

import argparse
import json
import os
import sys

MANIFEST = "mlama-checkpoint.json"
# The reference graph for parity checks and the naive benchmark: it runs in float32 only.
SKIPPED = {"naive"}


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def int8_name(file):
    stem, ext = os.path.splitext(file)
    return f"{stem}.int8{ext or '.onnx'}"


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
    return restored, external_files(onnx, q)


def external_files(onnx, model):
    """The side files a graph's initializers read, in the order first read."""
    files = []
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            loc = next((e.value for e in t.external_data if e.key == "location"), None)
            if loc and loc not in files:
                files.append(loc)
    return files


def read_manifest(path):
    if not os.path.exists(path):
        fail(f"{path}: missing (not a checkpoint directory: tools/export_mluke.py writes one)")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        m = json.loads(text)
    except (OSError, ValueError) as e:
        fail(f"{path}: not readable as JSON ({str(e).splitlines()[0]})")
    if not isinstance(m, dict) or not isinstance(m.get("graphs"), dict):
        fail(f'{path}: field "graphs" missing')
    return m, text.endswith("\n")


def write_manifest(path, m, newline):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(m, f, indent=2, ensure_ascii=False)
        if newline:
            f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="checkpoint directory (tools/export_mluke.py)")
    a = ap.parse_args()
    mpath = os.path.join(a.checkpoint, MANIFEST)
    m, newline = read_manifest(mpath)
    graphs = {}
    for variant, entry in m["graphs"].items():
        if variant in SKIPPED:
            continue
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or not file:
            fail(f'{mpath}: field "graphs.{variant}.file" missing or not a file name')
        if not os.path.isfile(os.path.join(a.checkpoint, file)):
            fail(f"{os.path.join(a.checkpoint, file)}: graph file missing (graphs.{variant}.file of {mpath})")
        graphs[variant] = file
    if not graphs:
        fail(f'{mpath}: field "graphs" has no graph to quantise (only {", ".join(m["graphs"]) or "none"})')
    if not isinstance(m.get("precisions", {}), dict):
        fail(f'{mpath}: field "precisions" must be an object (precision -> its graphs)')

    import logging

    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The old entry goes first: should this run fail half-way, the manifest names no int8 graph rather than a
    # stale or half-written one.
    if "int8" in m.get("precisions", {}):
        del m["precisions"]["int8"]
        if not m["precisions"]:
            del m["precisions"]
        write_manifest(mpath, m, newline)

    # Its one warning advises shape pre-processing for convolutional models; the repair below handles the shapes.
    logging.getLogger().setLevel(logging.ERROR)
    written, weights, notes = {}, [], []
    for variant, file in graphs.items():
        src = os.path.join(a.checkpoint, file)
        name = int8_name(file)
        out = os.path.join(a.checkpoint, name)
        # onnx appends external data to an existing side file: an earlier run's copy would only grow.
        for old in (out, out + ".data"):
            if os.path.exists(old):
                os.remove(old)
        try:
            quantize_dynamic(src, out, op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8, per_channel=False, use_external_data_format=True)
        except Exception as e:
            fail(f"{src}: onnxruntime cannot quantise the graph ({str(e).splitlines()[0] if str(e) else type(e).__name__})")
        restored, files = repair(onnx, src, out)
        written[variant] = name
        weights += [w for w in files if w not in weights]
        size = os.path.getsize(out) + sum(os.path.getsize(os.path.join(a.checkpoint, w)) for w in files if w.startswith(name))
        notes.append(f"{variant}: {name} ({size / 2**20:.1f} MiB with its own data; float tables kept for the lookups: {', '.join(restored) or 'none'})")

    major_minor = ".".join(onnxruntime.__version__.split(".")[:2])
    m.setdefault("precisions", {})["int8"] = {
        "graphs": written,
        "weights": weights,
        "quantiser": f"onnxruntime {major_minor} dynamic, int8 weights, per-tensor",
    }
    write_manifest(mpath, m, newline)
    for n in notes:
        print(n)
    print(f"wrote precisions.int8 to {mpath}: graphs {', '.join(written.values())}; weights {', '.join(weights)}")


if __name__ == "__main__":
    main()
