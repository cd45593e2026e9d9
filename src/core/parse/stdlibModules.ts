/**
 * Parts of Python's standard library that model files build layers with, written as Python for
 * ConvLens' interpreter (as torchvision's ops are in applications/torchvision.ts), so that they
 * behave exactly as the interpreter runs any user function. `functools.partial` binds a layer's
 * arguments ahead of the call (`norm_layer = partial(nn.BatchNorm2d, eps=0.001)` in torchvision's
 * EfficientNet, MobileNetV3, RegNet and ConvNeXt); the result is called like the layer class.
 */

const FUNCTOOLS = `
def partial(func, *args, **keywords):
    def newfunc(*fargs, **fkeywords):
        return func(*args, *fargs, **{**keywords, **fkeywords})
    return newfunc
`;

const MODULES: Readonly<Record<string, string>> = {
  functools: FUNCTOOLS,
};

/** ConvLens' definition of a standard-library module imported by `name` (`functools`); undefined otherwise. */
export function stdlibModule(name: string): { module: string; source: string } | undefined {
  return name in MODULES ? { module: name, source: MODULES[name] } : undefined;
}
