/**
 * The ConvLens panel: training curves and evaluation, feature maps and filters, and the filters
 * playground. It talks to the extension host only through the typed messages of
 * src/core/protocol, and validates everything it receives.
 */
import { PanelActivations, PanelError, PanelEvaluation, PanelFilters, PanelModel, PanelReady, RequestStop, RequestTrain } from '../../src/core/protocol/panel';
import { TrainingDone, TrainingEpoch, TrainingLog, TrainingProgress, TrainingStarted } from '../../src/core/protocol/training';
import { byId, el } from './dom';
import { FeatureMapsView } from './features';
import { listen, loadState, on, post, saveState } from './host';
import { PlaygroundView } from './playground';
import { TrainingView } from './training';

interface State {
  tab: string;
}

function showTab(tab: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const s of document.querySelectorAll<HTMLElement>('main > section')) s.hidden = s.id !== `tab-${tab}`;
  saveState({ tab } satisfies State);
}

function message(text: string, kind: 'error' | 'info' = 'error'): void {
  const box = byId('messages');
  box.append(el('div', { class: kind }, text));
  while (box.childElementCount > 3) box.firstElementChild?.remove();
}

const training = new TrainingView();
const features = new FeatureMapsView();
const playground = new PlaygroundView();
features.onInput((i) => playground.setInput(i));

for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab!));
showTab(loadState<State>()?.tab ?? document.body.dataset.tab ?? 'features');
byId('train').addEventListener('click', () => post(RequestTrain, {}));
byId('stop').addEventListener('click', () => post(RequestStop, {}));

on(PanelModel, (m) => {
  byId('model-title').textContent = `${m.model} — ${m.file}`;
  byId('weights').textContent = `weights: ${m.weights}`;
  features.setModel(m);
});
on(PanelActivations, (a) => features.show(a));
on(PanelFilters, (f) => features.showFilters(f));
on(PanelEvaluation, (e) => training.evaluation(e));
on(PanelError, (e) => message(e.message));
on(TrainingStarted, (s) => {
  showTab('training');
  training.reset(s);
  document.body.classList.add('training');
});
on(TrainingProgress, (p) => training.progress(p));
on(TrainingEpoch, (e) => training.epoch(e));
on(TrainingLog, (l) => message(l.message, l.level === 'warning' ? 'error' : 'info'));
on(TrainingDone, (d) => {
  training.done(d);
  document.body.classList.remove('training');
});
listen((why) => message(why));
post(PanelReady, {});
