/**
 * The PyTorch peer of `npm run bench`: Debian's python3-torch in a child process
 * (test/bench/peer/torchPeer.py) that trains a model's PyTorch twin when asked, so the bench
 * can alternate ConvLens and PyTorch steps in one run. Absent when `/usr/bin/python3 -c
 * "import torch"` fails; the bench then says so and prints ConvLens' figures alone.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'peer', 'torchPeer.py');

/** PyTorch's version, or why the peer is unavailable. */
export function torchAvailable(): { version: string } | { missing: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { missing: `${PYTHON} is not installed` };
  if (r.status !== 0) return { missing: `${PYTHON} cannot import torch (apt-get install python3-torch)` };
  return { version: r.stdout.trim() };
}

export class TorchPeer {
  private readonly lines: AsyncIterableIterator<string>;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts a peer training `twin` (a .torch.py file) at `batch` with `threads` threads. */
  static async start(twin: string, batch: number, threads: number): Promise<TorchPeer> {
    // OpenMP reads its thread count at start-up; torch.set_num_threads sets the rest.
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const child = spawn(PYTHON, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.setEncoding('utf8');
    let stderr = '';
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const peer = new TorchPeer(child);
    const r = await peer.ask({ cmd: 'setup', twin, batch, threads }).catch((e: Error) => {
      throw new Error(`${e.message}${stderr ? `\n${stderr}` : ''}`);
    });
    if (r.threads !== threads) throw new Error(`PyTorch runs ${String(r.threads)} threads, not ${threads}`);
    return peer;
  }

  async ask(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(req)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error('the PyTorch peer exited');
    const res = JSON.parse(next.value) as Record<string, unknown>;
    if (typeof res.error === 'string') throw new Error(`PyTorch peer: ${res.error}`);
    return res;
  }

  /** Runs `n` training steps; each one's wall time in milliseconds. */
  async steps(n: number): Promise<number[]> {
    return (await this.ask({ cmd: 'steps', n })).ms as number[];
  }

  /** One shuffled epoch over the first `samples` training images of real MNIST. */
  async mnistEpoch(folder: string, samples: number): Promise<number> {
    return (await this.ask({ cmd: 'epoch', mnist: folder, samples })).seconds as number;
  }

  async peakRssMb(): Promise<number> {
    return (await this.ask({ cmd: 'rss' })).peak_rss_mb as number;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
