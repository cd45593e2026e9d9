/**
 * Where training runs. onnxruntime-node reports the backends its build has
 * (`listSupportedBackends()`: `{ name, bundled }`); ConvLens offers four of them as devices and
 * decides here, from that list and what the user asked for, which execution providers to try in
 * which order, and says why in words. Pure: the Node side (src/train/devices.ts) gathers the
 * facts, opens the sessions and falls back when a device cannot be had.
 */

/** The devices ConvLens can train on, by onnxruntime's backend names. */
export const DEVICES = ['cpu', 'webgpu', 'dml', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];
/** What the user may ask for: a device, or `auto` (the best this machine has). */
export type DeviceRequest = Device | 'auto';
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', ...DEVICES];

/** How each device is named to the user. */
export const DEVICE_LABEL: Record<Device, string> = { cpu: 'the CPU', webgpu: 'WebGPU', dml: 'DirectML', cuda: 'CUDA' };

/** One backend as onnxruntime-node's `listSupportedBackends()` reports it. */
export interface BackendInfo {
  name: string;
  /** Whether its libraries ship in the npm package (CUDA's and TensorRT's are downloaded at install). */
  bundled: boolean;
}

/** What this machine's onnxruntime-node offers. */
export interface DeviceFacts {
  backends: readonly BackendInfo[];
  /** Unbundled backends whose provider libraries are present beside onnxruntime (e.g. `cuda` after a cuda12 install). */
  installed: readonly string[];
  /** `process.platform`: linux, win32, darwin. */
  platform: string;
}

/** A device that cannot even be tried, and why. */
export interface Unavailable {
  device: Device;
  why: string;
}

/** The devices to try, in order, and why. */
export interface DevicePlan {
  request: DeviceRequest;
  /** Devices to try in this order; always ends with `cpu`. */
  tries: Device[];
  /** Requested (or, for `auto`, considered) devices that cannot be tried here. */
  unavailable: Unavailable[];
  /** One sentence for the log: what will be tried and why. */
  reason: string;
}

/** `auto` prefers the device most likely to be fast: CUDA, then DirectML, then WebGPU, then the CPU. */
const AUTO_ORDER: readonly Device[] = ['cuda', 'dml', 'webgpu'];

/** The request named by `text`, or undefined when it names none (the caller words the error). */
export function parseDeviceRequest(text: string): DeviceRequest | undefined {
  const t = text.trim().toLowerCase();
  return (DEVICE_REQUESTS as readonly string[]).includes(t) ? (t as DeviceRequest) : undefined;
}

/** Why `device` cannot be tried on this machine, or undefined when it can. */
export function whyUnavailable(device: Device, facts: DeviceFacts): string | undefined {
  if (device === 'cpu') return undefined;
  const backend = facts.backends.find((b) => b.name === device);
  if (!backend) {
    if (device === 'dml') return `DirectML is only in onnxruntime-node's Windows builds (this is ${facts.platform})`;
    if (device === 'cuda') return `onnxruntime-node has no CUDA backend for ${facts.platform} (its install script fetches the CUDA providers for Linux x64)`;
    return `this onnxruntime-node build (${facts.platform}) has no WebGPU backend`;
  }
  if (!backend.bundled && !facts.installed.includes(device)) {
    return `onnxruntime-node does not bundle the ${DEVICE_LABEL[device]} execution provider and it is not installed: reinstall with npm_config_onnxruntime_node_install=cuda12 (README: "Training on a GPU")`;
  }
  return undefined;
}

/** Which devices to try for `request` on a machine with `facts`, in order, with the reason. */
export function planDevice(request: DeviceRequest, facts: DeviceFacts): DevicePlan {
  if (request === 'cpu') return { request, tries: ['cpu'], unavailable: [], reason: 'training on the CPU (--device cpu)' };
  if (request !== 'auto') {
    const why = whyUnavailable(request, facts);
    if (why) return { request, tries: ['cpu'], unavailable: [{ device: request, why }], reason: `${DEVICE_LABEL[request]} cannot be used: ${why}; training on the CPU instead` };
    return { request, tries: [request, 'cpu'], unavailable: [], reason: `trying ${DEVICE_LABEL[request]} (--device ${request}), the CPU if it cannot be had` };
  }
  const unavailable: Unavailable[] = [];
  const tries: Device[] = [];
  for (const d of AUTO_ORDER) {
    const why = whyUnavailable(d, facts);
    if (why) unavailable.push({ device: d, why });
    else tries.push(d);
  }
  tries.push('cpu');
  const skipped = unavailable.map((u) => `${DEVICE_LABEL[u.device]}: ${u.why}`).join('; ');
  const reason =
    tries.length === 1
      ? `--device auto: no GPU backend can be tried here (${skipped}); training on the CPU`
      : `--device auto: trying ${tries.map((d) => DEVICE_LABEL[d]).join(', then ')}${skipped ? ` (not tried: ${skipped})` : ''}`;
  return { request, tries, unavailable, reason };
}

/**
 * Why opening a session on `device` failed, in the user's words, from onnxruntime's error
 * message (its first line is kept, so nothing it said is lost).
 */
export function describeDeviceFailure(device: Device, message: string): string {
  let first = message.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'no message';
  // onnxruntime prefixes its checks with the source file, function and condition
  // ('/onnxruntime_src/…/webgpu_context.cc:136 … was false. Failed to get a WebGPU adapter: …');
  // the sentence after them is what it has to say.
  const check = /^\S+\.(?:cc|h|cpp):\d+ .* was false\. (.+)$/.exec(first);
  if (check) first = check[1];
  const said = first.length > 300 ? `${first.slice(0, 300)}…` : first;
  let why: string;
  if (/adapter/i.test(message)) why = 'no WebGPU adapter was found (no GPU, or no Vulkan, Metal or Direct3D 12 driver for it)';
  else if (/backend not found/i.test(message)) why = `this onnxruntime-node build has no ${DEVICE_LABEL[device]} backend`;
  else if (/no CUDA-capable device|cudaErrorNoDevice|CUDA driver version is insufficient|cudaErrorInsufficientDriver/i.test(message)) why = 'no usable CUDA GPU or driver was found';
  else if (/load (shared )?library|cannot open shared object|LoadLibrary|libcudart|libcudnn|libcublas|\.so[.:]|\.dll/i.test(message))
    why = device === 'cuda' ? 'the CUDA libraries could not be loaded (onnxruntime 1.30 needs CUDA 12 and cuDNN 9 on the library path)' : `the ${DEVICE_LABEL[device]} libraries could not be loaded`;
  else if (/out of memory|OOM|alloc/i.test(message)) why = 'the device ran out of memory';
  else why = `${DEVICE_LABEL[device]} refused the model`;
  return `${why} (onnxruntime: ${said})`;
}

/** onnxruntime's execution provider names (what its profile records per node) and the device each belongs to. */
const PROVIDER_DEVICE: Record<string, Device> = {
  CPUExecutionProvider: 'cpu',
  WebGpuExecutionProvider: 'webgpu',
  JsExecutionProvider: 'webgpu',
  DmlExecutionProvider: 'dml',
  CUDAExecutionProvider: 'cuda',
  TensorrtExecutionProvider: 'cuda',
};

/** Where a session's nodes ran, from one run's onnxruntime profile. */
export interface Placement {
  /** Nodes per device. */
  nodes: Partial<Record<Device, number>>;
  /** Nodes of other providers, by provider name. */
  other: Record<string, number>;
  /** Operator types that ran on the CPU (with counts) while another device ran the rest. */
  onCpu: Record<string, number>;
  /** Copies between device and host onnxruntime inserted (MemcpyToHost / MemcpyFromHost nodes). */
  copies: number;
}

/**
 * Reads where each node ran from onnxruntime profile events (a parsed profile JSON: events with
 * `cat: 'Node'` and `args.provider`, `args.op_name`); each node is counted once, however many
 * runs the profile holds.
 */
export function placementOf(events: readonly unknown[]): Placement {
  const seen = new Set<string>();
  const p: Placement = { nodes: {}, other: {}, onCpu: {}, copies: 0 };
  const ops: { op: string; device: Device | undefined }[] = [];
  for (const e of events) {
    if (!e || typeof e !== 'object') continue;
    const ev = e as { cat?: unknown; name?: unknown; args?: { provider?: unknown; op_name?: unknown } };
    if (ev.cat !== 'Node' || typeof ev.name !== 'string' || !ev.name.endsWith('_kernel_time')) continue;
    const provider = ev.args?.provider;
    const op = ev.args?.op_name;
    if (typeof provider !== 'string' || typeof op !== 'string' || seen.has(ev.name)) continue;
    seen.add(ev.name);
    if (op === 'MemcpyToHost' || op === 'MemcpyFromHost') {
      p.copies++;
      continue;
    }
    const device = PROVIDER_DEVICE[provider];
    if (device) p.nodes[device] = (p.nodes[device] ?? 0) + 1;
    else p.other[provider] = (p.other[provider] ?? 0) + 1;
    ops.push({ op, device });
  }
  if (Object.keys(p.nodes).some((d) => d !== 'cpu') || Object.keys(p.other).length > 0) {
    for (const { op, device } of ops) if (device === 'cpu') p.onCpu[op] = (p.onCpu[op] ?? 0) + 1;
  }
  return p;
}

/** One line for the log: how many nodes `device` ran, and which ran on the CPU instead. */
export function describePlacement(device: Device, p: Placement): string {
  const total = Object.values(p.nodes).reduce((a, b) => a + (b ?? 0), 0) + Object.values(p.other).reduce((a, b) => a + b, 0);
  const mine = p.nodes[device] ?? 0;
  if (device === 'cpu') return `all ${total} nodes ran on the CPU`;
  const cpuOps = Object.entries(p.onCpu)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([op, n]) => (n > 1 ? `${op} ×${n}` : op));
  const parts = [`${DEVICE_LABEL[device]} ran ${mine} of ${total} nodes of the training step`];
  if (cpuOps.length > 0) parts.push(`the CPU ran ${p.nodes.cpu ?? 0} that ${DEVICE_LABEL[device]} has no kernel for (${cpuOps.join(', ')})`);
  for (const [provider, n] of Object.entries(p.other)) parts.push(`${provider} ran ${n}`);
  if (p.copies > 0) parts.push(`${p.copies} cop${p.copies === 1 ? 'y' : 'ies'} between device and host per step`);
  return parts.join('; ');
}
