/**
 * `keras.applications` models (VGG16, ResNet50, MobileNetV2, …): built by running ConvLens' own
 * definitions of them (`core/applications/`) through the same interpreter, so their shapes and
 * parameters follow the arguments (`include_top=False`, `input_shape=…`, `pooling=…`) exactly.
 */
import { APPLICATIONS } from '../applications/index';
import type { Interpreter } from './interpreter';
import type { Span } from './pythonAst';
import type { CallArgs, Value } from './values';

/** Whether a Keras path names an application builder (`keras.applications.ResNet50`, `keras.applications.resnet50.ResNet50`). */
export function isApplication(path: string): boolean {
  return /^keras\.applications\.(?:[a-z_0-9]+\.)?[A-Z]\w*$/.test(path);
}

export function buildApplication(interp: Interpreter, path: string, args: CallArgs, span: Span): Value {
  const name = path.slice(path.lastIndexOf('.') + 1);
  const def = APPLICATIONS[name];
  if (!def) {
    interp.info('unsupported-application', interp.here(span), `ConvLens does not know keras.applications.${name} yet; shapes after it are unknown`);
    return { k: 'unknown', why: `keras.applications.${name}` };
  }
  const scope = interp.bundledModule(def.module, def.source, span);
  const builder = scope.get(name);
  if (builder?.k !== 'func') return { k: 'unknown', why: `keras.applications.${name}` };
  const model = interp.callFunction(builder.fn, args, span);
  // weights='imagenet' (the default) or a file: weights ConvLens cannot load, which training must know.
  const weights = args.keyword.get('weights')?.value ?? args.positional[1]?.value;
  if (model.k === 'model') {
    if (weights === undefined) model.model.pretrained = 'imagenet';
    else if (weights.k === 'str') model.model.pretrained = weights.v;
  }
  return model;
}
