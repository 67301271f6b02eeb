import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AetherApiError } from '@aether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../../src/cli/index.js';
import { errorOf } from '../support/api-errors.js';
import { startTestPlatform, type TestPlatform } from '../support/test-app.js';

let platform: TestPlatform;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'aether-e2e-sandboxes-'));
  await chmod(stateDir, 0o711);
  // A warm MicroVM pool, so /v1/exec takes the pooled path too.
  platform = await startTestPlatform({ env: { AETHER_HYPERVISOR_STATE_DIR: stateDir, AETHER_HYPERVISOR_POOL: 'microvm=1' } });
}, 120_000);
afterAll(async () => {
  await platform.close();
  await rm(stateDir, { recursive: true, force: true });
}, 120_000);

// bwrap and runsc need root here (per-sandbox uids, cgroups); CI runs as root.
describe.runIf(process.getuid?.() === 0)('hypervisor end to end', () => {
  it('compiles and runs python, c and bash through POST /v1/exec, with tests', async () => {
    const client = platform.client();
    const python = await client.runExec({ body: { language: 'python', source: 'import sys\nprint("hello", sys.stdin.read().strip())', stdin: 'world', tests: [{ stdin: 'a', expected_stdout: 'hello a' }, { stdin: 'b', expected_stdout: 'nope' }] } });
    expect(python.compile.ok).toBe(true);
    expect(python.run).toMatchObject({ exit_code: 0, stdout: 'hello world\n', timed_out: false, oom_killed: false, truncated: false });
    expect(python.tests.map((test) => test.passed)).toEqual([true, false]);
    expect(python.image).toBe('host');
    const c = await client.runExec({ body: { language: 'c', source: '#include <stdio.h>\nint main(int argc, char **argv){ printf("%d\\n", argc); return 3; }', args: ['x', 'y'] } });
    expect(c.run).toMatchObject({ exit_code: 3, stdout: '3\n' });
    const broken = await client.runExec({ body: { language: 'c', source: 'int main( {' } });
    expect(broken.compile.ok).toBe(false);
    expect(broken.compile.output).toContain('error');
    expect(broken.run).toBeNull();
    const bash = await client.runExec({ body: { language: 'bash', source: 'echo $((6*7))' } });
    expect(bash.run?.stdout).toBe('42\n');
    const metrics = await (await fetch(`${platform.url}/metrics`)).text();
    expect(metrics).toMatch(/aether_hypervisor_vms\{counter="execs"\} [1-9]/);
    expect(metrics).toMatch(/aether_hypervisor_vms\{counter="pool_hits"\} [1-9]/);
  }, 120_000);

  it('reports a wall-time kill', async () => {
    const result = await platform.client().runExec({ body: { language: 'python', source: 'while True: pass', limits: { timeout_seconds: 2 } } });
    expect(result.run).toMatchObject({ timed_out: true });
  }, 60_000);

  it('answers bad requests with 4xx: unknown language, limits above the maximum, oversize source, missing toolchain', async () => {
    const client = platform.client();
    const unknown = await errorOf(client.call({ ...(await import('@aether/protocol')).hypervisorRoutes.runExec }, { body: { language: 'cobol', source: 'x' } as never }));
    expect(unknown.status).toBe(400);
    expect((await errorOf(client.runExec({ body: { language: 'python', source: 'x', limits: { memory_mb: 9000 } } }))).status).toBe(400);
    expect((await errorOf(client.runExec({ body: { language: 'python', source: 'x', limits: { cpus: 5 } } }))).status).toBe(400);
    expect((await errorOf(client.runExec({ body: { language: 'python', source: 'x', limits: { timeout_seconds: 301 } } }))).status).toBe(400);
    const oversize = await errorOf(client.runExec({ body: { language: 'python', source: 'x'.repeat(1024 * 1024 + 1) } }));
    expect(oversize.status).toBeGreaterThanOrEqual(400);
    expect(oversize.status).toBeLessThan(500);
    // Sandboxes see only /usr: a rustup install in ~/.cargo does not count.
    if (!existsSync('/usr/bin/rustc')) {
      const rust = await errorOf(client.runExec({ body: { language: 'rust', source: 'fn main(){}' } }));
      expect(rust.status).toBe(400);
      expect(rust.code).toBe('TOOLCHAIN_MISSING');
      expect(rust.details).toMatchObject({ package: 'rustc' });
    }
  }, 60_000);

  it('creates a DevVM, runs commands, moves files, and destroys it', async () => {
    const client = platform.client();
    const vm = await client.createVm({ body: { type: 'devvm' } });
    expect(vm).toMatchObject({ type: 'devvm', driver: 'bwrap', state: 'running', vcpus: 2, memory_mb: 2048 });
    await client.writeVmFile({ params: { vmId: vm.id }, body: { path: 'src/hello.txt', content_base64: Buffer.from('hi there').toString('base64') } });
    const ran = await client.execVm({ params: { vmId: vm.id }, body: { argv: ['/bin/sh', '-c', 'cat src/hello.txt; echo made > out.txt'] } });
    expect(ran).toMatchObject({ exit_code: 0, stdout: 'hi there', driver: 'bwrap', image: 'host' });
    const file = await client.readVmFile({ params: { vmId: vm.id }, query: { path: 'out.txt' } });
    expect(Buffer.from(file.content_base64, 'base64').toString()).toBe('made\n');
    expect((await errorOf(client.readVmFile({ params: { vmId: vm.id }, query: { path: '../../etc/passwd' } }))).code).toBe('SANDBOX_PATH_INVALID');
    expect((await client.listVms({})).items.map((item) => item.id)).toContain(vm.id);

    await client.deleteVm({ params: { vmId: vm.id } });
    expect((await errorOf(client.execVm({ params: { vmId: vm.id }, body: { argv: ['true'] } }))).code).toBe('VM_NOT_RUNNING');
    expect((await errorOf(client.getVm({ params: { vmId: 'vm_doesnotexist' } }))).status).toBe(404);
  }, 120_000);

  it('fails SecureVM closed when gVisor is missing, or runs it on gVisor when present', async () => {
    const client = platform.client();
    const outcome = await client.createVm({ body: { type: 'securevm' } }).catch((error: unknown) => error);
    if (outcome instanceof AetherApiError) {
      expect(outcome.code).toBe('SANDBOX_ISOLATION_UNAVAILABLE');
      expect(outcome.status).toBe(503);
    } else {
      expect(outcome).toMatchObject({ type: 'securevm', driver: 'gvisor' });
      await client.deleteVm({ params: { vmId: (outcome as { id: string }).id } });
    }
  }, 60_000);

  it('runs `aether exec --lang python hello.py` and `aether vm create|exec|cp|list|rm` through the CLI', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (text) => out.push(text), err: (text) => err.push(text) };
    const noLauncher = { init: () => Promise.reject(new Error('unused')), serve: () => Promise.reject(new Error('unused')), doctor: () => Promise.resolve([]) };
    const context = { io, settings: { home: stateDir, defaultUrl: platform.url, url: platform.url, apiKey: platform.ownerKey, profile: 'default' }, launcher: noLauncher, fetch: undefined };
    const cli = (...argv: string[]) => runCli(context, 'test', argv);
    const hello = join(stateDir, 'hello.py');
    await writeFile(hello, 'import sys\nprint("hello from", sys.argv[1])\n');
    expect(await cli('exec', '--lang', 'python', hello, 'cli')).toBe(0);
    expect(out.pop()).toBe('hello from cli');
    await writeFile(hello, 'raise SystemExit(5)\n');
    expect(await cli('exec', hello)).toBe(5);

    expect(await cli('--format', 'json', 'vm', 'create', '--type', 'devvm')).toBe(0);
    const vm = JSON.parse(out.pop() ?? '{}') as { id: string };
    const local = join(stateDir, 'in.txt');
    await writeFile(local, 'copied in');
    expect(await cli('vm', 'cp', local, `${vm.id}:dir/in.txt`)).toBe(0);
    expect(await cli('vm', 'exec', vm.id, '--', '/bin/sh', '-c', 'tr a-z A-Z < dir/in.txt > out.txt; cat out.txt')).toBe(0);
    expect(out.pop()).toBe('COPIED IN');
    expect(await cli('vm', 'cp', `${vm.id}:out.txt`, join(stateDir, 'out.txt'))).toBe(0);
    expect(await readFile(join(stateDir, 'out.txt'), 'utf8')).toBe('COPIED IN');
    expect(await cli('vm', 'list')).toBe(0);
    expect(out.pop()).toContain(vm.id);
    expect(await cli('vm', 'rm', vm.id)).toBe(0);
    expect(await cli('vm', 'create', '--type', 'bogus')).toBe(2);
  }, 120_000);
});
