import { isMessage, type Message, type Notification } from '../../src/core/protocol/messages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/** Sends one typed message to the extension host (never a raw postMessage). */
export function post<P extends object>(type: Notification<P>, params: P): void {
  vscode.postMessage(type.create(params));
}

type Handler = (m: Message) => void;
const handlers: [Notification<object>, Handler][] = [];

/** Registers a handler for one message type; messages that fail validation are reported, not handled. */
export function on<P extends object>(type: Notification<P>, handler: (params: P) => void): void {
  handlers.push([type as unknown as Notification<object>, (m) => handler(m.params as P)]);
}

export function listen(onInvalid: (why: string) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const m = e.data;
    if (!isMessage(m)) return;
    const matches = handlers.filter(([t]) => t.method === m.method);
    if (!matches.length) return;
    const problem = matches[0][0].problem(m);
    if (problem) {
      onInvalid(`ignored a malformed ${m.method} message: ${problem}`);
      return;
    }
    // Every view that registered for this message gets it.
    for (const [, handler] of matches) handler(m);
  });
}

export const saveState = (s: unknown): void => vscode.setState(s);
export const loadState = <T>(): T | undefined => vscode.getState() as T | undefined;
