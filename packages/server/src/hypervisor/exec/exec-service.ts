import type { AuditSink } from '../../infra/audit/index.js';
import type { TenantContext } from '../../shared/context/index.js';
import { ValidationError } from '../../shared/errors/index.js';
import type { DriverName, ExecResult } from '../sandbox/index.js';
import type { VmManager } from '../vm/index.js';
import { assertToolchain, LANGUAGE_SPECS, type Language } from './languages.js';

/** The hard ceiling of any compile-and-run request (spec §07 tool limits). */
export const EXEC_LIMITS = { maxCpus: 4, maxMemoryMb: 8192, maxTimeoutSeconds: 300, maxSourceBytes: 1024 * 1024, maxFiles: 64, maxTests: 50, maxOutputBytes: 1024 * 1024 } as const;

export interface ExecTestCase {
  readonly name?: string;
  readonly stdin?: string;
  readonly args?: readonly string[];
  readonly expectedStdout: string;
}

export interface CompileAndRunInput {
  readonly language: Language;
  readonly source?: string;
  /** Extra or alternative files, by relative path; `source` goes to the language's main file. */
  readonly files?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly args?: readonly string[];
  readonly tests?: readonly ExecTestCase[];
  readonly limits?: { readonly cpus?: number; readonly memoryMb?: number; readonly timeoutSeconds?: number };
}

export interface RunOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly oomKilled: boolean;
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface CompileAndRunResult {
  readonly compile: { readonly ok: boolean; readonly output: string };
  readonly run: RunOutcome | null;
  readonly tests: readonly { readonly name: string; readonly passed: boolean; readonly run: RunOutcome }[];
  readonly vmId: string;
  readonly driver: DriverName;
  readonly image: string;
}

function outcome(result: ExecResult): RunOutcome {
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    timedOut: result.timedOut,
    oomKilled: result.oomKilled,
    truncated: result.truncated,
    durationMs: result.durationMs,
  };
}

/**
 * Compile and run (spec §07): writes the sources into a fresh MicroVM, compiles, runs with the
 * given stdin and args, runs each test case, and destroys the VM. Every step shares one wall-time
 * budget.
 */
export class ExecService {
  readonly #vms: VmManager;
  readonly #audit: AuditSink;
  readonly #usrDir: string;

  constructor(deps: { vms: VmManager; audit: AuditSink; usrDir: string }) {
    this.#vms = deps.vms;
    this.#audit = deps.audit;
    this.#usrDir = deps.usrDir;
  }

  /**
   * @throws {ValidationError} for limits above the maximum, oversize or missing sources.
   * @throws {ToolchainMissingError} when the host lacks the language's toolchain.
   * @throws {VmQuotaExceededError} @throws {SandboxIsolationUnavailableError}
   */
  async run(ctx: TenantContext, input: CompileAndRunInput): Promise<CompileAndRunResult> {
    const spec = LANGUAGE_SPECS[input.language];
    const cpus = input.limits?.cpus ?? 1;
    const memoryMb = input.limits?.memoryMb ?? spec.defaultMemoryMb;
    const timeoutSeconds = input.limits?.timeoutSeconds ?? 30;
    if (cpus <= 0 || cpus > EXEC_LIMITS.maxCpus) throw new ValidationError(`limits.cpus must be 1–${String(EXEC_LIMITS.maxCpus)}`, { field: 'limits.cpus' });
    if (memoryMb < 64 || memoryMb > EXEC_LIMITS.maxMemoryMb) throw new ValidationError(`limits.memory_mb must be 64–${String(EXEC_LIMITS.maxMemoryMb)}`, { field: 'limits.memory_mb' });
    if (timeoutSeconds <= 0 || timeoutSeconds > EXEC_LIMITS.maxTimeoutSeconds) throw new ValidationError(`limits.timeout_seconds must be at most ${String(EXEC_LIMITS.maxTimeoutSeconds)}`, { field: 'limits.timeout_seconds' });
    const files: Record<string, string> = { ...input.files };
    if (input.source !== undefined) files[spec.mainFile] = input.source;
    if (files[spec.mainFile] === undefined) throw new ValidationError(`source (or files["${spec.mainFile}"]) is required`, { field: 'source' });
    const totalBytes = Object.values(files).reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    if (totalBytes > EXEC_LIMITS.maxSourceBytes) throw new ValidationError(`sources total ${String(totalBytes)} bytes; the limit is ${String(EXEC_LIMITS.maxSourceBytes)}`, { field: 'source' });
    if (Object.keys(files).length > EXEC_LIMITS.maxFiles) throw new ValidationError(`at most ${String(EXEC_LIMITS.maxFiles)} files`, { field: 'files' });
    if ((input.tests?.length ?? 0) > EXEC_LIMITS.maxTests) throw new ValidationError(`at most ${String(EXEC_LIMITS.maxTests)} tests`, { field: 'tests' });
    await assertToolchain(spec, this.#usrDir);

    const deadline = performance.now() + timeoutSeconds * 1000;
    const remaining = (): number => Math.max(1, Math.round(deadline - performance.now()));
    const vm = await this.#vms.createSized(ctx, { type: 'microvm', vcpus: cpus, memoryMb, ttlSeconds: timeoutSeconds + 60, classification: 'internal', network: false });
    try {
      for (const [path, text] of Object.entries(files)) await this.#vms.upload(ctx, vm.id, { path, data: text });
      let compile = { ok: true, output: '' };
      if (spec.compile) {
        const built = await this.#vms.exec(ctx, vm.id, { argv: spec.compile, timeoutMs: remaining(), outputCapBytes: EXEC_LIMITS.maxOutputBytes });
        compile = { ok: built.exitCode === 0 && !built.timedOut, output: (built.stdout.toString('utf8') + built.stderr.toString('utf8')).slice(0, 64 * 1024) };
      }
      let run: RunOutcome | null = null;
      const tests: { name: string; passed: boolean; run: RunOutcome }[] = [];
      if (compile.ok) {
        run = outcome(await this.#vms.exec(ctx, vm.id, { argv: [...spec.run, ...(input.args ?? [])], stdin: input.stdin ?? '', timeoutMs: remaining(), outputCapBytes: EXEC_LIMITS.maxOutputBytes }));
        for (const [index, test] of (input.tests ?? []).entries()) {
          const result = outcome(await this.#vms.exec(ctx, vm.id, { argv: [...spec.run, ...(test.args ?? [])], stdin: test.stdin ?? '', timeoutMs: remaining(), outputCapBytes: EXEC_LIMITS.maxOutputBytes }));
          tests.push({ name: test.name ?? `test ${String(index + 1)}`, passed: result.exitCode === 0 && result.stdout.trimEnd() === test.expectedStdout.trimEnd(), run: result });
        }
      }
      await this.#audit.append(ctx, {
        kind: 'exec.completed',
        subject: { vm_id: vm.id },
        payload: { language: input.language, compile_ok: compile.ok, exit_code: run?.exitCode ?? null, timed_out: run?.timedOut ?? false, tests_passed: tests.filter((t) => t.passed).length, tests_total: tests.length, driver: vm.driver, image: vm.image },
      });
      return { compile, run, tests, vmId: vm.id, driver: vm.driver, image: vm.image };
    } finally {
      await this.#vms.destroy(ctx, vm.id);
    }
  }
}
