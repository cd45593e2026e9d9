"""The PyTorch side of `npm run bench`: trains a model's PyTorch twin on random data (or a real
MNIST epoch) when asked, so ConvLens and PyTorch alternate in one run on the same machine.

Protocol: one JSON object per line on stdin, one per line on stdout.
  {"cmd": "setup", "twin": "path/to/model.torch.py", "batch": 64, "threads": 1}
      → {"ok": true, "torch": "1.13.0", "params": 2196810}
  {"cmd": "steps", "n": 5}            → {"ms": [...]}    (training steps on random data)
  {"cmd": "epoch", "mnist": "dir", "samples": 50000}
      → {"seconds": s, "steps": k}  (one shuffled epoch over the first `samples` training images
        of real MNIST, data already in memory)
  {"cmd": "rss"}                      → {"peak_rss_mb": ...}
"""
import gzip
import importlib.util
import json
import os
import resource
import sys
import time

import torch


def load_twin(path):
    spec = importlib.util.spec_from_file_location('twin', path)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    return twin


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + '.gz'):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise FileNotFoundError(os.path.join(folder, stem))


class Peer:
    def __init__(self):
        self.net = None

    def setup(self, twin, batch, threads):
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        self.twin = load_twin(twin)
        self.batch = batch
        self.net = self.twin.model()
        self.net.train()
        self.opt = self.twin.optimizer(self.net.parameters())
        self.x = torch.rand(batch, *self.twin.input_shape)
        self.y = torch.randint(0, self.twin.classes, (batch,))
        return {'ok': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                'params': sum(p.numel() for p in self.net.parameters())}

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        out = self.net(x)
        loss = self.twin.loss(out, y)
        loss.backward()
        self.opt.step()
        return loss

    def steps(self, n):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            self.step(self.x, self.y)
            times.append((time.perf_counter() - t0) * 1000)
        return {'ms': times}

    def epoch(self, folder, samples):
        if not hasattr(self, 'mnist'):
            images = read_idx(find(folder, 'train-images-idx3-ubyte')).float().div_(255).reshape(-1, *self.twin.input_shape)
            labels = read_idx(find(folder, 'train-labels-idx1-ubyte')).long()
            self.mnist = (images[:samples].contiguous(), labels[:samples].contiguous())
        x, y = self.mnist
        t0 = time.perf_counter()
        order = torch.randperm(len(x))
        steps = 0
        for i in range(0, len(x), self.batch):
            idx = order[i:i + self.batch]
            self.step(x[idx], y[idx])
            steps += 1
        return {'seconds': time.perf_counter() - t0, 'steps': steps}


def main():
    peer = Peer()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            cmd = req['cmd']
            if cmd == 'setup':
                res = peer.setup(req['twin'], req['batch'], req['threads'])
            elif cmd == 'steps':
                res = peer.steps(req['n'])
            elif cmd == 'epoch':
                res = peer.epoch(req['mnist'], req['samples'])
            elif cmd == 'rss':
                res = {'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
            else:
                res = {'error': 'unknown command ' + cmd}
        except Exception as e:  # reported to the bench, which prints it
            res = {'error': '%s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(res) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
