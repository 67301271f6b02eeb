import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { testServices } from '../../infra/database/testing/index.js';
import { ProviderAbortedError, ProviderPackageMissingError, type StreamChunk } from '../../kernel/model-router/index.js';
import { LocalLlamaProvider, isLlamaAvailable } from './local-llama-provider.js';

// The shared test model lives outside the project and is never copied into it.
const MODEL = fileURLToPath(new URL('../../../../../../shared/models/llama-2-tiny-random.gguf', import.meta.url));
const runnable = existsSync(MODEL) && (await isLlamaAvailable());

describe('LocalLlamaProvider in CI', () => {
  // CI installs node-llama-cpp (.ci/run); there the local-model tests must run, never skip.
  it.runIf(testServices.isCi)('has node-llama-cpp and the shared test model', () => {
    expect({ model: existsSync(MODEL), runnable }).toEqual({ model: true, runnable: true });
  });
});

describe('LocalLlamaProvider without node-llama-cpp', () => {
  it('fails with PROVIDER_PACKAGE_MISSING naming the package', async () => {
    const provider = new LocalLlamaProvider({ loadModule: () => Promise.reject(new Error('Cannot find package')) });
    const error = await provider.chat([{ role: 'user', content: 'hi' }], [], { model: MODEL }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderPackageMissingError);
    expect((error as ProviderPackageMissingError).message).toContain('node-llama-cpp');
    expect((error as ProviderPackageMissingError).details).toMatchObject({ package: 'node-llama-cpp' });
  });
});

describe.skipIf(!runnable)('LocalLlamaProvider with the tiny GGUF model', () => {
  const provider = new LocalLlamaProvider();

  it('loads the model and generates text with usage', { timeout: 60_000 }, async () => {
    const response = await provider.chat([{ role: 'user', content: 'Hello' }], [], { model: MODEL, maxOutputTokens: 8, temperature: 0 });
    expect(response.usage.outputTokens).toBeGreaterThan(0);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    expect(['end', 'max_tokens', 'stop_sequence']).toContain(response.stopReason);
  });

  it('streams text deltas before done and stops at max tokens', { timeout: 60_000 }, async () => {
    const chunks: StreamChunk[] = [];
    for await (const chunk of provider.chatStream([{ role: 'user', content: 'Tell a story' }], [], { model: MODEL, maxOutputTokens: 6 })) {
      chunks.push(chunk);
    }
    const done = chunks.at(-1);
    expect(done?.type).toBe('done');
    expect(chunks.slice(0, -1).every((c) => c.type === 'text_delta')).toBe(true);
    if (done?.type === 'done') expect(done.usage.outputTokens).toBeLessThanOrEqual(6);
  });

  it('stops with ProviderAbortedError when aborted before or during generation', { timeout: 60_000 }, async () => {
    const before = new AbortController();
    before.abort();
    await expect(provider.chat([{ role: 'user', content: 'x' }], [], { model: MODEL, signal: before.signal })).rejects.toBeInstanceOf(ProviderAbortedError);
    const during = new AbortController();
    let deltas = 0;
    const run = (async () => {
      for await (const chunk of provider.chatStream([{ role: 'user', content: 'Go on' }], [], { model: MODEL, maxOutputTokens: 200, signal: during.signal })) {
        if (chunk.type === 'text_delta') {
          deltas++;
          during.abort();
        }
      }
    })();
    await expect(run).rejects.toBeInstanceOf(ProviderAbortedError);
    expect(deltas).toBeLessThan(200);
  });

  it('constrains output with a tool-call grammar so it always parses', { timeout: 60_000 }, async () => {
    const tools = [{ name: 'get_time', description: 'Current time', parameters: { type: 'object', properties: {} } }];
    const response = await provider.chat([{ role: 'user', content: 'What time is it?' }], tools, { model: MODEL, maxOutputTokens: 24, temperature: 0 }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    // Random weights may run out of tokens mid-object; anything else must be a valid answer or call.
    if (response instanceof Error) {
      expect(response.message).toMatch(/not complete JSON \(stopped: maxTokens\)/);
    } else {
      const ok = response.toolCalls.length === 1 ? response.toolCalls[0]?.name === 'get_time' : typeof response.text === 'string';
      expect(ok).toBe(true);
    }
  });
});
