import { spawn } from 'node:child_process';

/**
 * Runs a TypeScript worker script in its own Node process (through tsx) and resolves with the
 * JSON object on the last line of its stdout; rejects with its stderr when it exits non-zero.
 * Used by tests and benches that need real separate processes (cross-process concurrency).
 */
export function runTsWorker<TResult>(script: string, args: readonly string[]): Promise<TResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`worker ${script} exited ${String(code)}: ${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as TResult);
      } catch (error) {
        reject(new Error(`worker ${script} printed no JSON result: ${out.slice(-500)}`, { cause: error }));
      }
    });
  });
}
