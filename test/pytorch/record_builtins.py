#!/usr/bin/env python3
"""Record what torchvision itself says about its model builders, for ConvLens' builtin definitions.

ConvLens defines torchvision.models' builders itself (src/core/applications/tv*.ts); this records,
with the installed torchvision (Debian's python3-torchvision 0.14.1), what each builder called as
below gives: the same record as record.py (totals, buffers, every leaf's class, parameters and
output shapes, the call order), written to test/fixtures/pytorch/builtins/expected.json. No weights
are loaded (weights=None, torchvision's default). `tutorial` entries run lines of a fixture
tutorial after the builder (a new head, frozen parameters) the way the tutorial writes them.

Usage: /usr/bin/python3 test/pytorch/record_builtins.py [--check]
"""
import json
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import record  # noqa: E402  (record_model, and the torch / torchvision import check)
import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torchvision import models  # noqa: E402

OUT = os.path.join(record.FIXTURES, "builtins", "expected.json")

# (builder, kwargs, input size): each family's members at torchvision's own input sizes.
BUILDERS = [
    *[(b, {}, [1, 3, 224, 224]) for b in [
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
        "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2",
        "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "alexnet",
        "squeezenet1_0", "squeezenet1_1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
        "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0",
        "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
        "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
        "densenet121", "densenet161", "densenet169", "densenet201", "googlenet"]],
    ("inception_v3", {}, [1, 3, 299, 299]),
    # builder-specific arguments
    ("resnet50", {"num_classes": 10}, [2, 3, 64, 64]),
    ("resnet50", {"replace_stride_with_dilation": [False, True, True]}, [1, 3, 224, 224]),
    ("mobilenet_v2", {"width_mult": 0.5, "num_classes": 7}, [1, 3, 160, 160]),
    ("mobilenet_v3_large", {"reduced_tail": True, "dilated": True}, [1, 3, 224, 224]),
    ("googlenet", {"aux_logits": False, "transform_input": True}, [1, 3, 224, 224]),
    ("inception_v3", {"aux_logits": False}, [1, 3, 299, 299]),
    ("densenet121", {"drop_rate": 0.2, "num_classes": 2}, [1, 3, 128, 128]),
    ("efficientnet_b0", {"num_classes": 5, "stochastic_depth_prob": 0.3}, [1, 3, 224, 224]),
    ("vgg11", {"num_classes": 2, "dropout": 0.3}, [1, 3, 32, 32]),
]


def _tutorial_finetune():
    # transfer_learning_tutorial.py, "Finetuning the ConvNet", with weights=None (nothing downloaded)
    model_ft = models.resnet18(weights=None)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 2)
    return model_ft


def _tutorial_fixed_features():
    # transfer_learning_tutorial.py, "ConvNet as fixed feature extractor", with weights=None
    model_conv = torchvision.models.resnet18(weights=None)
    for param in model_conv.parameters():
        param.requires_grad = False
    num_ftrs = model_conv.fc.in_features
    model_conv.fc = nn.Linear(num_ftrs, 2)
    return model_conv


TUTORIAL = [("model_ft", _tutorial_finetune), ("model_conv", _tutorial_fixed_features)]


def main(argv):
    torch.set_num_threads(1)
    builders = []
    for name, kwargs, size in BUILDERS:
        spec = {"builder": name, "kwargs": kwargs, "input": size}
        builders.append(record.record_model(models, spec))
        print(f"{name}({kwargs}): {builders[-1]['totalParams']:,}")
    holder = type("Tutorial", (), {n: staticmethod(f) for n, f in TUTORIAL})
    tutorial = [record.record_model(holder, {"builder": n, "input": [1, 3, 224, 224]}) for n, _ in TUTORIAL]
    out = {
        "about": "Recorded by test/pytorch/record_builtins.py from the installed torchvision (do not edit by hand). "
                 "Shapes include the batch dimension (NCHW).",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "builders": builders,
        "tutorial": {"file": "tutorials/transfer_learning_tutorial.py", "models": tutorial},
    }
    text = json.dumps(out, indent=1) + "\n"
    if "--check" in argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                print("record_builtins.py: expected.json differs from what this torchvision records", file=sys.stderr)
                return 1
        print("builtins/expected.json is up to date")
        return 0
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}: {len(builders)} builders, {len(tutorial)} tutorial models")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
