/** Isolation levels, weakest first. `gvisor` is a user-space kernel; `namespaces` is bubblewrap. */
export type IsolationLevel = 'none' | 'namespaces' | 'gvisor';

export const ISOLATION_ORDER: readonly IsolationLevel[] = ['none', 'namespaces', 'gvisor'];

/** True when `have` is at least as strong as `need`. */
export function isolationSatisfies(have: IsolationLevel, need: IsolationLevel): boolean {
  return ISOLATION_ORDER.indexOf(have) >= ISOLATION_ORDER.indexOf(need);
}

export type DriverName = 'bwrap' | 'gvisor' | 'process';

/** What `probe()` found on this host. */
export interface DriverProbe {
  readonly driver: DriverName;
  readonly available: boolean;
  readonly isolation: IsolationLevel;
  readonly version?: string;
  /** Why it is unavailable, or what it lacks (e.g. no cgroup controllers). */
  readonly detail: string;
}

/** The network a sandbox gets. `none`: loopback only. `proxy`: only the egress proxy, at `http_proxy`. */
export type SandboxNetwork =
  | { readonly mode: 'none' }
  | { readonly mode: 'proxy'; readonly attach: () => Promise<AttachedNetwork> };

/** A network namespace prepared for one sandbox, with the egress proxy reachable inside it. */
export interface AttachedNetwork {
  /** e.g. `/run/netns/<name>`; the sandbox joins it instead of getting an empty one. */
  readonly namespacePath: string;
  readonly proxyUrl: string;
  close(): Promise<void>;
}

/** What to create. Sizes are hard limits enforced by cgroups (or gVisor) where the driver can. */
export interface SandboxSpec {
  /** Unique name, `[a-zA-Z0-9_-]`; used for cgroup, bundle and state directory names. */
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMb: number;
  readonly pidsMax: number;
  /** Size cap of the per-exec writable `/tmp`. */
  readonly tmpfsMb: number;
  readonly network: SandboxNetwork;
  /** The weakest isolation this work may run under; a weaker driver refuses. */
  readonly requiredIsolation: IsolationLevel;
}

export interface ExecRequest {
  /** argv; resolved inside the sandbox's PATH. */
  readonly argv: readonly string[];
  readonly stdin?: Uint8Array | string;
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory inside the sandbox; default `/workspace`. */
  readonly cwd?: string;
  readonly timeoutMs: number;
  /** Bytes kept of stdout and of stderr each; past it the run is killed and `truncated` set. */
  readonly outputCapBytes: number;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** Exit status; 128+N when killed by signal N; -1 when killed by us before it reported. */
  readonly exitCode: number;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly timedOut: boolean;
  readonly oomKilled: boolean;
  readonly truncated: boolean;
  readonly durationMs: number;
}

/** A created sandbox. `/workspace` persists across execs until `destroy()`. */
export interface Sandbox {
  readonly name: string;
  readonly driver: DriverName;
  readonly isolation: IsolationLevel;
  exec(request: ExecRequest): Promise<ExecResult>;
  /** Writes a file below `/workspace` or `/tmp`-free paths; resolved inside the sandbox, so links cannot leave it. */
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** @throws {SandboxFileNotFoundError} @throws {SandboxPathInvalidError} */
  readFile(path: string, options?: { readonly maxBytes?: number }): Promise<Buffer>;
  /** Pids on the host still belonging to this sandbox (for leak checks). */
  processes(): Promise<number[]>;
  /** Kills everything and removes cgroups, namespaces, mounts and directories. Idempotent. */
  destroy(): Promise<void>;
}

/** A way to make sandboxes (bubblewrap, gVisor, plain processes; Firecracker would be another). */
export interface SandboxDriver {
  readonly name: DriverName;
  readonly isolation: IsolationLevel;
  /** Checks the driver can work here; `deep` also starts a throwaway sandbox (slower, for `aether doctor`). */
  probe(options?: { readonly deep?: boolean }): Promise<DriverProbe>;
  /** @throws {SandboxIsolationRefusedError} when `spec.requiredIsolation` is above this driver. */
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Waits for cleanup that `destroy()` left running in the background (runsc's slow `delete`). */
  settle(): Promise<void>;
}
