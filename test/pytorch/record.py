#!/usr/bin/env python3
"""Record what PyTorch itself says about the PyTorch fixtures, for ConvLens' tests to compare with.

For every model in test/fixtures/pytorch/manifest.json (a class or builder function of a fixture
file, its arguments and the input size to use) this builds the model with the installed torch
(Debian's python3-torch), counts total / trainable parameters and buffer elements, runs one forward
pass on zeros with a forward hook on every leaf module, and writes test/fixtures/pytorch/expected.json:
per leaf module (in module order) its qualified name, class, own parameter count and the output
shape of each call, plus the order the leaves ran in and the model's output shape.

It runs offline: no pretrained weights (torchvision builders are called with their defaults, which
load none in torchvision >= 0.13), no datasets. Fixture scripts are not run: for `"load": "defs"`
files only the imports, class and function definitions and call-free assignments are executed (so
argparse, dataset downloads and training loops never start); names those definitions read from the
script's argparse options come from the manifest's `globals`, the script's own defaults.

Usage (Debian: apt-get install python3-torch python3-torchvision):
    /usr/bin/python3 test/pytorch/record.py            # rewrite expected.json
    /usr/bin/python3 test/pytorch/record.py --check    # fail if expected.json differs
"""
import ast
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import types

sys.dont_write_bytecode = True  # importing the U-Net package must leave no __pycache__ among the fixtures
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "pytorch"))

try:
    import torch
    import torchvision
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"record.py needs PyTorch and torchvision ({e}); on Debian: apt-get install python3-torch "
             "python3-torchvision, then run it with /usr/bin/python3")


class RecordError(Exception):
    pass


def _has_call(node):
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def load_defs(path, globals_):
    """Executes only the definitions of a script: imports, classes, functions, call-free assignments."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    tree = ast.parse(source, filename=path)
    module = types.ModuleType(os.path.splitext(os.path.basename(path))[0])
    module.__file__ = path
    module.__dict__.update(globals_)
    for node in tree.body:
        code = compile(ast.Module(body=[node], type_ignores=[]), path, "exec")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            try:
                exec(code, module.__dict__)
            except ImportError as e:
                # plotting and the like (matplotlib is not a model's business); a model that
                # needs the module fails later with a NameError naming it
                module.__dict__.setdefault("__skipped_imports__", []).append(e.name or str(e))
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            exec(code, module.__dict__)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not _has_call(node.value):
            # a constant table such as VGG's cfg; one that reads script state (argparse) is skipped
            try:
                exec(code, module.__dict__)
            except NameError:
                pass
    return module


def load_module(entry):
    path = os.path.join(FIXTURES, entry["file"])
    how = entry["load"]
    if how == "defs":
        return load_defs(path, entry.get("globals", {}))
    if how == "package":
        # a package folder of the fixtures, imported as its files import each other
        root = os.path.join(FIXTURES, entry["packageRoot"])
        sys.path.insert(0, root)
        try:
            return importlib.import_module(entry["module"])
        finally:
            sys.path.remove(root)
    if how == "installed":
        # the fixture is a copy of an installed module's source: record from the installed module,
        # after checking that the copy is byte for byte what is installed
        module = importlib.import_module(entry["module"])
        with open(module.__file__, "rb") as a, open(path, "rb") as b:
            if hashlib.sha256(a.read()).digest() != hashlib.sha256(b.read()).digest():
                raise RecordError(f"{entry['file']} differs from the installed {module.__file__}; "
                                  "copy it again from this torchvision")
        return module
    raise RecordError(f"{entry['file']}: unknown load mode {how!r}")


def shape_of(value):
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (tuple, list)):
        return [shape_of(v) for v in value]
    if isinstance(value, dict):
        return {k: shape_of(v) for k, v in value.items()}
    return type(value).__name__


def record_model(module, spec):
    torch.manual_seed(0)
    builder = getattr(module, spec["builder"])
    model = builder(*spec.get("args", []), **spec.get("kwargs", {}))
    model.eval()
    leaves = [(n, m) for n, m in model.named_modules() if n and not any(True for _ in m.children())]
    calls = {n: [] for n, _ in leaves}
    order = []
    handles = []
    for name, mod in leaves:
        def hook(_m, _inp, out, name=name):
            calls[name].append(shape_of(out))
            order.append(name)
        handles.append(mod.register_forward_hook(hook))
    x = torch.zeros(*spec["input"])
    with torch.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    params = list(model.parameters())
    return {
        "builder": spec["builder"],
        "args": spec.get("args", []),
        "kwargs": spec.get("kwargs", {}),
        "input": spec["input"],
        **({"note": spec["note"]} if "note" in spec else {}),
        "modelClass": type(model).__name__,
        "totalParams": sum(p.numel() for p in params),
        "trainableParams": sum(p.numel() for p in params if p.requires_grad),
        "nonTrainableParams": sum(p.numel() for p in params if not p.requires_grad),
        "bufferElements": sum(b.numel() for b in model.buffers()),
        "buffers": sum(1 for _ in model.buffers()),
        "outputShape": shape_of(out),
        "leaves": [{"name": n, "class": type(m).__name__,
                    "params": sum(p.numel() for p in m.parameters(recurse=False)),
                    "outputShapes": calls[n]} for n, m in leaves],
        "callOrder": order,
    }


def main(argv):
    torch.set_num_threads(1)  # shared 2-core machines; the numbers do not depend on it
    with open(os.path.join(FIXTURES, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    files = {}
    for entry in manifest["fixtures"]:
        try:
            module = load_module(entry)
            models = [record_model(module, spec) for spec in entry["models"]]
        except Exception as e:  # report which fixture, then stop
            print(f"record.py: {entry['file']}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        files[entry["file"]] = {k: v for k, v in entry.items() if k not in ("file", "models", "globals")}
        skipped = getattr(module, "__skipped_imports__", None)
        if skipped:
            files[entry["file"]]["importsNotInstalled"] = skipped
        if "globals" in entry:
            files[entry["file"]]["globals"] = entry["globals"]
        files[entry["file"]]["models"] = models
        print(f"{entry['file']}: " + ", ".join(f"{m['builder']} {m['totalParams']:,}" for m in models))
    expected = {
        "about": "Recorded by test/pytorch/record.py with the torch below (do not edit by hand: edit "
                 "manifest.json and rerun). Shapes include the batch dimension (PyTorch order, NCHW).",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "files": files,
    }
    text = json.dumps(expected, indent=1) + "\n"
    out = os.path.join(FIXTURES, "expected.json")
    if "--check" in argv:
        with open(out, encoding="utf-8") as f:
            if f.read() != text:
                print("record.py: expected.json differs from what this torch records", file=sys.stderr)
                return 1
        print("expected.json is up to date")
        return 0
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out}: {len(files)} files, {sum(len(v['models']) for v in files.values())} models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
