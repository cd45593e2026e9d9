/**
 * The learning-rate scheduler registry for PyTorch files: one definition per
 * `torch.optim.lr_scheduler` class ConvLens reproduces, with its signature (the arguments after
 * the optimizer, in order, with PyTorch's defaults) and the rate of every epoch in closed form.
 * The trainer steps them once per epoch, as the usual `scheduler.step()` after each epoch does;
 * the plan turns the rates into a per-epoch schedule (the same one Keras' LearningRateScheduler
 * callback uses). Adding a scheduler means adding one definition to {@link SCHEDULERS}.
 *
 * The formulas follow torch/optim/lr_scheduler.py (torch 1.13), each class's `_get_closed_form_lr`
 * where it has one.
 */
import type { OptimizerSpec, Value } from '../parse/values';

/** An argument's value as the formulas read it. */
type Arg = number | number[];

export interface SchedulerParam {
  key: string;
  /** PyTorch's default; absent: the argument is required. */
  default?: Arg;
  /** A list of numbers (`milestones`) rather than one number. */
  list?: boolean;
}

export interface SchedulerDef {
  /** The class name in torch.optim.lr_scheduler. */
  readonly name: string;
  readonly doc: string;
  /** The arguments after the optimizer, in PyTorch's order. */
  readonly params: readonly SchedulerParam[];
  /** Why these arguments cannot be reproduced, or undefined. */
  refuse?(a: Record<string, Arg>): string | undefined;
  /** The learning rate of 0-based epoch `e`, from the optimizer's rate `lr0`. */
  rate(lr0: number, e: number, a: Record<string, Arg>): number;
  /** What the plan's notes say the scheduler does (`× 0.7 every epoch`). */
  describe(a: Record<string, Arg>): string;
}

const num = (a: Record<string, Arg>, k: string): number => a[k] as number;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Every scheduler ConvLens reproduces. */
export const SCHEDULERS: readonly SchedulerDef[] = [
  {
    name: 'StepLR',
    doc: 'The rate × gamma every step_size epochs.',
    params: [{ key: 'step_size' }, { key: 'gamma', default: 0.1 }],
    refuse: (a) => (Number.isInteger(num(a, 'step_size')) && num(a, 'step_size') >= 1 ? undefined : `step_size must be a positive integer, got ${num(a, 'step_size')}`),
    rate: (lr0, e, a) => lr0 * num(a, 'gamma') ** Math.floor(e / num(a, 'step_size')),
    describe: (a) => `the learning rate × ${num(a, 'gamma')} every ${plural(num(a, 'step_size'), 'epoch')}`,
  },
  {
    name: 'MultiStepLR',
    doc: 'The rate × gamma at each milestone epoch.',
    params: [{ key: 'milestones', list: true }, { key: 'gamma', default: 0.1 }],
    // PyTorch keeps the milestones in a Counter: a milestone listed twice multiplies twice.
    rate: (lr0, e, a) => lr0 * num(a, 'gamma') ** (a.milestones as number[]).filter((m) => m <= e).length,
    describe: (a) => `the learning rate × ${num(a, 'gamma')} at epochs ${(a.milestones as number[]).join(', ')}`,
  },
  {
    name: 'ExponentialLR',
    doc: 'The rate × gamma every epoch.',
    params: [{ key: 'gamma' }],
    rate: (lr0, e, a) => lr0 * num(a, 'gamma') ** e,
    describe: (a) => `the learning rate × ${num(a, 'gamma')} every epoch`,
  },
  {
    name: 'CosineAnnealingLR',
    doc: 'Cosine annealing from the rate to eta_min over T_max epochs (SGDR without restarts).',
    params: [{ key: 'T_max' }, { key: 'eta_min', default: 0 }],
    refuse: (a) => (num(a, 'T_max') > 0 ? undefined : `T_max must be positive, got ${num(a, 'T_max')}`),
    rate: (lr0, e, a) => num(a, 'eta_min') + ((lr0 - num(a, 'eta_min')) * (1 + Math.cos((Math.PI * e) / num(a, 'T_max')))) / 2,
    describe: (a) => `cosine annealing to ${num(a, 'eta_min')} over ${plural(num(a, 'T_max'), 'epoch')}`,
  },
  {
    name: 'ConstantLR',
    doc: 'The rate × factor for the first total_iters epochs.',
    params: [{ key: 'factor', default: 1 / 3 }, { key: 'total_iters', default: 5 }],
    refuse: (a) => (num(a, 'factor') >= 0 && num(a, 'factor') <= 1 ? undefined : 'ConstantLR(factor=…) must be between 0 and 1 (PyTorch raises ValueError)'),
    rate: (lr0, e, a) => lr0 * (e < num(a, 'total_iters') ? num(a, 'factor') : 1),
    describe: (a) => `the learning rate × ${+num(a, 'factor').toFixed(4)} for the first ${plural(num(a, 'total_iters'), 'epoch')}`,
  },
  {
    name: 'LinearLR',
    doc: 'The rate × a factor moving linearly from start_factor to end_factor over total_iters epochs.',
    params: [{ key: 'start_factor', default: 1 / 3 }, { key: 'end_factor', default: 1 }, { key: 'total_iters', default: 5 }],
    refuse: (a) =>
      num(a, 'start_factor') > 0 && num(a, 'start_factor') <= 1 && num(a, 'end_factor') >= 0 && num(a, 'end_factor') <= 1
        ? undefined
        : 'LinearLR needs 0 < start_factor ≤ 1 and 0 ≤ end_factor ≤ 1 (PyTorch raises ValueError)',
    rate: (lr0, e, a) => lr0 * (num(a, 'start_factor') + ((num(a, 'end_factor') - num(a, 'start_factor')) * Math.min(num(a, 'total_iters'), e)) / num(a, 'total_iters')),
    describe: (a) => `the learning rate × ${+num(a, 'start_factor').toFixed(4)} → × ${+num(a, 'end_factor').toFixed(4)} over ${plural(num(a, 'total_iters'), 'epoch')}`,
  },
];

/** The scheduler definition of a class name, or undefined. */
export const schedulerDef = (name: string): SchedulerDef | undefined => SCHEDULERS.find((d) => d.name === name);

/**
 * The per-epoch learning rates of the file's scheduler for `epochs` epochs from the optimizer's
 * rate, and what to say about it; or the reason it cannot be reproduced, in words.
 */
export function schedulerRates(spec: OptimizerSpec, lr0: number, epochs: number): { values: number[]; description: string } | { error: string } {
  const d = schedulerDef(spec.name);
  const supported = SCHEDULERS.map((s) => s.name).join(', ');
  if (!d) return { error: `torch.optim.lr_scheduler.${spec.name} is not reproduced by ConvLens yet (${supported} are); remove it or pass the rate you want with --lr` };
  const a: Record<string, Arg> = {};
  for (const [i, p] of d.params.entries()) {
    const v = spec.args.get(p.key) ?? spec.positional?.[i];
    if (v === undefined || v.k === 'none') {
      if (p.default === undefined) return { error: `${d.name}(${p.key}=…) is required` };
      a[p.key] = p.default;
      continue;
    }
    const read = p.list ? numbers(v) : v.k === 'num' ? v.v : undefined;
    if (read === undefined) return { error: `${d.name}(${p.key}=…) cannot be read without running the code` };
    a[p.key] = read;
  }
  const last = spec.args.get('last_epoch');
  if (last && !(last.k === 'num' && last.v === -1)) return { error: `${d.name}(last_epoch=…) resumes a schedule; ConvLens starts schedules at epoch 0 (use --resume to continue a run)` };
  const why = d.refuse?.(a);
  if (why) return { error: `${d.name}: ${why}` };
  return { values: Array.from({ length: Math.max(1, epochs) }, (_, e) => d.rate(lr0, e, a)), description: d.describe(a) };
}

function numbers(v: Value): number[] | undefined {
  if (v.k !== 'seq') return undefined;
  const out: number[] = [];
  for (const x of v.items) {
    if (x.k !== 'num') return undefined;
    out.push(x.v);
  }
  return out;
}
