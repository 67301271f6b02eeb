import { execFile, spawn } from 'node:child_process';
import type { Server } from 'node:net';
import { promisify } from 'node:util';

import { SandboxFailedError } from '../errors.js';

const execFileAsync = promisify(execFile);

/** A named network namespace holding only a loopback interface. */
export interface NetworkNamespace {
  readonly name: string;
  readonly path: string;
  remove(): Promise<void>;
}

/** Creates `/run/netns/<name>` with loopback up and nothing else: no route leaves it. */
export async function createNetworkNamespace(name: string): Promise<NetworkNamespace> {
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(name)) throw new SandboxFailedError(`bad network namespace name ${name}`);
  try {
    await execFileAsync('ip', ['netns', 'add', name], { timeout: 10_000 });
    await execFileAsync('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeout: 10_000 });
  } catch (error) {
    await execFileAsync('ip', ['netns', 'del', name]).catch(() => undefined);
    throw new SandboxFailedError(`creating network namespace ${name} failed`, { cause: error });
  }
  return {
    name,
    path: `/run/netns/${name}`,
    remove: async () => {
      await execFileAsync('ip', ['netns', 'del', name], { timeout: 10_000 }).catch(() => undefined);
    },
  };
}

/**
 * Opens a TCP listener on 127.0.0.1:`port` INSIDE the namespace and hands it to this process: a
 * short-lived Node child created in the namespace listens and sends the server handle back over
 * IPC. Connections from the sandbox then arrive in our own process, with no forwarder running.
 */
export function listenInNamespace(namespace: NetworkNamespace, port: number): Promise<Server> {
  const script = `const s=require('node:net').createServer();s.on('error',(e)=>{process.send({error:String(e)});process.exit(1)});s.listen(${String(port)},'127.0.0.1',()=>process.send('listening',s,()=>process.exit(0)));`;
  const child = spawn('ip', ['netns', 'exec', namespace.name, process.execPath, '-e', script], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: {} });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SandboxFailedError(`listener in ${namespace.name} did not start`));
    }, 15_000);
    child.on('message', (message, handle) => {
      clearTimeout(timer);
      if (message === 'listening' && handle) resolve(handle as Server);
      else reject(new SandboxFailedError(`listener in ${namespace.name} failed: ${JSON.stringify(message)}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new SandboxFailedError(`listener in ${namespace.name} exited ${String(code)}`));
    });
  });
}
