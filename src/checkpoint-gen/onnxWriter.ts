import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const FLOAT = 1;
export const INT64 = 7;
export type Dim = number | string;

/**
 * Large tensors written once to a side file and referenced by offset from every graph that uses them, so the
 * gathered and naive graphs of one checkpoint share one copy of the weights on disk.
 */
export interface WeightFile {
  name: string;
  chunks: Uint8Array[];
  offset: number;
  tensors: Map<string, { dims: number[]; offset: number; length: number }>;
}

export function weightFile(name: string): WeightFile {
  return { name, chunks: [], offset: 0, tensors: new Map() };
}

export function addWeight(wf: WeightFile, name: string, dims: number[], data: Float32Array): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // 64-byte alignment lets onnxruntime map the file without copying misaligned tensors.
  const pad = (64 - (wf.offset % 64)) % 64;
  if (pad) {
    wf.chunks.push(new Uint8Array(pad));
    wf.offset += pad;
  }
  wf.tensors.set(name, { dims, offset: wf.offset, length: bytes.length });
  wf.chunks.push(bytes);
  wf.offset += bytes.length;
}

type Attr = number | number[] | string | { tensor: onnxProto.onnx.ITensorProto };

export interface GraphBuilder {
  node(op: string, inputs: string[], attrs?: Record<string, Attr>, outputs?: number): string[];
  op(op: string, inputs: string[], attrs?: Record<string, Attr>): string;
  input(name: string, elemType: number, dims: Dim[]): string;
  output(name: string, from: string, elemType: number, dims: Dim[]): void;
  /** A weight from the shared weight file. */
  weight(name: string): string;
  /**
   * A weight that is also declared a graph input with the weight as its default. onnxruntime treats such
   * initializers as overridable: it neither constant-folds nor pre-packs them, so a tied embedding table read
   * by both a Gather and the output Gemm stays one copy in memory instead of two.
   */
  unpackedWeight(name: string): string;
  constInt(values: number[], dims?: number[]): string;
  constFloat(values: number[], dims?: number[]): string;
  encode(docString: string): Uint8Array;
}

const valueInfo = (name: string, elemType: number, dims: Dim[]) => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});
const attr = (name: string, v: Attr): onnxProto.onnx.IAttributeProto => {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number')
    return Number.isInteger(v) && !name.startsWith('f_') && name !== 'epsilon' && name !== 'alpha'
      ? { name, type: T.INT, i: v }
      : { name, type: T.FLOAT, f: v };
  return { name, type: T.TENSOR, t: v.tensor };
};

export function graphBuilder(wf: WeightFile): GraphBuilder {
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [];
  const inputs: onnxProto.onnx.IValueInfoProto[] = [];
  const outputs: onnxProto.onnx.IValueInfoProto[] = [];
  const used = new Set<string>();
  let counter = 0;
  const b: GraphBuilder = {
    node(op, ins, attrs = {}, n = 1) {
      const outs = Array.from({ length: n }, () => `${op.toLowerCase()}_${counter++}`);
      nodes.push({ opType: op, input: ins, output: outs, name: `${op}_${counter}`, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
      return outs;
    },
    op: (op, ins, attrs) => b.node(op, ins, attrs)[0],
    input(name, elemType, dims) {
      inputs.push(valueInfo(name, elemType, dims));
      return name;
    },
    output(name, from, elemType, dims) {
      nodes.push({ opType: 'Identity', input: [from], output: [name], name: `out_${name}` });
      outputs.push(valueInfo(name, elemType, dims));
    },
    weight(name) {
      if (used.has(name)) return name;
      const t = wf.tensors.get(name);
      if (!t) throw new Error(`no weight ${name}`);
      used.add(name);
      inits.push({
        name,
        dims: t.dims,
        dataType: FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: wf.name },
          { key: 'offset', value: String(t.offset) },
          { key: 'length', value: String(t.length) },
        ],
      });
      return name;
    },
    unpackedWeight(name) {
      b.weight(name);
      if (!inputs.some((i) => i.name === name)) inputs.push(valueInfo(name, FLOAT, wf.tensors.get(name)!.dims));
      return name;
    },
    constInt(values, dims = [values.length]) {
      const name = `const_${counter++}`;
      inits.push({ name, dims, dataType: INT64, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
      return name;
    },
    constFloat(values, dims = [values.length]) {
      const name = `const_${counter++}`;
      inits.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
      return name;
    },
    encode(docString) {
      const model = onnx.ModelProto.create({
        irVersion: 8,
        producerName: 'mlama-harness',
        docString,
        opsetImport: [{ domain: '', version: 17 }],
        graph: { name: 'luke', node: nodes, initializer: inits, input: inputs, output: outputs },
      });
      return onnx.ModelProto.encode(model).finish();
    },
  };
  return b;
}
