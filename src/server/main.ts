import { createConnection } from 'vscode-languageserver/node';
import { startServer } from './server';

/**
 * `convlens lsp --stdio` (also `--node-ipc`, `--socket=PORT`, as vscode-languageserver reads them
 * from the command line). Exits when the client closes the connection.
 */
export function runLanguageServer(): void {
  // A client that disappears leaves a closed pipe: leave quietly rather than on an EPIPE trace.
  process.stdout.on('error', () => process.exit(0));
  const connection = createConnection();
  startServer(connection);
}
