"""torchrun, runnable where Debian's python3-torch 1.13 breaks it under Python 3.11.

Python 3.11 stopped listing a Flag's zero member when the enum is iterated, so torch 1.13's
Std.from_str("0") (torchrun's default --redirects / --tee) returns None and torchrun fails with
"AttributeError: 'NoneType' object has no attribute 'get'" before starting any process (fixed
in torch 2). This reads such values with Std(int(value)) and then runs torch.distributed.run
exactly as the torchrun command does:

    python3 torchrun.py --standalone --nproc_per_node=2 train_model.py --data DIR
"""
import runpy
import sys

from torch.distributed.elastic.multiprocessing import Std

if Std.from_str("0") is None:
    _from_str = Std.from_str

    def _fixed(value):
        found = _from_str(value)
        return Std(int(value)) if found is None else found

    Std.from_str = staticmethod(_fixed)

sys.argv[0] = "torchrun"
runpy.run_module("torch.distributed.run", run_name="__main__", alter_sys=True)
