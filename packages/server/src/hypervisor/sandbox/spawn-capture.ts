import { spawn, type StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';

/** What `spawnCaptured` returns; exit status and captured, capped output. */
export interface CapturedRun {
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly timedOut: boolean;
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface SpawnCapturedOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: Uint8Array | string | undefined;
  readonly timeoutMs: number;
  readonly outputCapBytes: number;
  readonly signal?: AbortSignal | undefined;
  /** Extra data handed to the child on fd 3 (bwrap's seccomp program), through a fresh pipe. */
  readonly fd3Data?: Buffer;
  readonly cwd?: string;
  /** Run in its own process group; `kill` then signals the whole group. */
  readonly detached?: boolean;
  /** How to stop it on timeout/overflow/abort; default SIGKILL to the child (or its group). */
  readonly kill?: (pid: number) => Promise<void> | void;
}

function collect(stream: Readable, cap: number, onOverflow: () => void): () => Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    if (chunk.length === 0) return;
    if (size >= cap) {
      onOverflow();
      return;
    }
    const room = cap - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size = cap;
      onOverflow();
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  return () => Buffer.concat(chunks);
}

/**
 * Spawns a child with fresh pipes (runsc may leave inherited descriptors non-blocking), feeds it
 * stdin, keeps at most `outputCapBytes` of each output stream and kills it at the wall-time
 * limit, on overflow, or on abort.
 */
export function spawnCaptured(options: SpawnCapturedOptions): Promise<CapturedRun> {
  const started = performance.now();
  const stdio: StdioOptions = options.fd3Data ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'];
  const child = spawn(options.command, [...options.args], {
    env: { ...options.env },
    stdio,
    detached: options.detached ?? false,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let timedOut = false;
  let truncated = false;
  let killed = false;
  const kill = (): void => {
    if (killed || child.pid === undefined) return;
    killed = true;
    const pid = child.pid;
    if (options.kill) {
      void Promise.resolve(options.kill(pid)).catch(() => undefined);
      return;
    }
    try {
      process.kill(options.detached ? -pid : pid, 'SIGKILL');
    } catch {
      // already exited
    }
  };
  const stdout = collect(child.stdout as Readable, options.outputCapBytes, () => {
    truncated = true;
    kill();
  });
  const stderr = collect(child.stderr as Readable, options.outputCapBytes, () => {
    truncated = true;
    kill();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  const onAbort = (): void => { kill(); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.fd3Data) {
    const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
    fd3?.on('error', () => undefined);
    fd3?.end(options.fd3Data);
  }
  child.stdin?.on('error', () => undefined); // EPIPE when the child does not read its input
  child.stdin?.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const signalNumber = signal ? (SIGNAL_NUMBERS[signal] ?? 9) : 0;
      resolve({
        exitCode: code ?? (signal ? 128 + signalNumber : -1),
        stdout: stdout(),
        stderr: stderr(),
        timedOut,
        truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6, SIGINT: 2, SIGXCPU: 24 };
