/**
 * PyTorch's layers (`torch.nn` modules) and the tensor operations of `forward` code, by family.
 * Their names are looked up only for PyTorch code (`findLayer('ReLU', 'pytorch')`), so Keras'
 * `ReLU` and PyTorch's `ReLU` never meet.
 */
import type { LayerType } from '../define';
import { TORCH_ACTIVATION } from './activation';
import { TORCH_CONV } from './conv';
import { TORCH_LINEAR } from './linear';
import { TORCH_NORMALIZATION } from './normalization';
import { TORCH_OPS } from './ops';
import { TORCH_POOLING } from './pooling';
import { TORCH_RESHAPING } from './reshaping';

export const TORCH_LAYERS: readonly LayerType[] = [
  ...TORCH_CONV,
  ...TORCH_POOLING,
  ...TORCH_LINEAR,
  ...TORCH_NORMALIZATION,
  ...TORCH_ACTIVATION,
  ...TORCH_RESHAPING,
  ...TORCH_OPS,
];
