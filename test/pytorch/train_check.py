"""PyTorch's own numbers for ConvLens' PyTorch training tests (test/unit/pytorchTrain.test.ts).

Reads a JSON request (argv[1]) and writes a JSON answer (argv[2]). The request names a model file
and class, the initial state_dict ConvLens drew (values and shapes), the batches of each step with
the dropout masks ConvLens' graph drew for them (in call order; a channel dropout's [N, C, 1, …]), the loss and a torch.optim
optimizer with its keyword arguments. The answer holds, from real PyTorch:
  - "loss0" and "grads": the loss and every parameter's gradient at the initial weights, first batch
    (computed in float64 when the request says "float64": true);
  - "state": the whole state_dict after the steps (parameters and BatchNorm buffers);
  - "init": per parameter, the bound of PyTorch's default initialiser (kaiming_uniform_(a=√5) for
    Conv/Linear weights, U(±1/√fan_in) for their biases, 1 and 0 for BatchNorm), and the largest
    |value| PyTorch itself drew over 20 seeds (to show the bound is what PyTorch does).

The model file is loaded as record.py loads fixtures: only its imports, class and function
definitions are executed (no training loop, no download). Run with Debian's /usr/bin/python3.
"""
import ast
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_definitions(path):
    source = open(path).read()
    tree = ast.parse(source)
    tree.body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef))]
    namespace = {"__name__": "convlens_fixture"}
    exec(compile(tree, path, "exec"), namespace)
    return namespace


def tensor(t):
    return torch.tensor(t["data"], dtype=torch.float32).reshape(t["shape"])


def init_bounds(cls, args):
    """PyTorch's default initialiser bound per parameter, and the largest |value| it drew over 20 seeds."""
    bounds = {}
    for module_name, m in cls(*args).named_modules():
        prefix = module_name + "." if module_name else ""
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
            gain = nn.init.calculate_gain("leaky_relu", math.sqrt(5))
            bounds[prefix + "weight"] = {"kind": "uniform", "bound": gain * math.sqrt(3.0 / fan_in)}
            if m.bias is not None:
                bounds[prefix + "bias"] = {"kind": "uniform", "bound": 1 / math.sqrt(fan_in)}
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            bounds[prefix + "weight"] = {"kind": "constant", "value": 1.0}
            bounds[prefix + "bias"] = {"kind": "constant", "value": 0.0}
            bounds[prefix + "running_mean"] = {"kind": "constant", "value": 0.0}
            bounds[prefix + "running_var"] = {"kind": "constant", "value": 1.0}
    drawn = {}
    for seed in range(20):
        torch.manual_seed(seed)
        for k, v in cls(*args).state_dict().items():
            drawn[k] = max(drawn.get(k, 0.0), float(v.float().abs().max()))
    for k in bounds:
        bounds[k]["torchMaxAbs"] = drawn[k]
    return bounds


def main():
    req = json.load(open(sys.argv[1]))
    ns = load_definitions(req["file"])
    cls = ns[req["class"]]
    args = req.get("args", [])
    torch.manual_seed(0)
    model = cls(*args)
    state = {}
    for k, v in model.state_dict().items():
        w = req["weights"][k]
        state[k] = tensor(w).to(v.dtype).reshape(v.shape)
    model.load_state_dict(state)
    model.train()
    # "float64": the reference in double precision, for deep models where float32 rounding alone
    # puts a ReLU input on either side of 0 (resnet20: torch's float32 and float64 gradients differ
    # by 1e-3 relative at the first layers, which is what float32 ConvLens differed by).
    dtype = torch.float64 if req.get("float64") else torch.float32
    model = model.to(dtype)

    masks = []

    def dropout(input, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return input
        # The mask has the input's shape (Dropout) or [N, C, 1, …] (Dropout1d/2d/3d: whole channels).
        return input * tensor(masks.pop(0))

    F.dropout = dropout
    F.dropout1d = dropout
    F.dropout2d = dropout
    F.dropout3d = dropout

    loss_fn = {"cross_entropy": F.cross_entropy, "nll_loss": F.nll_loss}[req["loss"]]
    opt = getattr(torch.optim, req["optimizer"]["name"])(model.parameters(), **req["optimizer"]["kwargs"])
    out = {}
    for i, batch in enumerate(req["batches"]):
        masks[:] = list(batch["masks"])
        opt.zero_grad()
        loss = loss_fn(model(tensor(batch["x"]).to(dtype)), torch.tensor(batch["labels"], dtype=torch.long))
        loss.backward()
        if i == 0:
            out["loss0"] = float(loss)
            out["grads"] = {k: p.grad.reshape(-1).tolist() for k, p in model.named_parameters()}
        opt.step()
        if masks:
            raise SystemExit(f"{len(masks)} dropout masks were not used")
    out["state"] = {k: v.float().reshape(-1).tolist() for k, v in model.state_dict().items()}
    out["init"] = init_bounds(cls, args)
    out["torch"] = torch.__version__
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
