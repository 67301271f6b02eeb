import { z } from 'zod';

import { emptyResponseSchema, isoTimestamp } from './common.js';
import { defineRoute } from './contract.js';

export const vmTypeSchema = z.enum(['microvm', 'devvm', 'agentvm', 'securevm']);
export type VmType = z.infer<typeof vmTypeSchema>;
export const classificationSchema = z.enum(['public', 'internal', 'restricted', 'critical']);

export const vmSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  type: vmTypeSchema,
  driver: z.enum(['gvisor', 'bwrap', 'process']),
  state: z.enum(['running', 'stopped', 'destroyed']),
  vcpus: z.number(),
  memory_mb: z.number(),
  classification: classificationSchema,
  image: z.string(),
  created_at: isoTimestamp,
  expires_at: isoTimestamp,
  stopped_at: isoTimestamp.nullable(),
});
export type Vm = z.infer<typeof vmSchema>;

export const createVmRequestSchema = z.strictObject({
  type: vmTypeSchema,
  vcpus: z.number().int().min(1).max(4).optional(),
  memory_mb: z.number().int().min(64).max(8192).optional(),
  ttl_seconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
  classification: classificationSchema.optional(),
});

const envSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128), z.string().max(8192));

export const vmExecRequestSchema = z.strictObject({
  argv: z.array(z.string().max(64 * 1024)).min(1).max(1024),
  stdin: z.string().max(8 * 1024 * 1024).optional(),
  env: envSchema.optional(),
  cwd: z.string().startsWith('/').max(4096).optional(),
  timeout_ms: z.number().int().min(1).max(300_000).optional(),
});

export const runResultSchema = z.object({
  exit_code: z.number(),
  stdout: z.string(),
  stderr: z.string(),
  timed_out: z.boolean(),
  oom_killed: z.boolean(),
  truncated: z.boolean(),
  duration_ms: z.number(),
});
export type RunResult = z.infer<typeof runResultSchema>;

export const vmExecResponseSchema = runResultSchema.extend({ driver: z.string(), image: z.string() });

export const vmFileWriteRequestSchema = z.strictObject({
  path: z.string().min(1).max(4096),
  content_base64: z.base64().max(64 * 1024 * 1024),
});
// `path` is checked by the handler after the VM's ownership, so another tenant learns nothing.
export const vmFileQuerySchema = z.strictObject({ path: z.string().min(1).max(4096).optional() });
export const vmFileSchema = z.object({ path: z.string(), content_base64: z.string(), size: z.number() });

export const languageSchema = z.enum(['python', 'javascript', 'typescript', 'rust', 'c', 'cpp', 'bash']);
export type Language = z.infer<typeof languageSchema>;

export const execRequestSchema = z
  .strictObject({
    language: languageSchema,
    source: z.string().max(1024 * 1024).optional(),
    files: z.record(z.string().min(1).max(255).regex(/^[A-Za-z0-9_.][A-Za-z0-9_./-]*$/, 'relative file names only'), z.string().max(1024 * 1024)).optional(),
    stdin: z.string().max(8 * 1024 * 1024).optional(),
    args: z.array(z.string().max(4096)).max(256).optional(),
    tests: z.array(z.strictObject({ name: z.string().max(200).optional(), stdin: z.string().max(1024 * 1024).optional(), args: z.array(z.string().max(4096)).max(256).optional(), expected_stdout: z.string().max(1024 * 1024) })).max(50).optional(),
    limits: z.strictObject({ cpus: z.number().int().min(1).max(4).optional(), memory_mb: z.number().int().min(64).max(8192).optional(), timeout_seconds: z.number().int().min(1).max(300).optional() }).optional(),
  })
  .refine((body) => body.source !== undefined || body.files !== undefined, { message: 'source or files is required', path: ['source'] });

export const execResponseSchema = z.object({
  compile: z.object({ ok: z.boolean(), output: z.string() }),
  run: runResultSchema.nullable(),
  tests: z.array(z.object({ name: z.string(), passed: z.boolean(), run: runResultSchema })),
  vm_id: z.string(),
  driver: z.string(),
  image: z.string(),
});
export type ExecResponse = z.infer<typeof execResponseSchema>;

const vmParams = z.strictObject({ vmId: z.string().regex(/^vm_[0-9a-z]+$/, 'expected a VM id (vm_…)') });

/** VMs (spec §05) and compile-and-run (spec §07). */
export const hypervisorRoutes = {
  listVms: defineRoute({ method: 'GET', path: '/v1/vms', tag: 'vms', summary: 'List the tenant\'s VMs', response: z.object({ items: z.array(vmSchema) }) }),
  createVm: defineRoute({
    method: 'POST', path: '/v1/vms', tag: 'vms', successStatus: 201, summary: 'Create a VM (MicroVM, DevVM, AgentVM or SecureVM)',
    body: createVmRequestSchema, response: vmSchema, exampleBody: { type: 'microvm' },
  }),
  getVm: defineRoute({ method: 'GET', path: '/v1/vms/{vmId}', tag: 'vms', summary: 'Inspect a VM', params: vmParams, response: vmSchema }),
  stopVm: defineRoute({ method: 'POST', path: '/v1/vms/{vmId}/stop', tag: 'vms', summary: 'Stop a VM (its processes and sandbox go, the record stays)', params: vmParams, body: z.strictObject({}), response: vmSchema, exampleBody: {} }),
  deleteVm: defineRoute({ method: 'DELETE', path: '/v1/vms/{vmId}', tag: 'vms', summary: 'Destroy a VM', params: vmParams, response: emptyResponseSchema }),
  execVm: defineRoute({
    method: 'POST', path: '/v1/vms/{vmId}/exec', tag: 'vms', summary: 'Run a command in a VM',
    params: vmParams, body: vmExecRequestSchema, response: vmExecResponseSchema, exampleBody: { argv: ['echo', 'hello'] },
  }),
  writeVmFile: defineRoute({
    method: 'POST', path: '/v1/vms/{vmId}/files', tag: 'vms', summary: 'Write a file below the VM\'s /workspace',
    params: vmParams, body: vmFileWriteRequestSchema, response: emptyResponseSchema, exampleBody: { path: 'hello.txt', content_base64: 'aGVsbG8=' },
  }),
  readVmFile: defineRoute({ method: 'GET', path: '/v1/vms/{vmId}/files', tag: 'vms', summary: 'Read a file below the VM\'s /workspace', params: vmParams, query: vmFileQuerySchema, response: vmFileSchema }),
  runExec: defineRoute({
    method: 'POST', path: '/v1/exec', tag: 'exec', summary: 'Compile and run code in a fresh MicroVM, then run its tests',
    body: execRequestSchema, response: execResponseSchema, exampleBody: { language: 'python', source: 'print("hello")' },
  }),
} as const;
