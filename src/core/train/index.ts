/**
 * Training, the pure part: a model file's analysis → a plan → ONNX graphs (training step,
 * evaluation, inference, activations), with the checkpoint format and Keras-style progress text.
 * The Node side (data, the loop on onnxruntime-node, files, the trainer process) is src/train/.
 */
export { planTraining, planWeights, planFingerprint, weightMismatch, type TrainingPlan, type PlanLayer, type PlanWeight, type PlanProblem, type PlanOverrides, type PlanResult } from './plan';
export {
  compileTrainGraph,
  compileEvalGraph,
  compileInferenceGraph,
  compileActivationsGraph,
  initialState,
  GRAPH_NAMES,
  type TrainGraph,
  type TrainGraphOptions,
  type EvalGraph,
  type CarriedTensor,
  type ActivationOutput,
  type WeightMap,
} from './compile';
export { encodeCheckpoint, decodeCheckpoint, CheckpointError, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, type Checkpoint, type CheckpointHeader, type CheckpointTensor } from './checkpoint';
export { defaultOptimizer, describeOptimizer, optimizerName, OPTIMIZER_NAMES, type OptimizerConfig, type OptimizerName } from './optimizers';
export { lossName, LOSS_NAMES, type LossName } from './losses';
export { INITIALIZERS, initialize, resolveInitializer, type InitializerName } from './initializers';
export { formatEpochHeader, formatEpochLine, formatProgressLine, formatMetrics, formatStepTime } from './format';
