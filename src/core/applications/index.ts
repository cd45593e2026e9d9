/**
 * The keras.applications models ConvLens knows, each a Python definition of its own run by the
 * same interpreter as the user's code: shapes and parameters follow the call's arguments
 * (`include_top=False`, `input_shape=…`, `pooling=…`) exactly, and a nested base model is a
 * graph like any other. Adding a model: its source here and its builders in APPLICATIONS.
 */
import { VGG_SOURCE } from './vgg';

export interface ApplicationDef {
  /** Python module the builder lives in (`keras.applications.vgg16`). */
  module: string;
  source: string;
}

const VGG: ApplicationDef = { module: 'keras.applications.vgg', source: VGG_SOURCE };

/** Builder name (`VGG16`) → its definition. */
export const APPLICATIONS: Readonly<Record<string, ApplicationDef>> = {
  VGG16: VGG,
  VGG19: VGG,
};
