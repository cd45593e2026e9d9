/**
 * PyTorch's `Linear`, `Bilinear`, `Identity` and `Embedding`. `Linear` acts on the last axis of
 * any input (`weight` (out_features, in_features)); its classic run-time error, `mat1 and mat2
 * shapes cannot be multiplied`, is reported on `in_features` with the number that fits.
 */
import { product, torchShape, type Dim } from '../../shape';
import { bool, float, int, optional } from '../args';
import { ShapeError, countText, defineLayer, defineMergeLayer, type LayerType } from '../define';
import { FACTORY_ARGS, NOT_TRAINABLE_YET, inputText } from './common';
import { identityTrain, linearTrain } from './train';

export const Linear = defineLayer({
  name: 'Linear',
  framework: 'pytorch',
  category: 'core',
  doc: 'Fully connected layer (PyTorch): y = x·Wᵀ + b on the last axis; every output feature is a weighted sum of all `in_features`.',
  args: { in_features: int({ min: 0 }), out_features: int({ min: 0 }), bias: bool(true) },
  extraArgs: FACTORY_ARGS,
  inputRank: { min: 1 },
  inputWords: '[N, …, in_features]',
  outputShape(input, a, ctx) {
    const last = input[input.length - 1];
    if (last !== null && last !== a.in_features) {
      const lead = [ctx.batch ?? null, ...input.slice(0, -1)];
      const rows = lead.every((d) => d !== null) ? String(product(lead)) : '?';
      throw new ShapeError(
        `Linear(in_features=${a.in_features}) gets ${last} features from its input ${inputText(ctx, input)}; PyTorch raises "mat1 and mat2 shapes cannot be multiplied (${rows}x${last} and ${a.in_features}x${a.out_features})"`,
        'in_features',
        [{ kind: 'setArg', arg: 'in_features', code: String(last), title: `Set in_features to ${last}` }],
        'in-features-mismatch',
        true,
      );
    }
    return [...input.slice(0, -1), a.out_features];
  },
  weights: (_input, a) => [
    { name: 'weight', shape: [a.out_features, a.in_features], trainable: true, init: 'torch_kaiming_uniform' },
    ...(a.bias ? [{ name: 'bias', shape: [a.out_features], trainable: true, init: 'torch_bias_uniform', fanIn: a.in_features }] : []),
  ],
  formula: (_input, a, total) => `${a.out_features} × ${a.in_features}${a.bias ? ` + ${a.out_features}` : ''} = ${countText(total)}`,
  macs(input, _output, a) {
    const rows = product(input.slice(0, -1));
    return rows === null ? null : rows * a.in_features * a.out_features;
  },
  receptiveField: (_a, input) => (input.length === 1 ? { kind: 'global' } : { kind: 'identity' }),
  train: linearTrain(),
});

export const Bilinear = defineMergeLayer({
  name: 'Bilinear',
  framework: 'pytorch',
  category: 'core',
  doc: 'Bilinear layer (PyTorch): y = x₁ᵀ·A·x₂ + b, one (in1 × in2) matrix per output feature, on the last axis of two inputs.',
  args: { in1_features: int({ min: 1 }), in2_features: int({ min: 1 }), out_features: int({ min: 1 }), bias: bool(true) },
  extraArgs: FACTORY_ARGS,
  minInputs: 2,
  maxInputs: 2,
  outputShape(inputs, a, ctx) {
    const [x1, x2] = inputs;
    const check = (x: Dim[], want: number, arg: string, which: number) => {
      const last = x[x.length - 1];
      if (last !== null && last !== want) {
        throw new ShapeError(`Bilinear(${arg}=${want}) gets ${last} features in input ${which} ${torchShape(ctx.batch ?? null, x)}; PyTorch raises "input${which} size does not match"`, arg, [{ kind: 'setArg', arg, code: String(last), title: `Set ${arg} to ${last}` }], 'in-features-mismatch');
      }
    };
    check(x1, a.in1_features, 'in1_features', 1);
    check(x2, a.in2_features, 'in2_features', 2);
    if (x1.length !== x2.length || x1.slice(0, -1).some((d, i) => d !== null && x2[i] !== null && d !== x2[i])) {
      throw new ShapeError(`Bilinear: the inputs ${torchShape(ctx.batch ?? null, x1)} and ${torchShape(ctx.batch ?? null, x2)} must agree on every axis but the last`, undefined, [], 'merge-shapes');
    }
    return [...x1.slice(0, -1), a.out_features];
  },
  weights: (_inputs, a) => [
    { name: 'weight', shape: [a.out_features, a.in1_features, a.in2_features], trainable: true },
    ...(a.bias ? [{ name: 'bias', shape: [a.out_features], trainable: true }] : []),
  ],
  formula: (_inputs, a, total) => `${a.out_features} × (${a.in1_features}·${a.in2_features})${a.bias ? ` + ${a.out_features}` : ''} = ${countText(total)}`,
  macs(inputs, _output, a) {
    const rows = product(inputs[0].slice(0, -1));
    return rows === null ? null : rows * a.out_features * a.in1_features * (a.in2_features + 1);
  },
  untrainable: NOT_TRAINABLE_YET,
});

export const Identity = defineLayer({
  name: 'Identity',
  framework: 'pytorch',
  category: 'core',
  doc: 'Returns its input unchanged (PyTorch): a placeholder, e.g. for a removed classifier head.',
  args: {},
  // nn.Identity(*args, **kwargs) ignores whatever it is given.
  extraArgs: [],
  inputRank: 'any',
  outputShape: (input) => input,
  receptiveField: () => ({ kind: 'identity' }),
  train: identityTrain(),
});

export const Embedding = defineLayer({
  name: 'Embedding',
  framework: 'pytorch',
  category: 'core',
  doc: 'Lookup table (PyTorch): each integer index in [0, num_embeddings) becomes a vector of `embedding_dim` values.',
  args: {
    num_embeddings: int({ min: 1 }),
    embedding_dim: int({ min: 1 }),
    padding_idx: optional(int()),
    max_norm: optional(float()),
    norm_type: float({ default: 2 }),
    scale_grad_by_freq: bool(false),
    sparse: bool(false),
  },
  extraArgs: [...FACTORY_ARGS, '_weight', '_freeze'],
  inputRank: 'any',
  outputShape: (input, a) => [...input, a.embedding_dim],
  weights: (_input, a) => [{ name: 'weight', shape: [a.num_embeddings, a.embedding_dim], trainable: true }],
  formula: (_input, a, total) => `${a.num_embeddings} × ${a.embedding_dim} = ${countText(total)}`,
  macs: () => 0,
  receptiveField: () => ({ kind: 'identity' }),
  untrainable: NOT_TRAINABLE_YET,
});

export const TORCH_LINEAR: readonly LayerType[] = [Linear, Bilinear, Identity, Embedding];
