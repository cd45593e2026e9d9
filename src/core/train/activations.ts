/** Keras' `activation=` names as grad.ts recipes, in the training graphs' ONNX layout. */
import type { ActivationSpec } from '../onnx/grad';

/**
 * The recipe for a Keras activation name, or undefined when there is none yet. Softmax acts on
 * the channel (last Keras) axis, which is ONNX axis 1 in the graphs' layout.
 */
export function activationSpec(name: string | null | undefined): ActivationSpec | null | undefined {
  switch (name) {
    case null:
    case undefined:
    case 'linear':
      return null;
    case 'relu':
    case 'relu6':
    case 'sigmoid':
    case 'tanh':
    case 'elu':
    case 'selu':
    case 'softplus':
      return { kind: name };
    case 'softmax':
      return { kind: 'softmax', axis: 1 };
    case 'leaky_relu':
      // keras.activations.leaky_relu's default slope (the LeakyReLU layer's is 0.3).
      return { kind: 'leaky_relu', alpha: 0.2 };
    case 'silu':
    case 'swish':
      return { kind: 'silu' };
    default:
      return undefined;
  }
}
