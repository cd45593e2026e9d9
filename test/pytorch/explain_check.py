"""PyTorch's own Grad-CAM and saliency for ConvLens' explanation tests (test/unit/explain.test.ts).

Reads a JSON request (argv[1]) and writes a JSON answer (argv[2]). The request names a model file
and class, its state_dict (values and shapes, as ConvLens drew them), one input image (C, H, W),
the class to explain, the module whose output Grad-CAM looks at ("target", a dotted path such as
"block.bn") and the module whose output is the class score ("logits": the last Linear, before a
log_softmax in forward). The model runs in eval() mode (running statistics, no dropout). From real
autograd, the answer holds:
  - "cam": ReLU(sum_k alpha_k A_k), alpha_k the spatial mean of d score / d A_k (Selvaraju et al.);
  - "saliency": max over channels of |d score / d input| (Simonyan et al.);
  - "probabilities": softmax of the score vector.

The model file is loaded as train_check.py loads it: only imports, classes and functions run.
"""
import json
import sys

import torch

from train_check import load_definitions, tensor


def module_at(model, path):
    m = model
    for part in path.split("."):
        m = getattr(m, part)
    return m


def main():
    req = json.load(open(sys.argv[1]))
    ns = load_definitions(req["file"])
    torch.manual_seed(0)
    model = ns[req["class"]]()
    state = model.state_dict()
    for name, t in req["weights"].items():
        state[name] = tensor(t).to(state[name].dtype)
    model.load_state_dict(state)
    model.eval()
    seen = {}
    module_at(model, req["target"]).register_forward_hook(lambda m, i, o: seen.__setitem__("a", o))
    module_at(model, req["logits"]).register_forward_hook(lambda m, i, o: seen.__setitem__("score", o))
    x = tensor(req["input"]).unsqueeze(0).requires_grad_(True)
    model(x)
    a = seen["a"]
    a.retain_grad()
    score = seen["score"][0, req["cls"]]
    score.backward()
    alpha = a.grad[0].mean(dim=(1, 2))
    cam = torch.relu((alpha[:, None, None] * a[0]).sum(0))
    saliency = x.grad[0].abs().amax(0)
    answer = {
        "cam": cam.flatten().tolist(),
        "saliency": saliency.flatten().tolist(),
        "probabilities": torch.softmax(seen["score"][0], 0).tolist(),
        "torch": torch.__version__,
    }
    json.dump(answer, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
