/**
 * A minimal LSP client, written from the specification (Content-Length framing, JSON-RPC 2.0), as
 * any editor would talk to `convlens lsp --stdio`: no vscode-languageclient, no vscode-jsonrpc. Used
 * by the server tests and the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const root = path.join(__dirname, '..', '..');
export const cli = path.join(root, 'dist', 'cli.js');

type Pending = { resolve(v: unknown): void; reject(e: Error): void; method: string };

export interface Published {
  uri: string;
  version?: number;
  diagnostics: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; message: string; severity: number; code?: string; source?: string }[];
}

export class LspClient {
  /** Every client still running, so a test that fails half-way cannot leave a server (and the test process) behind. */
  static readonly running = new Set<LspClient>();

  /** Kills every server a test left running. */
  static killAll(): void {
    for (const c of LspClient.running) c.child.kill('SIGKILL');
    LspClient.running.clear();
  }

  readonly child: ChildProcess;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: ((method: string, params: unknown) => void)[] = [];
  /** The latest diagnostics per URI. */
  readonly diagnostics = new Map<string, Published>();
  readonly notifications: { method: string; params: unknown }[] = [];
  stderr = '';
  exited: Promise<number | null>;

  constructor(args: string[] = ['lsp', '--stdio'], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdout!.on('data', (d: Buffer) => this.read(d));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin!.on('error', () => undefined);
    LspClient.running.add(this);
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.exited.then(() => LspClient.running.delete(this));
    this.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`the server exited during ${p.method}: ${this.stderr}`));
      this.pending.clear();
    });
  }

  private read(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const head = this.buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /Content-Length: *(\d+)/i.exec(this.buffer.subarray(0, head).toString('ascii'));
      if (!m) throw new Error(`bad header: ${this.buffer.subarray(0, head)}`);
      const length = Number(m[1]);
      if (this.buffer.length < head + 4 + length) return;
      const body = JSON.parse(this.buffer.subarray(head + 4, head + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(head + 4 + length);
      this.dispatch(body);
    }
  }

  private dispatch(msg: { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } }): void {
    if (msg.method !== undefined && msg.id !== undefined) {
      // A request from the server (workspace/configuration, refreshes): answer as a plain client would.
      const result = msg.method === 'workspace/configuration' ? (msg.params as { items: unknown[] }).items.map(() => this.settings) : null;
      this.send({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    if (msg.method !== undefined) {
      this.notifications.push({ method: msg.method, params: msg.params });
      if (msg.method === 'textDocument/publishDiagnostics') {
        const p = msg.params as Published;
        this.diagnostics.set(p.uri, p);
      }
      for (const l of this.listeners) l(msg.method, msg.params);
      return;
    }
    const p = this.pending.get(msg.id!);
    if (!p) return;
    this.pending.delete(msg.id!);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  }

  /** What `workspace/configuration` answers for the `convlens` section. */
  settings: unknown = null;

  private send(msg: object): void {
    const body = Buffer.from(JSON.stringify(msg), 'utf8');
    this.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  }

  request<T = unknown>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Sends a request and returns its id, so the test can cancel it. */
  requestWithId<T = unknown>(method: string, params: unknown): { id: number; result: Promise<T> } {
    const id = this.nextId;
    return { id, result: this.request<T>(method, params) };
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Resolves with the first notification of `method` whose params satisfy `test`. */
  waitFor<T>(method: string, test: (p: T) => boolean = () => true, timeoutMs = 10000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      const l = (m: string, p: unknown) => {
        if (m === method && test(p as T)) {
          clearTimeout(timer);
          this.listeners.splice(this.listeners.indexOf(l), 1);
          resolve(p as T);
        }
      };
      this.listeners.push(l);
    });
  }

  async initialize(options: { initializationOptions?: unknown; configuration?: boolean } = {}): Promise<{ capabilities: Record<string, unknown>; serverInfo?: { name: string } }> {
    const r = await this.request<{ capabilities: Record<string, unknown>; serverInfo?: { name: string } }>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: { workspace: { configuration: options.configuration ?? false }, textDocument: { publishDiagnostics: {}, inlayHint: {}, hover: { contentFormat: ['markdown'] } } },
      initializationOptions: options.initializationOptions,
    });
    this.notify('initialized', {});
    return r;
  }

  open(uri: string, text: string, version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version, text } });
  }

  change(uri: string, version: number, changes: unknown[]): void {
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  /** Diagnostics for `uri` once they satisfy `test`. */
  async diagnosticsFor(uri: string, test: (p: Published) => boolean = () => true, timeoutMs = 10000): Promise<Published> {
    const have = this.diagnostics.get(uri);
    if (have && test(have)) return have;
    return this.waitFor<Published>('textDocument/publishDiagnostics', (p) => p.uri === uri && test(p), timeoutMs);
  }

  async close(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    try {
      await this.request('shutdown', null);
      this.notify('exit', null);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
