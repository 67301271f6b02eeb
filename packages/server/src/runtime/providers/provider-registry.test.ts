import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { UnknownModelError } from '../../kernel/model-router/index.js';
import { asTenantId, systemContext } from '../../shared/context/index.js';
import { ProviderRegistry } from './provider-registry.js';
import { FakeVendorServer } from './testing/fake-vendor-server.js';
import { openAiAnswer } from './testing/vendor-wire.js';

const tenantA = systemContext(asTenantId('tnt_a'), 'test');
const tenantB = systemContext(asTenantId('tnt_b'), 'test');

describe('ProviderRegistry.resolve', () => {
  let server: FakeVendorServer;
  beforeEach(async () => {
    server = await FakeVendorServer.start();
    server.always(openAiAnswer({ text: 'ok' }));
  });
  afterEach(async () => {
    await server.close();
  });

  it("uses a tenant's own key over the deployment's, and the deployment's for other tenants", async () => {
    const registry = new ProviderRegistry({
      settings: { openai: { apiKey: 'sk-deployment', baseUrl: `${server.url}/v1` } },
      keys: { apiKey: (ctx, provider) => Promise.resolve(ctx.tenantId === 'tnt_a' && provider === 'openai' ? 'sk-tenant-a' : undefined) },
    });
    await (await registry.resolve(tenantA, 'openai')).chat([{ role: 'user', content: 'x' }], [], { model: 'm' });
    await (await registry.resolve(tenantB, 'openai')).chat([{ role: 'user', content: 'x' }], [], { model: 'm' });
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-tenant-a', 'Bearer sk-deployment']);
    expect(await registry.resolve(tenantB, 'openai')).toBe(await registry.resolve(tenantB, 'openai'));
  });

  it('names configured providers, OpenAI-compatible servers included', async () => {
    const registry = new ProviderRegistry({
      settings: { openaiCompatible: { vllm: { baseUrl: `${server.url}/v1` } }, enableScripted: true, ollama: { host: server.url } },
    });
    expect(registry.names().sort()).toEqual(['ollama', 'scripted', 'vllm']);
    const vllm = await registry.resolve(tenantA, 'vllm');
    expect(vllm.name).toBe('vllm');
    expect((await vllm.chat([{ role: 'user', content: 'x' }], [], { model: 'qwen' })).text).toBe('ok');
  });

  it('passes the whole-response cap to OpenAI and compatible servers (0: every chat streams)', async () => {
    const ask = [{ role: 'user' as const, content: 'x' }];
    const capped = new ProviderRegistry({ settings: { openai: { apiKey: 'sk', baseUrl: `${server.url}/v1` }, wholeResponseMaxTokens: 0 } });
    await (await capped.resolve(tenantA, 'openai')).chat(ask, [], { model: 'm', maxOutputTokens: 10 });
    const byDefault = new ProviderRegistry({ settings: { openaiCompatible: { vllm: { baseUrl: `${server.url}/v1` } } } });
    await (await byDefault.resolve(tenantA, 'vllm')).chat(ask, [], { model: 'qwen', maxOutputTokens: 10 });
    expect(server.requests.map((r) => (r.body as { stream: boolean }).stream)).toEqual([true, false]);
  });

  it('refuses unconfigured providers and a provider without any key', async () => {
    const registry = new ProviderRegistry({ settings: { anthropic: { baseUrl: server.url } } });
    await expect(registry.resolve(tenantA, 'google')).rejects.toBeInstanceOf(UnknownModelError);
    await expect(registry.resolve(tenantA, 'scripted')).rejects.toBeInstanceOf(UnknownModelError);
    await expect(registry.resolve(tenantA, 'anthropic')).rejects.toThrow(/no API key configured/);
  });
});
