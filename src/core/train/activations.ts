/** Keras' `activation=` names as recipes of the activation registry (`core/onnx/activations.ts`). */
export { kerasActivation as activationSpec } from '../onnx/activations';
