/**
 * The Node side of device selection: what this machine's onnxruntime-node offers (its backend
 * list and which unbundled provider libraries are installed), the execution providers for each
 * device, and opening sessions device by device until one works: a device that cannot be had (no
 * adapter, no driver, CUDA libraries not installed) becomes a warning and the next device, down
 * to the CPU, never a crash. The decisions themselves are pure (core/train/device.ts).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEVICE_LABEL, describeDeviceFailure, type BackendInfo, type Device, type DeviceFacts, type DevicePlan } from '../core/train/device';

/** The provider library each unbundled backend needs beside onnxruntime (as its install script puts it there). */
function providerLibrary(backend: string, platform: string): string {
  return platform === 'win32' ? `onnxruntime_providers_${backend}.dll` : `libonnxruntime_providers_${backend}.so`;
}

/** The folder onnxruntime-node loads its native libraries from on this platform, if found. */
export function ortBinaryFolder(platform = process.platform, arch = process.arch): string | undefined {
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(root, 'bin', 'napi-v6', platform, arch);
  } catch {
    return undefined;
  }
}

/** What onnxruntime-node offers on this machine. */
export function deviceFacts(): DeviceFacts {
  let backends: BackendInfo[] = [{ name: 'cpu', bundled: true }];
  try {
    backends = ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    // An older binding without the list: only the CPU is certain.
  }
  const folder = ortBinaryFolder();
  const installed = backends.filter((b) => !b.bundled && folder !== undefined && existsSync(path.join(folder, providerLibrary(b.name, process.platform)))).map((b) => b.name);
  return { backends, installed, platform: process.platform };
}

/**
 * onnxruntime's execution providers for `device`, the CPU last so that nodes the device has no
 * kernel for run there (onnxruntime's per-node fallback). The CPU alone is the plain option set
 * (no `executionProviders` at all), exactly as before devices existed.
 */
export function executionProviders(device: Device): ort.InferenceSession.ExecutionProviderConfig[] | undefined {
  switch (device) {
    case 'cpu':
      return undefined;
    case 'cuda':
      return [{ name: 'cuda', deviceId: 0 }, 'cpu'];
    case 'dml':
      return [{ name: 'dml', deviceId: 0 }, 'cpu'];
    case 'webgpu':
      return [{ name: 'webgpu' }, 'cpu'];
  }
}

/** Session options a device needs besides its providers (DirectML runs without memory patterns, as its documentation asks). */
export function deviceSessionOptions(device: Device): Partial<ort.InferenceSession.SessionOptions> {
  const providers = executionProviders(device);
  if (!providers) return {};
  return { executionProviders: providers, ...(device === 'dml' ? { enableMemPattern: false } : {}) };
}

/** A value opened on a device, and what the user should be told about how it got there. */
export interface Opened<T> {
  value: T;
  device: Device;
  /** What was tried and why (for the log). */
  notes: string[];
  /** Devices asked for that could not be had, with onnxruntime's reason. */
  warnings: string[];
}

/**
 * Opens `open(device)` on each device of `plan` in turn until one succeeds. A failure on a
 * device other than the CPU is a warning naming the device and onnxruntime's error, then the
 * next device; a failure on the CPU is the caller's error, as it always was.
 */
export async function openOnDevice<T>(plan: DevicePlan, open: (device: Device) => Promise<T>): Promise<Opened<T>> {
  const notes: string[] = [];
  const warnings: string[] = [];
  if (plan.request !== 'cpu') (plan.unavailable.length > 0 && plan.request !== 'auto' ? warnings : notes).push(plan.reason);
  for (let i = 0; i < plan.tries.length; i++) {
    const device = plan.tries[i];
    try {
      const value = await open(device);
      if (plan.request === 'auto') notes.push(`--device auto picked ${DEVICE_LABEL[device]}`);
      return { value, device, notes, warnings };
    } catch (e) {
      if (device === 'cpu') throw e;
      const next = plan.tries[i + 1];
      warnings.push(`${DEVICE_LABEL[device]} could not be used: ${describeDeviceFailure(device, (e as Error)?.message ?? String(e))}; ${next === 'cpu' ? 'training on the CPU instead' : `trying ${DEVICE_LABEL[next]}`}`);
    }
  }
  throw new Error('no device to train on'); // unreachable: every plan ends with the CPU
}
