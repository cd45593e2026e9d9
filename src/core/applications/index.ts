/**
 * The keras.applications models ConvLens knows, each a Python definition of its own run by the
 * same interpreter as the user's code: shapes and parameters follow the call's arguments
 * (`include_top=False`, `input_shape=…`, `pooling=…`) exactly, and a nested base model is a
 * graph like any other. Adding a model: its source here and its builders in APPLICATIONS.
 */
import { withCommon } from './common';
import { DENSENET_SOURCE } from './densenet';
import { EFFICIENTNET_SOURCE } from './efficientnet';
import { EFFICIENTNET_V2_SOURCE } from './efficientnetV2';
import { INCEPTION_RESNET_V2_SOURCE, INCEPTION_V3_SOURCE } from './inception';
import { MOBILENET_SOURCE, MOBILENET_V2_SOURCE } from './mobilenet';
import { MOBILENET_V3_SOURCE } from './mobilenetV3';
import { RESNET_SOURCE } from './resnet';
import { VGG_SOURCE } from './vgg';
import { XCEPTION_SOURCE } from './xception';

export interface ApplicationDef {
  /** Python module the builder lives in (`keras.applications.vgg16`). */
  module: string;
  source: string;
}

/** A family's module: its definition after the helpers every builder shares (common.ts). */
const family = (module: string, source: string): ApplicationDef => ({ module: `keras.applications.${module}`, source: withCommon(source) });

const VGG = family('vgg', VGG_SOURCE);
const RESNET = family('resnet', RESNET_SOURCE);
const MOBILENET = family('mobilenet', MOBILENET_SOURCE);
const MOBILENET_V2 = family('mobilenet_v2', MOBILENET_V2_SOURCE);
const MOBILENET_V3 = family('mobilenet_v3', MOBILENET_V3_SOURCE);
const XCEPTION = family('xception', XCEPTION_SOURCE);
const INCEPTION_V3 = family('inception_v3', INCEPTION_V3_SOURCE);
const INCEPTION_RESNET_V2 = family('inception_resnet_v2', INCEPTION_RESNET_V2_SOURCE);
const DENSENET = family('densenet', DENSENET_SOURCE);
const EFFICIENTNET = family('efficientnet', EFFICIENTNET_SOURCE);
const EFFICIENTNET_V2 = family('efficientnet_v2', EFFICIENTNET_V2_SOURCE);

/** Builder name (`VGG16`) → its definition. */
export const APPLICATIONS: Readonly<Record<string, ApplicationDef>> = {
  VGG16: VGG,
  VGG19: VGG,
  ResNet50: RESNET,
  ResNet101: RESNET,
  ResNet152: RESNET,
  ResNet50V2: RESNET,
  ResNet101V2: RESNET,
  ResNet152V2: RESNET,
  MobileNet: MOBILENET,
  MobileNetV2: MOBILENET_V2,
  MobileNetV3Small: MOBILENET_V3,
  MobileNetV3Large: MOBILENET_V3,
  Xception: XCEPTION,
  InceptionV3: INCEPTION_V3,
  InceptionResNetV2: INCEPTION_RESNET_V2,
  DenseNet121: DENSENET,
  DenseNet169: DENSENET,
  DenseNet201: DENSENET,
  EfficientNetB0: EFFICIENTNET,
  EfficientNetB1: EFFICIENTNET,
  EfficientNetB2: EFFICIENTNET,
  EfficientNetB3: EFFICIENTNET,
  EfficientNetB4: EFFICIENTNET,
  EfficientNetB5: EFFICIENTNET,
  EfficientNetB6: EFFICIENTNET,
  EfficientNetB7: EFFICIENTNET,
  EfficientNetV2B0: EFFICIENTNET_V2,
  EfficientNetV2B1: EFFICIENTNET_V2,
  EfficientNetV2B2: EFFICIENTNET_V2,
  EfficientNetV2B3: EFFICIENTNET_V2,
  EfficientNetV2S: EFFICIENTNET_V2,
  EfficientNetV2M: EFFICIENTNET_V2,
  EfficientNetV2L: EFFICIENTNET_V2,
};
