import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import {
  ActivationsRequest,
  ActivationsResult,
  EvaluateRequest,
  EvaluateResult,
  ExplainRequest,
  ExplainResult,
  FiltersRequest,
  FiltersResult,
  InferenceError,
  OnnxActivationsRequest,
  OnnxActivationsResult,
  type ActivationsRequestParams,
  type ExplainRequestParams,
  type ExplainResultParams,
  type OnnxActivationsRequestParams,
  type OnnxActivationsResultParams,
  type ActivationsResultParams,
  type EvaluateRequestParams,
  type FiltersRequestParams,
} from '../core/protocol/inference';
import { isMessage, type Notification } from '../core/protocol/messages';
import type { PanelEvaluationParams, TensorData } from '../core/protocol/panel';

type Pending = { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout; result: Notification<{ id: number }> };

/**
 * Talks to the inference process (dist/inference.js), started on first use. onnxruntime-node runs
 * there, never in the extension host; if the process dies, pending requests fail with a message
 * and the next request starts a new one.
 */
export class InferenceClient implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly distDir: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  activations(p: Omit<ActivationsRequestParams, 'id'>): Promise<ActivationsResultParams> {
    return this.request(ActivationsRequest, p, ActivationsResult) as Promise<ActivationsResultParams>;
  }

  filters(p: Omit<FiltersRequestParams, 'id'>): Promise<{ layer: string; kernel: TensorData; weights: string }> {
    return this.request(FiltersRequest, p, FiltersResult) as Promise<{ layer: string; kernel: TensorData; weights: string }>;
  }

  evaluate(p: Omit<EvaluateRequestParams, 'id'>): Promise<PanelEvaluationParams> {
    return this.request(EvaluateRequest, p, EvaluateResult, 300_000) as Promise<PanelEvaluationParams>;
  }

  explain(p: Omit<ExplainRequestParams, 'id'>): Promise<ExplainResultParams> {
    return this.request(ExplainRequest, p, ExplainResult) as Promise<ExplainResultParams>;
  }

  onnxActivations(p: Omit<OnnxActivationsRequestParams, 'id'>): Promise<OnnxActivationsResultParams> {
    return this.request(OnnxActivationsRequest, p, OnnxActivationsResult, 120_000) as Promise<OnnxActivationsResultParams>;
  }

  private start(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    const script = path.join(this.distDir, 'inference.js');
    if (!existsSync(script)) throw new Error(`ConvLens is missing ${script}; reinstall the extension or run 'npm run build'`);
    const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => this.log.warn(`inference: ${d.trim()}`));
    child.stdout?.resume();
    child.on('message', (m: unknown) => this.receive(m));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const why = new Error(`the inference process ended (${signal ?? `exit code ${code}`}); try again`);
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(why);
        this.pending.delete(id);
      }
    });
    this.child = child;
    this.log.info(`inference process started (pid ${child.pid})`);
    return child;
  }

  private request<P extends { id: number }>(type: Notification<P>, params: Omit<P, 'id'>, result: Notification<{ id: number }>, timeoutMs = 60_000): Promise<unknown> {
    const child = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the inference process did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, result });
      child.send(type.create({ ...params, id } as P));
    });
  }

  private receive(m: unknown): void {
    if (!isMessage(m)) return;
    const id = (m.params as { id?: unknown })?.id;
    if (typeof id !== 'number') return;
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (InferenceError.is(m)) p.reject(new Error(m.params.message));
    else if (p.result.is(m)) p.resolve(m.params);
    else p.reject(new Error(`unexpected answer ${m.method} from the inference process`));
  }

  dispose(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.child?.kill();
  }
}
