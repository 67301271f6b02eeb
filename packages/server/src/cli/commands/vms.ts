import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';

import type { Language, RunResult, VmType } from '@aether/protocol';
import type { Command } from 'commander';

import { action, clientFor, globalOptions, type CliContext } from '../context.js';
import { CliError, type CliIo } from '../io.js';
import { positiveInt } from '../options.js';

const VM_TYPES: readonly VmType[] = ['microvm', 'devvm', 'agentvm', 'securevm'];
const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript', 'rust', 'c', 'cpp', 'bash'];
const LANGUAGE_BY_EXTENSION: Readonly<Record<string, Language>> = { '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.ts': 'typescript', '.rs': 'rust', '.c': 'c', '.cpp': 'cpp', '.cc': 'cpp', '.sh': 'bash' };
const VM_COLUMNS = ['id', 'type', 'driver', 'state', 'vcpus', 'memory_mb', 'expires_at'];

/** Writes a run's output through as-is and turns a failing exit status into the CLI's own. */
function passThrough(io: CliIo, run: RunResult): void {
  if (run.stdout) io.out(run.stdout.replace(/\n$/, ''));
  if (run.stderr) io.err(run.stderr.replace(/\n$/, ''));
  if (run.timed_out) throw new CliError('killed at the wall-time limit', 124);
  if (run.oom_killed) throw new CliError('killed: out of memory', 137);
  if (run.truncated) io.err('(output truncated)');
  if (run.exit_code !== 0) throw new CliError(`exited with status ${String(run.exit_code)}`, run.exit_code > 0 && run.exit_code < 256 ? run.exit_code : 1);
}

/** `vm_…:path` names a file in a VM; anything else is a local path. */
function vmPath(spec: string): { vmId: string; path: string } | undefined {
  const match = /^(vm_[0-9a-z]+):(.+)$/.exec(spec);
  return match?.[1] && match[2] ? { vmId: match[1], path: match[2] } : undefined;
}

/** aether vm create|list|inspect|exec|cp|stop|rm and aether exec. */
export function registerVmCommands(program: Command, context: CliContext): void {
  const vm = program.command('vm').description('Manage sandboxed VMs (MicroVM, DevVM, AgentVM, SecureVM)');

  vm.command('create')
    .description('Create a VM')
    .option('--type <type>', `one of ${VM_TYPES.join(', ')}`, 'microvm')
    .option('--vcpus <n>', 'vCPUs (within the type\'s range)')
    .option('--memory-mb <mb>', 'memory in MB (within the type\'s range)')
    .option('--ttl-seconds <s>', 'lifetime; the reaper destroys it after')
    .action(action(context, async (command) => {
      const options = command.opts<{ type: string; vcpus?: string; memoryMb?: string; ttlSeconds?: string }>();
      if (!VM_TYPES.includes(options.type as VmType)) throw new CliError(`--type must be one of ${VM_TYPES.join(', ')}`, 2);
      const vcpus = positiveInt(options.vcpus, '--vcpus');
      const memoryMb = positiveInt(options.memoryMb, '--memory-mb');
      const ttl = positiveInt(options.ttlSeconds, '--ttl-seconds');
      return (await clientFor(context, command)).createVm({ body: { type: options.type as VmType, ...(vcpus ? { vcpus } : {}), ...(memoryMb ? { memory_mb: memoryMb } : {}), ...(ttl ? { ttl_seconds: ttl } : {}) } });
    }));

  vm.command('list').description('List your VMs').action(action(context, async (command) => (await (await clientFor(context, command)).listVms({})).items, VM_COLUMNS));

  vm.command('inspect').description('Show one VM').argument('<vm-id>').action(action(context, async (command, vmId: string) => (await clientFor(context, command)).getVm({ params: { vmId } })));

  vm.command('exec')
    .description('Run a command in a VM: aether vm exec vm_… -- ls -la')
    .argument('<vm-id>')
    .argument('<argv...>')
    .option('--stdin-file <file>', 'feed this file to the command\'s stdin')
    .option('--timeout-ms <ms>', 'wall-time limit')
    .action(action(context, async (command, vmId: string, argv: string[]) => {
      const options = command.opts<{ stdinFile?: string; timeoutMs?: string }>();
      const stdin = options.stdinFile ? await readFile(options.stdinFile, 'utf8') : undefined;
      const timeout = positiveInt(options.timeoutMs, '--timeout-ms');
      const result = await (await clientFor(context, command)).execVm({ params: { vmId }, body: { argv, ...(stdin === undefined ? {} : { stdin }), ...(timeout ? { timeout_ms: timeout } : {}) } });
      if (globalOptions(command).format === 'json') return result;
      passThrough(context.io, result);
      return undefined;
    }));

  vm.command('cp')
    .description('Copy a file into or out of a VM: aether vm cp ./a.py vm_…:a.py, or vm_…:out.txt ./out.txt')
    .argument('<source>')
    .argument('<destination>')
    .action(action(context, async (command, source: string, destination: string) => {
      const client = await clientFor(context, command);
      const from = vmPath(source);
      const to = vmPath(destination);
      if (from && !to) {
        const file = await client.readVmFile({ params: { vmId: from.vmId }, query: { path: from.path } });
        await writeFile(destination, Buffer.from(file.content_base64, 'base64'));
        return { copied: source, to: destination, bytes: file.size };
      }
      if (to && !from) {
        const data = await readFile(source);
        await client.writeVmFile({ params: { vmId: to.vmId }, body: { path: to.path, content_base64: data.toString('base64') } });
        return { copied: source, to: destination, bytes: data.length };
      }
      throw new CliError('exactly one of <source> and <destination> must be vm_…:path', 2);
    }));

  vm.command('stop').description('Stop a VM').argument('<vm-id>').action(action(context, async (command, vmId: string) => (await clientFor(context, command)).stopVm({ params: { vmId }, body: {} })));

  vm.command('rm').description('Destroy a VM').argument('<vm-id>').action(action(context, async (command, vmId: string) => {
    await (await clientFor(context, command)).deleteVm({ params: { vmId } });
    return { destroyed: vmId };
  }));

  program
    .command('exec')
    .description('Compile and run a source file in a fresh MicroVM: aether exec --lang python hello.py')
    .argument('<file>')
    .argument('[args...]')
    .option('--lang <language>', `one of ${LANGUAGES.join(', ')} (default: from the file extension)`)
    .option('--stdin-file <file>', 'feed this file to the program\'s stdin')
    .option('--timeout-seconds <s>', 'wall-time limit (max 300)')
    .option('--memory-mb <mb>', 'memory limit (max 8192)')
    .option('--cpus <n>', 'CPU limit (max 4)')
    .action(action(context, async (command, file: string, args: string[]) => {
      const options = command.opts<{ lang?: string; stdinFile?: string; timeoutSeconds?: string; memoryMb?: string; cpus?: string }>();
      const language = (options.lang ?? LANGUAGE_BY_EXTENSION[extname(file)]) as Language | undefined;
      if (!language || !LANGUAGES.includes(language)) throw new CliError(`--lang must be one of ${LANGUAGES.join(', ')}`, 2);
      const source = await readFile(file, 'utf8');
      const stdin = options.stdinFile ? await readFile(options.stdinFile, 'utf8') : undefined;
      const timeout = positiveInt(options.timeoutSeconds, '--timeout-seconds');
      const memory = positiveInt(options.memoryMb, '--memory-mb');
      const cpus = positiveInt(options.cpus, '--cpus');
      const limits = { ...(timeout ? { timeout_seconds: timeout } : {}), ...(memory ? { memory_mb: memory } : {}), ...(cpus ? { cpus } : {}) };
      const result = await (await clientFor(context, command)).runExec({ body: { language, source, args, ...(stdin === undefined ? {} : { stdin }), ...(Object.keys(limits).length > 0 ? { limits } : {}) } });
      if (globalOptions(command).format === 'json') return result;
      if (!result.compile.ok) throw new CliError(`compilation failed:\n${result.compile.output}`, 1);
      if (result.run) passThrough(context.io, result.run);
      return undefined;
    }));
}
