/**
 * Recurrent layers over a time axis: SimpleRNN, GRU, LSTM on (timesteps, features) and the
 * convolutional LSTMs on (timesteps, …spatial, channels). Shapes and weights as Keras builds
 * them (`keras/src/layers/rnn/`); ConvLens does not train them yet (the trainer refuses them by name).
 */
import type { Dim, SpatialRank } from '../shape';
import { activation, bool, choice, dataFormat, initializer, int, ints, type DataFormat } from './args';
import { ShapeError, checkWindowOutput, defineLayer, dotJoin } from './define';
import { joinChannels, product, splitChannels, windowOutputShape } from '../shape';

const NOT_TRAINED = 'ConvLens cannot train recurrent layers yet';

const RNN_EXTRAS = [
  'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
  'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout',
  'seed', 'go_backwards', 'stateful', 'unroll', 'use_cudnn', 'time_major', 'implementation', 'zero_output_for_mask',
] as const;

/** The time axis keeps its length with return_sequences, else goes. */
const withTime = (time: Dim, rest: Dim[], sequences: boolean): Dim[] => (sequences ? [time, ...rest] : rest);

/**
 * One gated recurrent family: `gates` weight blocks (LSTM 4, GRU 3, SimpleRNN 1), each a
 * kernel (features × units), a recurrent kernel (units × units) and a bias; GRU with
 * reset_after (Keras' default) has two biases per gate.
 */
function rnnFamily(name: 'SimpleRNN' | 'GRU' | 'LSTM', gates: number, doc: string) {
  const args = {
    units: int({ min: 1 }),
    activation: activation('tanh'),
    ...(name === 'SimpleRNN' ? {} : { recurrent_activation: activation('sigmoid') }),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    recurrent_initializer: initializer('orthogonal'),
    bias_initializer: initializer('zeros'),
    ...(name === 'LSTM' ? { unit_forget_bias: bool(true) } : {}),
    return_sequences: bool(false),
    return_state: bool(false),
    ...(name === 'GRU' ? { reset_after: bool(true) } : {}),
  };
  return defineLayer({
    name,
    category: 'core',
    doc,
    args,
    extraArgs: RNN_EXTRAS,
    inputRank: 2,
    inputWords: 'a sequence (timesteps, features)',
    outputShape([time], a) {
      return withTime(time, [a.units], a.return_sequences);
    },
    weights([, features], a) {
      const n = gates * a.units;
      const biasRows = name === 'GRU' && (a as { reset_after?: boolean }).reset_after !== false ? 2 : 1;
      return [
        { name: 'kernel', shape: [features, n], trainable: true },
        { name: 'recurrent_kernel', shape: [a.units, n], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: biasRows === 2 ? [2, n] : [n], trainable: true }] : []),
      ];
    },
    formula([, features], a, total) {
      const biasRows = name === 'GRU' && (a as { reset_after?: boolean }).reset_after !== false ? 2 : 1;
      const bias = a.use_bias ? ` + ${biasRows === 2 ? '2·' : ''}${a.units}` : '';
      return `${gates === 1 ? '' : `${gates} × `}(${a.units} × (${features ?? '?'} + ${a.units})${bias}) = ${total.toLocaleString('en-US')}`;
    },
    macs([time, features], _output, a) {
      return time === null || features === null ? null : time * gates * a.units * (features + a.units);
    },
    receptiveField: () => ({ kind: 'unknown' }),
    untrainable: NOT_TRAINED,
  });
}

export const SimpleRNN = rnnFamily('SimpleRNN', 1, 'A fully connected recurrent layer: each step mixes the input with the previous output (units wide).');
export const GRU = rnnFamily('GRU', 3, 'Gated recurrent unit: update and reset gates decide how much of the previous state each step keeps (units wide).');
export const LSTM = rnnFamily('LSTM', 4, 'Long short-term memory: input, forget and output gates and a cell state carry information across steps (units wide).');

/** ConvLSTM1D/2D/3D: an LSTM whose four gates are convolutions over each step's image. */
function convLstmFamily(rank: SpatialRank) {
  const name = `ConvLSTM${rank}D`;
  const args = {
    filters: int({ min: 1 }),
    kernel_size: ints(rank, { min: 1 }),
    strides: ints(rank, { min: 1, default: 1 }),
    padding: choice(['valid', 'same'], 'valid'),
    data_format: dataFormat(),
    dilation_rate: ints(rank, { min: 1, default: 1 }),
    activation: activation('tanh'),
    recurrent_activation: activation('sigmoid'),
    use_bias: bool(true),
    kernel_initializer: initializer('glorot_uniform'),
    recurrent_initializer: initializer('orthogonal'),
    bias_initializer: initializer('zeros'),
    unit_forget_bias: bool(true),
    return_sequences: bool(false),
    return_state: bool(false),
  };
  /** A step's spatial axes and channels (the input without its time axis). */
  const step = (input: Dim[], fmt: DataFormat) => splitChannels(input.slice(1), fmt);
  return defineLayer({
    name,
    category: 'convolution',
    doc: `Convolutional LSTM over ${rank === 1 ? 'sequences of 1-D signals' : rank === 2 ? 'videos (sequences of images)' : 'sequences of volumes'}: an LSTM whose input and recurrent transforms are ${rank}-D convolutions with \`filters\` output channels.`,
    args,
    extraArgs: RNN_EXTRAS,
    inputRank: rank + 2,
    inputWords: `a sequence of ${rank === 2 ? 'images' : `${rank}-D inputs`} (timesteps, ${rank === 1 ? 'steps' : rank === 2 ? 'height, width' : 'depth, height, width'}, channels)`,
    outputShape(input, a, ctx) {
      if (a.strides.some((s) => s > 1) && a.dilation_rate.some((d) => d > 1)) throw new ShapeError(`${name} cannot use strides > 1 together with dilation_rate > 1; Keras raises a ValueError`, 'dilation_rate');
      const { spatial } = step(input, a.data_format);
      const out = windowOutputShape(spatial, a.kernel_size, a.strides, a.padding, a.dilation_rate);
      checkWindowOutput(name, spatial, a.kernel_size, a.strides, a.dilation_rate, out, 'kernel_size', { padding: a.padding, ctx });
      return withTime(input[0], joinChannels(out, a.filters, a.data_format), a.return_sequences);
    },
    weights(input, a) {
      const { channels } = step(input, a.data_format);
      return [
        { name: 'kernel', shape: [...a.kernel_size, channels, 4 * a.filters], trainable: true },
        { name: 'recurrent_kernel', shape: [...a.kernel_size, a.filters, 4 * a.filters], trainable: true },
        ...(a.use_bias ? [{ name: 'bias', shape: [4 * a.filters], trainable: true }] : []),
      ];
    },
    formula(input, a, total) {
      const { channels } = step(input, a.data_format);
      return `4 × (${a.filters} × ${dotJoin(a.kernel_size)}·(${channels ?? '?'} + ${a.filters})${a.use_bias ? ` + ${a.filters}` : ''}) = ${total.toLocaleString('en-US')}`;
    },
    macs(input, output, a) {
      const { channels } = step(input, a.data_format);
      const stepOut = a.return_sequences ? output.slice(1) : output;
      const positions = product(splitChannels(stepOut, a.data_format).spatial);
      const time = input[0];
      return positions === null || channels === null || time === null ? null : time * positions * product(a.kernel_size)! * (channels + a.filters) * 4 * a.filters;
    },
    receptiveField: () => ({ kind: 'unknown' }),
    untrainable: NOT_TRAINED,
  });
}

export const ConvLSTM1D = convLstmFamily(1);
export const ConvLSTM2D = convLstmFamily(2);
export const ConvLSTM3D = convLstmFamily(3);
