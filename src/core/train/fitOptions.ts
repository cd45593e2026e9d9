/**
 * `fit()` as the file wrote it: which samples it trains and validates on, its callbacks
 * (EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, LearningRateScheduler) and a learning-rate
 * schedule given to the optimizer (ExponentialDecay, InverseTimeDecay, CosineDecay,
 * PiecewiseConstantDecay, PolynomialDecay), each with Keras 3's semantics
 * (keras/src/callbacks/*.py, keras/src/optimizers/schedules/learning_rate_schedule.py). What
 * ConvLens does not do is named in the run's log, never silently dropped.
 *
 * The plan part (`planFit`) turns the file's plain data into settings; the run part
 * (`scheduleRate`, {@link FitCallbacks}, {@link BestTracker}) is what the trainer calls per step
 * and per epoch. Both are pure.
 */
import type { CompileSpec, FitSpec } from '../parse/values';
import type { PlainArg } from '../parse/fitArgs';
import type { RowSelection } from '../parse/dataOrigin';

export type Mode = 'min' | 'max';

/** Rows of a split, as the plan carries them. */
export interface PlannedRows {
  split: 'train' | 'test';
  rows: RowSelection;
  /** `line 50` of the argument, for messages. */
  line: number;
  dataset: string;
}

export type CallbackPlan =
  | { kind: 'EarlyStopping'; monitor: string; mode: Mode; minDelta: number; patience: number; baseline: number | null; restoreBestWeights: boolean; startFromEpoch: number; line: number }
  | { kind: 'ReduceLROnPlateau'; monitor: string; mode: Mode; factor: number; patience: number; minDelta: number; cooldown: number; minLr: number; line: number }
  | { kind: 'LearningRateScheduler'; values: number[]; line: number };

/** A learning-rate schedule given as the optimizer's learning_rate; `step` is the optimizer's iterations (0 at the first update). */
export type SchedulePlan =
  | { kind: 'ExponentialDecay' | 'InverseTimeDecay'; initial: number; decaySteps: number; decayRate: number; staircase: boolean }
  | { kind: 'CosineDecay'; initial: number; decaySteps: number; alpha: number; warmupTarget: number | null; warmupSteps: number }
  | { kind: 'PiecewiseConstantDecay'; boundaries: number[]; values: number[] }
  | { kind: 'PolynomialDecay'; initial: number; decaySteps: number; end: number; power: number; cycle: boolean };

/** How the best checkpoint is chosen (ModelCheckpoint's monitor and mode, or Keras' defaults). */
export interface CheckpointPolicy {
  monitor: string;
  mode: Mode;
  /** `initial_value_threshold`: an epoch must beat it to be saved. */
  initial: number | null;
  line?: number;
}

/** Everything about fit() the trainer honours, plus what it does not. */
export interface FitPlan {
  train?: PlannedRows;
  validation?: PlannedRows;
  callbacks: CallbackPlan[];
  checkpoint?: CheckpointPolicy;
  schedule?: SchedulePlan & { line: number };
  /** One line per setting honoured, for the run's log. */
  honoured: string[];
  /** One line per setting not honoured, and why. */
  ignored: string[];
}

/** Keras' `mode='auto'`: lower is better for losses, higher for accuracy; undefined when it cannot tell. */
export function autoMode(monitor: string): Mode | undefined {
  const m = monitor.replace(/^val_/, '');
  if (m === 'loss') return 'min';
  if (m === 'accuracy' || m === 'acc' || m === 'categorical_accuracy' || m === 'sparse_categorical_accuracy' || m === 'binary_accuracy') return 'max';
  return undefined;
}

/** The metrics a ConvLens run logs per epoch. */
export const LOGGED_METRICS = ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate'];

/** Keras' metric aliases → the name ConvLens logs. */
function metricName(monitor: string): string {
  return monitor.replace(/(^|_)(acc|categorical_accuracy|sparse_categorical_accuracy|binary_accuracy)$/, '$1accuracy');
}

const isNum = (v: PlainArg | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads the file's compile()/fit() extras into a plan; refusals go to `refuse`, what is assumed to `notes`. */
export function planFit(
  fit: FitSpec | undefined,
  compile: CompileSpec | undefined,
  o: {
    lineOf: (offset: number) => number;
    learningRate: number;
    /** --validation-split given: validation_data is not used. */
    validationOverride: boolean;
    refuse: (message: string, offset: number) => void;
  },
): FitPlan {
  const plan: FitPlan = { callbacks: [], honoured: [], ignored: [] };
  const ex = fit?.extras;
  if (ex?.train) {
    plan.train = { split: ex.train.split, rows: ex.train.rows, line: o.lineOf(ex.train.span.start), dataset: ex.train.dataset };
    if (ex.train.split !== 'train' || ex.train.rows.slices.length > 0 || ex.train.rows.shuffled) plan.honoured.push(`fit() trains on the rows the file selects (line ${plan.train.line})`);
  }
  if (ex?.validation && !o.validationOverride) {
    if ('unknown' in ex.validation) plan.ignored.push(`fit(validation_data=…): ${ex.validation.unknown}; holding out the last 10% of the training samples instead`);
    else {
      plan.validation = { split: ex.validation.split, rows: ex.validation.rows, line: o.lineOf(ex.validation.span.start), dataset: ex.validation.dataset };
      plan.honoured.push(`validation_data: ${describeRows(plan.validation)} (line ${plan.validation.line})`);
    }
  }

  // A schedule as the optimizer's learning rate.
  const sch = compile?.extras?.schedule;
  if (sch) {
    const line = o.lineOf(sch.span.start);
    const s = readSchedule(sch.className, sch.args);
    if ('error' in s) plan.ignored.push(`${sch.className} (line ${line}): ${s.error}; training uses a constant learning rate of ${o.learningRate}`);
    else {
      plan.schedule = { ...s, line };
      plan.honoured.push(`${sch.className} learning-rate schedule (line ${line})`);
    }
  }

  const cbs = ex?.callbacks;
  if (cbs && 'unknown' in cbs) plan.ignored.push(`callbacks: ${cbs.unknown}; none are applied`);
  else if (cbs) {
    for (const c of cbs) {
      const line = o.lineOf(c.span.start);
      const where = `${c.className}(…) (line ${line})`;
      const a = c.args;
      const unknown = Object.entries(a).filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v) && k(v) && c.className !== 'LearningRateScheduler');
      const monitorOf = (dflt: string): { monitor: string; mode: Mode } | string => {
        const monitor = typeof a.monitor === 'string' ? metricName(a.monitor) : dflt;
        const given = typeof a.mode === 'string' ? a.mode : 'auto';
        const mode = given === 'min' || given === 'max' ? given : autoMode(monitor);
        if (!LOGGED_METRICS.includes(monitor)) return `monitor='${monitor}' is not a metric ConvLens logs (${LOGGED_METRICS.join(', ')})`;
        if (!mode) return `cannot tell whether ${monitor} should go up or down: pass mode='min' or mode='max'`;
        return { monitor, mode };
      };
      switch (c.className) {
        case 'EarlyStopping': {
          const m = monitorOf('val_loss');
          if (typeof m === 'string') {
            plan.ignored.push(`${where}: ${m}`);
            break;
          }
          if (unknown.length) {
            plan.ignored.push(`${where}: ${unknown.map(([n]) => n).join(', ')} known only when the code runs`);
            break;
          }
          plan.callbacks.push({
            kind: 'EarlyStopping',
            ...m,
            minDelta: Math.abs(isNum(a.min_delta) ? a.min_delta : 0),
            patience: isNum(a.patience) ? a.patience : 0,
            baseline: isNum(a.baseline) ? a.baseline : null,
            restoreBestWeights: a.restore_best_weights === true,
            startFromEpoch: isNum(a.start_from_epoch) ? a.start_from_epoch : 0,
            line,
          });
          plan.honoured.push(`EarlyStopping(monitor='${m.monitor}', patience=${isNum(a.patience) ? a.patience : 0}) (line ${line})`);
          break;
        }
        case 'ReduceLROnPlateau': {
          const m = monitorOf('val_loss');
          if (typeof m === 'string') {
            plan.ignored.push(`${where}: ${m}`);
            break;
          }
          const factor = isNum(a.factor) ? a.factor : 0.1;
          if (!(factor < 1 && factor >= 0)) {
            o.refuse(`ReduceLROnPlateau does not support a factor ≥ 1 (got ${factor}), as in Keras`, c.span.start);
            break;
          }
          if (unknown.length) {
            plan.ignored.push(`${where}: ${unknown.map(([n]) => n).join(', ')} known only when the code runs`);
            break;
          }
          plan.callbacks.push({
            kind: 'ReduceLROnPlateau',
            ...m,
            factor,
            patience: isNum(a.patience) ? a.patience : 10,
            minDelta: Math.abs(isNum(a.min_delta) ? a.min_delta : 1e-4),
            cooldown: isNum(a.cooldown) ? a.cooldown : 0,
            minLr: isNum(a.min_lr) ? a.min_lr : 0,
            line,
          });
          plan.honoured.push(`ReduceLROnPlateau(monitor='${m.monitor}', factor=${factor}, patience=${isNum(a.patience) ? a.patience : 10}) (line ${line})`);
          break;
        }
        case 'ModelCheckpoint': {
          const m = monitorOf('val_loss');
          if (typeof m === 'string') {
            plan.ignored.push(`${where}: ${m}; the best checkpoint follows val_loss (or loss)`);
            break;
          }
          plan.checkpoint = { ...m, initial: isNum(a.initial_value_threshold) ? a.initial_value_threshold : null, line };
          const file = typeof a.filepath === 'string' ? ` to ${a.filepath}` : '';
          plan.honoured.push(
            `ModelCheckpoint(monitor='${m.monitor}', mode='${m.mode}') (line ${line}): the best checkpoint is best.ckpt in the run folder, not${file || ' the file it names'}` +
              (a.save_best_only === true ? '' : '; every epoch also ends in last.ckpt (save_best_only=False)'),
          );
          if (a.save_freq !== undefined && a.save_freq !== 'epoch') plan.ignored.push(`${where}: save_freq=${JSON.stringify(a.save_freq)}: ConvLens saves after each epoch`);
          break;
        }
        case 'LearningRateScheduler': {
          const t = c.lrTable;
          if (!t || 'unknown' in t) {
            plan.ignored.push(`${where}: ${t && 'unknown' in t ? t.unknown : 'no schedule function'}; the learning rate stays ${o.learningRate}`);
            break;
          }
          let values = t.values;
          if (t.usesLr && o.learningRate !== t.initialLr) {
            if (t.linearInLr) values = values.map((v) => (v * o.learningRate) / t.initialLr);
            else plan.ignored.push(`${where}: the schedule was evaluated from the file's learning rate ${t.initialLr}, not ${o.learningRate}`);
          }
          plan.callbacks.push({ kind: 'LearningRateScheduler', values, line });
          plan.honoured.push(`LearningRateScheduler (line ${line}): ${values.slice(0, 3).map(formatRate).join(', ')}${values.length > 3 ? ', …' : ''} per epoch`);
          break;
        }
        case '?':
          plan.ignored.push(`a callback known only when the code runs (line ${line}) is not applied`);
          break;
        default:
          plan.ignored.push(`${where} is not applied: ConvLens honours EarlyStopping, ReduceLROnPlateau, ModelCheckpoint and LearningRateScheduler`);
      }
    }
  }
  if (plan.schedule && plan.callbacks.some((c) => c.kind === 'LearningRateScheduler' || c.kind === 'ReduceLROnPlateau')) {
    const which = plan.callbacks.filter((c) => c.kind !== 'EarlyStopping').map((c) => c.kind).join(' and ');
    plan.ignored.push(`${which}: the optimizer already follows a ${plan.schedule.kind} schedule (Keras refuses to change a scheduled learning rate); the callback is not applied`);
    plan.callbacks = plan.callbacks.filter((c) => c.kind === 'EarlyStopping');
  }
  return plan;
}

/** True for an `{ unknown }` argument. */
function k(v: object): boolean {
  return 'unknown' in v;
}

/** `the test set`, `rows 5000: of the training set`, `rows 50000:60000 of the training set in np.random.permutation order`. */
export function describeRows(r: { split: 'train' | 'test'; rows: RowSelection }): string {
  const set = r.split === 'train' ? 'the training set' : 'the test set';
  if (!r.rows.shuffled && r.rows.slices.length === 0) return set;
  const sl = r.rows.slices.map((s) => `${s.start ?? ''}:${s.stop ?? ''}`).join(', then ');
  return `${sl ? `rows ${sl} of ` : ''}${set}${r.rows.shuffled ? ' in np.random.permutation order (seeded by ConvLens)' : ''}`;
}

/** A learning rate as Keras prints it: `0.001`, `1e-05`. */
export function formatRate(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

function readSchedule(className: string, a: Record<string, PlainArg>): SchedulePlan | { error: string } {
  const need = (...names: string[]) => names.filter((n) => !isNum(a[n]));
  switch (className) {
    case 'ExponentialDecay':
    case 'InverseTimeDecay': {
      const missing = need('initial_learning_rate', 'decay_steps', 'decay_rate');
      if (missing.length) return { error: `${missing.join(', ')} known only when the code runs` };
      if (!((a.decay_steps as number) > 0)) return { error: 'decay_steps must be > 0' };
      return { kind: className, initial: a.initial_learning_rate as number, decaySteps: a.decay_steps as number, decayRate: a.decay_rate as number, staircase: a.staircase === true };
    }
    case 'CosineDecay': {
      const missing = need('initial_learning_rate', 'decay_steps');
      if (missing.length) return { error: `${missing.join(', ')} known only when the code runs` };
      if (!((a.decay_steps as number) > 0)) return { error: 'decay_steps must be > 0' };
      return {
        kind: 'CosineDecay',
        initial: a.initial_learning_rate as number,
        decaySteps: a.decay_steps as number,
        alpha: isNum(a.alpha) ? a.alpha : 0,
        warmupTarget: isNum(a.warmup_target) ? a.warmup_target : null,
        warmupSteps: isNum(a.warmup_steps) ? a.warmup_steps : 0,
      };
    }
    case 'PiecewiseConstantDecay': {
      const b = a.boundaries;
      const v = a.values;
      if (!Array.isArray(b) || !Array.isArray(v) || !b.every(isNum) || !v.every(isNum)) return { error: 'boundaries and values known only when the code runs' };
      if (v.length !== b.length + 1) return { error: `values must have one more entry than boundaries (got ${v.length} and ${b.length})` };
      return { kind: 'PiecewiseConstantDecay', boundaries: b as number[], values: v as number[] };
    }
    case 'PolynomialDecay': {
      const missing = need('initial_learning_rate', 'decay_steps');
      if (missing.length) return { error: `${missing.join(', ')} known only when the code runs` };
      return {
        kind: 'PolynomialDecay',
        initial: a.initial_learning_rate as number,
        decaySteps: a.decay_steps as number,
        end: isNum(a.end_learning_rate) ? a.end_learning_rate : 0.0001,
        power: isNum(a.power) ? a.power : 1,
        cycle: a.cycle === true,
      };
    }
    default:
      return { error: 'this schedule is not reproduced by ConvLens' };
  }
}

/** The learning rate a schedule gives at optimizer iteration `step` (0 at the first update), as Keras 3 computes it. */
export function scheduleRate(s: SchedulePlan, step: number): number {
  switch (s.kind) {
    case 'ExponentialDecay': {
      const p = s.staircase ? Math.floor(step / s.decaySteps) : step / s.decaySteps;
      return s.initial * Math.pow(s.decayRate, p);
    }
    case 'InverseTimeDecay': {
      const p = s.staircase ? Math.floor(step / s.decaySteps) : step / s.decaySteps;
      return s.initial / (1 + s.decayRate * p);
    }
    case 'CosineDecay': {
      const decay = (t: number, from: number) => {
        const cosine = 0.5 * (1 + Math.cos(Math.PI * (t / s.decaySteps)));
        return from * ((1 - s.alpha) * cosine + s.alpha);
      };
      if (s.warmupTarget === null) return decay(Math.min(step, s.decaySteps), s.initial);
      const t = Math.min(step, s.decaySteps + s.warmupSteps);
      if (t < s.warmupSteps) return (s.warmupTarget - s.initial) * (t / s.warmupSteps) + s.initial;
      return decay(t - s.warmupSteps, s.warmupTarget);
    }
    case 'PiecewiseConstantDecay': {
      const b = s.boundaries;
      if (step <= b[0]) return s.values[0];
      if (step > b[b.length - 1]) return s.values[s.values.length - 1];
      for (let i = 1; i < b.length; i++) if (step > b[i - 1] && step <= b[i]) return s.values[i];
      return s.values[s.values.length - 1];
    }
    case 'PolynomialDecay': {
      let t = step;
      let d = s.decaySteps;
      if (s.cycle) d = d * (t === 0 ? 1 : Math.ceil(t / s.decaySteps));
      else t = Math.min(t, d);
      return (s.initial - s.end) * Math.pow(1 - t / d, s.power) + s.end;
    }
  }
}

/** Keras' MonitorCallback comparison: `monitor_op(current - min_delta, reference)`, min_delta negative in min mode. */
export function isImprovement(mode: Mode, current: number, reference: number | null, minDelta = 0): boolean {
  if (reference === null) return true;
  return mode === 'min' ? current + minDelta < reference : current - minDelta > reference;
}

/** The best value of a monitored metric so far (the best checkpoint's rule). */
export class BestTracker {
  constructor(
    readonly monitor: string,
    readonly mode: Mode,
    public best: number | null = null,
    public epoch = 0,
  ) {}

  /** Records `value` for a 1-based epoch; true when it is the new best. */
  offer(value: number | undefined, epoch: number): boolean {
    if (value === undefined || !Number.isFinite(value)) return false;
    if (!isImprovement(this.mode, value, this.best)) return false;
    this.best = value;
    this.epoch = epoch;
    return true;
  }
}

/** What the callbacks decide at an epoch's end. */
export interface EpochDecision {
  stop: boolean;
  learningRate: number;
  messages: string[];
  /** EarlyStopping asks for the weights of this epoch to be kept (restore_best_weights). */
  keepWeights: boolean;
}

type CallbackState = Record<string, Record<string, number | null>>;

/**
 * EarlyStopping, ReduceLROnPlateau and LearningRateScheduler as Keras 3 runs them, epoch by
 * epoch (0-based epochs, as Keras counts them). Their counters can be saved in a checkpoint and
 * restored, so a resumed run stops and reduces exactly where an uninterrupted one would.
 */
export class FitCallbacks {
  private readonly state: CallbackState = {};

  constructor(private readonly callbacks: readonly CallbackPlan[]) {
    callbacks.forEach((c, i) => {
      if (c.kind === 'EarlyStopping') this.state[`${i}`] = { wait: 0, best: null, bestEpoch: 0, stoppedEpoch: 0 };
      if (c.kind === 'ReduceLROnPlateau') this.state[`${i}`] = { wait: 0, best: null, cooldownCounter: 0 };
    });
  }

  /** The saved counters. */
  save(): CallbackState {
    return JSON.parse(JSON.stringify(this.state)) as CallbackState;
  }

  /** Restores saved counters (ignored when they do not match these callbacks). */
  restore(saved: CallbackState | undefined): void {
    if (!saved) return;
    for (const [key, s] of Object.entries(this.state)) {
      const v = saved[key];
      if (v && Object.keys(s).every((k2) => k2 in v)) Object.assign(s, v);
    }
  }

  /** LearningRateScheduler: the rate set before a 0-based epoch, given the rate in force. */
  epochBegin(epoch: number, learningRate: number): number {
    let lr = learningRate;
    for (const c of this.callbacks) {
      if (c.kind === 'LearningRateScheduler') lr = c.values[Math.min(epoch, c.values.length - 1)];
    }
    return lr;
  }

  /** EarlyStopping and ReduceLROnPlateau after a 0-based epoch with its logs (`loss`, `val_loss`, …). */
  epochEnd(epoch: number, logs: Readonly<Record<string, number | undefined>>, learningRate: number): EpochDecision {
    const out: EpochDecision = { stop: false, learningRate, messages: [], keepWeights: false };
    this.callbacks.forEach((c, i) => {
      const s = this.state[`${i}`];
      if (c.kind === 'EarlyStopping') {
        const current = logs[c.monitor];
        if (current === undefined || epoch < c.startFromEpoch) {
          if (current === undefined) out.messages.push(`EarlyStopping: ${c.monitor} is not available (${Object.keys(logs).join(', ')})`);
          return;
        }
        if (c.restoreBestWeights && s.best === null) out.keepWeights = true;
        s.wait = (s.wait ?? 0) + 1;
        if (isImprovement(c.mode, current, s.best, c.minDelta)) {
          s.best = current;
          s.bestEpoch = epoch;
          if (c.restoreBestWeights) out.keepWeights = true;
          if (c.baseline === null || isImprovement(c.mode, current, c.baseline, c.minDelta)) s.wait = 0;
          return;
        }
        if ((s.wait ?? 0) >= c.patience && epoch > 0) {
          s.stoppedEpoch = epoch;
          out.stop = true;
          out.messages.push(`Epoch ${epoch + 1}: early stopping (${c.monitor} has not improved for ${s.wait} epoch${s.wait === 1 ? '' : 's'}; EarlyStopping at line ${c.line})`);
        }
      } else if (c.kind === 'ReduceLROnPlateau') {
        const current = c.monitor === 'learning_rate' ? out.learningRate : logs[c.monitor];
        if (current === undefined) {
          out.messages.push(`ReduceLROnPlateau: ${c.monitor} is not available (${Object.keys(logs).join(', ')})`);
          return;
        }
        if ((s.cooldownCounter ?? 0) > 0) {
          s.cooldownCounter = (s.cooldownCounter ?? 0) - 1;
          s.wait = 0;
        }
        if (isImprovement(c.mode, current, s.best, c.minDelta)) {
          s.best = current;
          s.wait = 0;
        } else if (!((s.cooldownCounter ?? 0) > 0)) {
          s.wait = (s.wait ?? 0) + 1;
          if ((s.wait ?? 0) >= c.patience) {
            const old = out.learningRate;
            if (old > Math.fround(c.minLr)) {
              out.learningRate = Math.max(old * c.factor, c.minLr);
              out.messages.push(`Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${formatRate(out.learningRate)}.`);
              s.cooldownCounter = c.cooldown;
              s.wait = 0;
            }
          }
        }
      }
    });
    return out;
  }
}
