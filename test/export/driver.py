"""Drives a script written by `convlens export --to pytorch` for the unit tests
(test/unit/exportPytorch*.test.ts): imports it as a module and answers one question per call,
as JSON on stdout. Tensors travel as raw little-endian float32 files.

    driver.py params SCRIPT
    driver.py forward SCRIPT CKPT INPUT.f32 OUTPUT.f32          (inference mode)
    driver.py step SCRIPT CKPT INPUT.f32 LABELS.i64 OUT_DIR [K]  (K training steps on the batch: weights.ckpt, grads.ckpt of the first)
    driver.py fit SCRIPT SPEC_JSON                               (schedule_rate and FitCallbacks on given logs)
    driver.py data SCRIPT DATA SEED LIMIT OUT_DIR               (the sets the script trains on)
    driver.py select SCRIPT COUNT SEED ROWS_JSON
    driver.py read SCRIPT CKPT                                   (read_convlens_checkpoint, or its error)
"""
import importlib.util
import json
import math
import os
import sys

import torch


def load(script):
    spec = importlib.util.spec_from_file_location("exported", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_f32(path, shape):
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    return torch.frombuffer(raw, dtype=torch.float32).reshape(shape).clone()


def params(m):
    model = m.Model()
    state = model.state_dict()
    shapes_ok = all(tuple(m.keras_to_torch(w, torch.zeros(w.shape)).shape) == tuple(state[w.torch].shape) for w in m.KERAS_WEIGHTS)
    round_trip = all(
        torch.equal(m.torch_to_keras(w, m.keras_to_torch(w, v)), v)
        for w in m.KERAS_WEIGHTS
        for v in [torch.arange(math.prod(w.shape), dtype=torch.float32).reshape(w.shape)]
    )
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "state": sum(v.numel() for v in state.values()),
        "stateKeys": sorted(state),
        "mappedKeys": sorted(w.torch for w in m.KERAS_WEIGHTS),
        "shapesAgree": shapes_ok,
        "roundTrip": round_trip,
        "modules": [type(x).__name__ for x in model.modules()][1:],
    }


def forward(m, ckpt, inp, out):
    model = m.Model().eval()
    m.load_convlens_checkpoint(model, ckpt)
    n = os.path.getsize(inp) // (4 * math.prod(m.INPUT_SHAPE))
    x = m.as_model_input(read_f32(inp, (n,) + tuple(m.INPUT_SHAPE)))
    with torch.no_grad():
        y = model(x)
    with open(out, "wb") as f:
        f.write(y.contiguous().numpy().astype("<f4").tobytes())
    return {"shape": list(y.shape)}


def step(m, ckpt, inp, labels, out_dir, steps="1"):
    model = m.Model().train()
    header = m.load_convlens_checkpoint(model, ckpt)
    n = os.path.getsize(labels) // 8
    x = m.as_model_input(read_f32(inp, (n,) + tuple(m.INPUT_SHAPE)))
    with open(labels, "rb") as f:
        y = torch.frombuffer(bytearray(f.read()), dtype=torch.int64).clone()
    optimizer = m.make_optimizer([p for p in model.parameters() if p.requires_grad], m.OPTIMIZER["learningRate"])
    for k in range(int(steps)):
        z = model(x, logits=True)
        loss = m.loss_fn(z, y)
        optimizer.zero_grad()
        loss.backward()
        if k == 0:
            grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
        optimizer.step()
    metrics = {"loss": float(loss), "accuracy": 0.0}
    with open(os.path.join(out_dir, "weights.ckpt"), "wb") as f:
        f.write(m.convlens_checkpoint_bytes(model, 1, 1, metrics, "loss", "min", float(loss), 1, m.OPTIMIZER["learningRate"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(grads.get(name, torch.zeros_like(p)))
        for b in model.buffers():
            b.zero_()
    with open(os.path.join(out_dir, "grads.ckpt"), "wb") as f:
        f.write(m.convlens_checkpoint_bytes(model, 1, 1, metrics, "loss", "min", float(loss), 1, m.OPTIMIZER["learningRate"]))
    return {"loss": float(loss), "epochOfInput": header.get("epoch")}


def data(m, spec, seed, limit, out_dir):
    ds = m.load_data(spec, m.INPUT_SHAPE)
    m.check_fit(ds)
    train, validation, test = m.split_data(ds, int(seed), int(limit) or None)
    result = {"name": ds.name, "classes": ds.classes, "classNames": ds.class_names}
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        if part is None:
            continue
        with open(os.path.join(out_dir, f"{name}.f32"), "wb") as f:
            f.write(part[0].contiguous().numpy().astype("<f4").tobytes())
        result[name] = {"count": len(part[0]), "shape": list(part[0].shape[1:]), "labels": part[1].tolist()}
    return result


def main():
    command, script, *rest = sys.argv[1:]
    m = load(script)
    try:
        if command == "params":
            result = params(m)
        elif command == "forward":
            result = forward(m, *rest)
        elif command == "step":
            result = step(m, *rest)
        elif command == "data":
            result = data(m, *rest)
        elif command == "fit":
            spec = json.loads(rest[0])
            rates = [[m.schedule_rate(sch, t) for t in spec["steps"]] for sch in spec["schedules"]]
            callbacks = m.FitCallbacks(spec["callbacks"])
            lr, decisions = spec["learningRate"], []
            for epoch, logs in enumerate(spec["logs"]):
                lr = callbacks.epoch_begin(epoch, lr)
                stop, lr, keep, messages = callbacks.epoch_end(epoch, logs, lr)
                decisions.append({"stop": stop, "learningRate": lr, "keepWeights": keep, "messages": messages})
            result = {"rates": rates, "decisions": decisions}
        elif command == "select":
            result = {"index": m.select_rows(json.loads(rest[2]), int(rest[0]), int(rest[1]))}
        elif command == "read":
            header, weights = m.read_convlens_checkpoint(rest[0])
            result = {"ok": True, "weights": sorted(weights), "epoch": header.get("epoch")}
        else:
            raise SystemExit(f"unknown command {command}")
    except (m.CheckpointError, m.DataError) as e:
        result = {"error": type(e).__name__, "message": str(e)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
