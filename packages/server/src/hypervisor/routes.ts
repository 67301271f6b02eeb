import { hypervisorRoutes as contracts, type RunResult, type Vm } from '@aether/protocol';

import { ValidationError } from '../shared/errors/index.js';
import { defineHandler, requireTenant, type RouteDefinition } from '../shared/http/index.js';
import type { ExecService, RunOutcome } from './exec/index.js';
import type { ExecResult } from './sandbox/index.js';
import type { VmManager, VmRecord } from './vm/index.js';

export interface HypervisorRoutesDeps {
  readonly vms: VmManager;
  readonly exec: ExecService;
}

function vmJson(record: VmRecord): Vm {
  return {
    id: record.id,
    tenant_id: record.tenantId,
    type: record.type,
    driver: record.driver,
    state: record.state,
    vcpus: record.vcpus,
    memory_mb: record.memoryMb,
    classification: record.classification,
    image: record.image,
    created_at: record.createdAt.toISOString(),
    expires_at: record.expiresAt.toISOString(),
    stopped_at: record.stoppedAt?.toISOString() ?? null,
  };
}

function runJson(result: ExecResult | RunOutcome): RunResult {
  return {
    exit_code: result.exitCode,
    stdout: typeof result.stdout === 'string' ? result.stdout : result.stdout.toString('utf8'),
    stderr: typeof result.stderr === 'string' ? result.stderr : result.stderr.toString('utf8'),
    timed_out: result.timedOut,
    oom_killed: result.oomKilled,
    truncated: result.truncated,
    duration_ms: result.durationMs,
  };
}

/** `/v1/vms` (+ exec and files) and `/v1/exec`. */
export function hypervisorRoutes(deps: HypervisorRoutesDeps): RouteDefinition[] {
  const read = { kind: 'tenant', permission: 'vms:read' } as const;
  const write = { kind: 'tenant', permission: 'vms:write' } as const;
  return [
    defineHandler(contracts.listVms, read, async (request) => ({ items: (await deps.vms.list(requireTenant(request))).map(vmJson) })),
    defineHandler(contracts.createVm, write, async (request) => {
      const { type, vcpus, memory_mb: memoryMb, ttl_seconds: ttlSeconds, classification } = request.body;
      return vmJson(await deps.vms.create(requireTenant(request), { type, ...(vcpus === undefined ? {} : { vcpus }), ...(memoryMb === undefined ? {} : { memoryMb }), ...(ttlSeconds === undefined ? {} : { ttlSeconds }), ...(classification === undefined ? {} : { classification }) }));
    }),
    defineHandler(contracts.getVm, read, async (request) => vmJson(await deps.vms.get(requireTenant(request), request.params.vmId))),
    defineHandler(contracts.stopVm, write, async (request) => vmJson(await deps.vms.stop(requireTenant(request), request.params.vmId))),
    defineHandler(contracts.deleteVm, write, async (request) => {
      await deps.vms.destroy(requireTenant(request), request.params.vmId);
      return {};
    }),
    defineHandler(contracts.execVm, write, async (request) => {
      const { argv, stdin, env, cwd, timeout_ms: timeoutMs } = request.body;
      const result = await deps.vms.exec(requireTenant(request), request.params.vmId, { argv, ...(stdin === undefined ? {} : { stdin }), ...(env === undefined ? {} : { env }), ...(cwd === undefined ? {} : { cwd }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      return { ...runJson(result), driver: result.driver, image: result.image };
    }),
    defineHandler(contracts.writeVmFile, write, async (request) => {
      await deps.vms.upload(requireTenant(request), request.params.vmId, { path: request.body.path, data: Buffer.from(request.body.content_base64, 'base64') });
      return {};
    }),
    defineHandler(contracts.readVmFile, read, async (request) => {
      const ctx = requireTenant(request);
      await deps.vms.get(ctx, request.params.vmId);
      const path = request.query.path;
      if (path === undefined) throw new ValidationError('query parameter path is required', { field: 'path' });
      const data = await deps.vms.download(ctx, request.params.vmId, { path, maxBytes: 16 * 1024 * 1024 });
      return { path, content_base64: data.toString('base64'), size: data.length };
    }),
    defineHandler(contracts.runExec, { kind: 'tenant', permission: 'exec:run' }, async (request) => {
      const body = request.body;
      const limits = body.limits;
      const result = await deps.exec.run(requireTenant(request), {
        language: body.language,
        ...(body.source === undefined ? {} : { source: body.source }),
        ...(body.files === undefined ? {} : { files: body.files }),
        ...(body.stdin === undefined ? {} : { stdin: body.stdin }),
        ...(body.args === undefined ? {} : { args: body.args }),
        ...(body.tests === undefined ? {} : { tests: body.tests.map((test) => ({ expectedStdout: test.expected_stdout, ...(test.name === undefined ? {} : { name: test.name }), ...(test.stdin === undefined ? {} : { stdin: test.stdin }), ...(test.args === undefined ? {} : { args: test.args }) })) }),
        ...(limits === undefined ? {} : { limits: { ...(limits.cpus === undefined ? {} : { cpus: limits.cpus }), ...(limits.memory_mb === undefined ? {} : { memoryMb: limits.memory_mb }), ...(limits.timeout_seconds === undefined ? {} : { timeoutSeconds: limits.timeout_seconds }) } }),
      });
      return {
        compile: result.compile,
        run: result.run ? runJson(result.run) : null,
        tests: result.tests.map((test) => ({ name: test.name, passed: test.passed, run: runJson(test.run) })),
        vm_id: result.vmId,
        driver: result.driver,
        image: result.image,
      };
    }),
  ];
}
