/**
 * The ConvLens panel: the model graph, the runs (training curves, epochs, evaluation), feature
 * maps with Grad-CAM, and the filters playground; or, in the .onnx viewer, a model file's graph,
 * summary and feature maps. It talks to the extension host only through the typed messages of
 * src/core/protocol, and validates everything it receives.
 */
import {
  PanelActivations,
  PanelClear,
  PanelError,
  PanelEvaluation,
  PanelExplain,
  PanelFilters,
  PanelGraph,
  PanelHighlight,
  PanelModel,
  PanelNodeArgs,
  PanelReady,
  PanelRuns,
  PanelShowTab,
  RequestEditArg,
  RequestNodeArgs,
  RequestReveal,
  RequestSaveCsv,
  RequestStop,
  RequestTrain,
  type PanelTopic,
} from '../../src/core/protocol/panel';
import { TrainingDone, TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted } from '../../src/core/protocol/training';
import { OnnxSummary } from '../../src/core/protocol/panel';
import { byId, el } from './dom';
import { FeatureMapsView } from './features';
import { GraphPanel } from './graph';
import { listen, loadState, on, post, saveState } from './host';
import { showOnnxSummary } from './onnx';
import { PlaygroundView } from './playground';
import { TrainingView, type RunsState } from './training';

interface State {
  tab: string;
  graph?: { collapsed: string[]; expanded: string[] };
  runs?: Partial<RunsState>;
}

const state: State = { tab: document.body.dataset.tab ?? 'features', ...(loadState<State>() ?? {}) };
const persist = () => saveState(state);

function showTab(tab: string): void {
  if (!document.querySelector(`nav button[data-tab="${tab}"]`)) tab = document.querySelector<HTMLButtonElement>('nav button')?.dataset.tab ?? tab;
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const s of document.querySelectorAll<HTMLElement>('main > section')) s.hidden = s.id !== `tab-${tab}`;
  state.tab = tab;
  persist();
}

/** A message where it applies: one per topic, replaced by the next, removed when its cause is gone. */
function message(topic: PanelTopic, text: string | undefined, kind: 'error' | 'warning' | 'info' = 'error'): void {
  const slot = document.querySelector<HTMLElement>(`.msg[data-topic="${topic}"]`) ?? document.querySelector<HTMLElement>('.msg[data-topic="model"]');
  if (!slot) return;
  slot.textContent = text ?? '';
  slot.className = `msg ${kind}`;
  slot.hidden = !text;
}

/** The training log: each distinct note once, newest last. */
function logLine(text: string, level: 'info' | 'warning'): void {
  const log = document.getElementById('training-log');
  if (!log) return;
  if ([...log.children].some((c) => c.textContent === text)) return;
  log.append(el('li', { class: level === 'warning' ? 'warning' : 'muted' }, text));
}

for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab!));
showTab(state.tab);

const features = new FeatureMapsView();
const playground = new PlaygroundView();
features.onInput((i) => playground.setInput(i));
features.onKernel((k) => {
  playground.setKernel(k);
  showTab('playground');
});

if (document.body.dataset.view === 'onnx') {
  on(OnnxSummary, (s) => showOnnxSummary(s));
} else {
  byId('train').addEventListener('click', () => post(RequestTrain, {}));
  byId('stop').addEventListener('click', () => post(RequestStop, {}));
  const training = new TrainingView(
    state.runs,
    (s) => {
      state.runs = s;
      persist();
    },
    (csv, name) => post(RequestSaveCsv, { csv, name }),
  );
  on(PanelRuns, (r) => training.setRuns(r));
  on(PanelEvaluation, (e) => training.evaluation(e));
  on(TrainingStarted, (s) => {
    training.start(s);
    document.body.classList.add('training');
  });
  on(TrainingProgress, (p) => {
    training.progress(p);
    document.body.classList.add('training');
  });
  on(TrainingEpoch, (e) => training.epoch(e));
  on(TrainingLog, (l) => logLine(l.message, l.level));
  on(TrainingDone, (d) => {
    training.done(d);
    document.body.classList.remove('training');
  });
  on(PanelModel, (m) => {
    byId('model-title').textContent = `${m.model} — ${m.file}`;
    byId('weights').textContent = `weights: ${m.weights}`;
    message('model', m.problem);
  });
}

if (document.getElementById('graph-canvas')) {
  const graph = new GraphPanel(
    {
      select: (node) => post(RequestNodeArgs, { node }),
      reveal: (node) => post(RequestReveal, { node }),
      edit: (node, arg, value) => post(RequestEditArg, { node, arg, value }),
      saveState: (s) => {
        state.graph = s;
        persist();
      },
    },
    state.graph,
  );
  on(PanelGraph, (g) => graph.setGraph(g.graph, g.file));
  on(PanelHighlight, (h) => graph.highlight(h.nodes));
  on(PanelNodeArgs, (a) => graph.showArgs(a));
}

on(PanelShowTab, (t) => showTab(t.tab));
on(PanelModel, (m) => features.setModel(m));
on(PanelActivations, (a) => features.show(a));
on(PanelFilters, (f) => features.showFilters(f));
on(PanelExplain, (x) => features.showExplain(x));
on(PanelError, (e) => message(e.topic ?? 'model', e.message));
on(PanelClear, (c) => message(c.topic, undefined));
listen((why) => message('model', why));
post(PanelReady, {});
