import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The panel's page: the model panel (graph, runs, feature maps, playground) or the .onnx viewer
 * (graph, summary, feature maps, playground). One bundle for both; strict Content-Security-Policy
 * with a nonce, local assets only.
 */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, o: { view: 'model' | 'onnx'; tab: string }): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`, `font-src ${webview.cspSource}`].join('; ');
  const model = o.view === 'model';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('dist', 'webview', 'uPlot.min.css')}">
<link rel="stylesheet" href="${asset('media', 'panel.css')}">
<title>ConvLens</title>
</head>
<body data-tab="${o.tab}" data-view="${o.view}">
<header>
  <h2 id="model-title">ConvLens</h2>
  <span id="weights"></span>
  ${model ? `<button id="train" class="primary" title="Train this model (ConvLens: Train Model)">Train</button>
  <button id="stop" title="Stop training after the current step (a checkpoint to resume from is written)">Stop</button>` : ''}
</header>
<div class="msg" data-topic="model" role="status" aria-live="polite" hidden></div>
<nav role="tablist">
  <button role="tab" data-tab="graph">Graph</button>
  ${model ? '<button role="tab" data-tab="training">Runs</button>' : '<button role="tab" data-tab="onnx">Summary</button>'}
  <button role="tab" data-tab="features">Feature maps</button>
  <button role="tab" data-tab="playground">Filters playground</button>
</nav>
<main>
<section id="tab-graph">
  <div class="toolbar">
    <span id="graph-title" class="muted"></span>
    <span class="spacer"></span>
    <button id="graph-collapse" title="Collapse every repeated block into one node per run, or expand them all">Collapse / expand blocks</button>
    <button id="graph-zoom-out" title="Zoom out (Ctrl + wheel)">−</button>
    <button id="graph-zoom-in" title="Zoom in (Ctrl + wheel)">+</button>
    <button id="graph-fit" title="Fit the graph in the box">Fit</button>
  </div>
  <div class="msg" data-topic="graph" hidden></div>
  <div class="graph-layout">
    <div id="graph-canvas" tabindex="0" aria-label="model graph"></div>
    <aside id="graph-sheet" aria-label="properties"><p class="muted">Select a node to see${model ? ' and edit' : ''} its arguments.</p></aside>
  </div>
  <div id="graph-legend"></div>
</section>
${
  model
    ? `<section id="tab-training">
  <div id="training-status" class="muted">Reading this model's runs…</div>
  <progress id="training-bar" max="100" value="0"></progress>
  <div id="training-progress"></div>
  <div class="msg" data-topic="training" hidden></div>
  <div class="msg" data-topic="runs" hidden></div>
  <fieldset class="runs"><legend>Runs of this model (tick to overlay)</legend><div id="run-list"></div></fieldset>
  <div class="toolbar chart-controls">
    <label title="TensorBoard's smoothing: an exponential moving average, debiased at the start">smoothing <input id="smoothing" type="range" min="0" max="0.99" step="0.01" value="0.6"> <span id="smoothing-value">0.60</span></label>
    <label>x axis <select id="x-axis"><option value="step">step</option><option value="epoch">epoch</option><option value="wall">wall time</option></select></label>
    <label><input id="log-scale" type="checkbox"> log scale (loss)</label>
    <button id="export-csv" title="Save the curves of the runs shown as CSV">Export CSV…</button>
  </div>
  <div id="charts"><div id="chart-loss"></div><div id="chart-accuracy"></div></div>
  <h3 id="epochs-title">Epochs</h3>
  <div class="table-scroll"><table id="epochs"><thead><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val_loss</th><th>val_accuracy</th><th>time</th><th>learning rate</th><th>checkpoint</th></tr></thead><tbody id="epoch-rows"></tbody></table></div>
  <ul id="training-log"></ul>
  <div class="msg" data-topic="evaluation" hidden></div>
  <div id="evaluation"></div>
</section>`
    : `<section id="tab-onnx">
  <div class="msg" data-topic="onnx" hidden></div>
  <div id="onnx-summary"></div>
</section>`
}
<section id="tab-features">
  ${model ? '' : '<div id="onnx-image" class="row"></div>'}
  <div class="inputs">
    <fieldset><legend>Input</legend>
      <div class="row" id="sample-row">
        <select id="sample-source" aria-label="data source"></select>
        <input id="sample-index" type="number" min="0" value="0" aria-label="sample index" style="width:5em">
        <button id="sample-go">Show</button> <button id="sample-random">Random</button>
      </div>
      <div class="row"><button id="pick-file">Image file…</button></div>
      <div class="row"><div id="input-preview"></div><div id="input-label" class="muted"></div></div>
    </fieldset>
    <fieldset><legend>Draw a digit</legend><canvas id="draw" width="28" height="28" aria-label="drawing canvas"></canvas><br><button id="draw-clear">Clear</button></fieldset>
    <fieldset><legend>Class probabilities</legend><div id="probabilities"></div></fieldset>
  </div>
  <div class="msg" data-topic="features" hidden></div>
  <fieldset id="explain-box" hidden><legend>Why this prediction: Grad-CAM and saliency</legend>
    <div class="row">
      <label>layer <select id="explain-layer" aria-label="Grad-CAM layer"></select></label>
      <label>for <select id="explain-class" aria-label="class to explain"></select></label>
      <label>opacity <input id="explain-opacity" type="range" min="0" max="1" step="0.05" value="0.6"></label>
    </div>
    <div class="msg" data-topic="explain" hidden></div>
    <div id="explain"></div>
  </fieldset>
  <div id="readout" class="muted"></div>
  <div id="layers"></div>
  <h3>Filters</h3>
  <select id="filters-layer" aria-label="convolution layer"></select>
  <div class="msg" data-topic="filters" hidden></div>
  <div id="filters"></div>
</section>
<section id="tab-playground">
  <div class="inputs">
    <fieldset><legend>Kernel</legend>
      <select id="kernel-preset" aria-label="kernel"></select><br>
      <textarea id="kernel-text" spellcheck="false" aria-label="kernel values"></textarea>
      <div id="kernel-error" class="error"></div><div id="kernel-note" class="muted"></div>
    </fieldset>
    <fieldset><legend>Stride and padding</legend>
      <label>stride <select id="stride"><option>1</option><option>2</option><option>3</option></select></label>
      <label>padding <select id="padding"><option value="valid">valid (p = 0)</option><option value="same">same</option><option value="1">p = 1</option><option value="2">p = 2</option></select></label>
    </fieldset>
  </div>
  <div id="playground-output"></div>
</section>
</main>
<div id="overlay" role="dialog"><div id="overlay-content"></div></div>
<script nonce="${nonce}" src="${asset('dist', 'webview', 'main.js')}"></script>
</body>
</html>`;
}
