import type { ChatOptions } from '../../kernel/model-router/index.js';

/**
 * Up to this many output tokens, a provider's `chat` asks the vendor for one whole response
 * instead of a stream (`AETHER_MODELS_WHOLE_RESPONSE_MAX_TOKENS`). A caller that does not stream
 * gains nothing from a stream: the SDK would parse a dozen server-sent events and their chunk
 * objects to assemble what one JSON body holds, which measured as more CPU than the router and
 * the budget together (`npm run bench -- models`). At the 30+ tokens a second vendors generate,
 * such an answer leaves the connection silent well under a minute, which idle-cutting proxies
 * allow, and stays far below the size Anthropic's SDK refuses to fetch without streaming. Longer
 * or uncapped answers stream, so bytes keep flowing. The router's per-attempt timeout bounds the
 * call either way.
 */
export const DEFAULT_WHOLE_RESPONSE_MAX_TOKENS = 1024;

/** Whether `chat` with `options` asks for a whole response under the cap `maxTokens` (0: never). */
export function asksForWholeResponse(options: ChatOptions, maxTokens: number): boolean {
  return options.maxOutputTokens !== undefined && options.maxOutputTokens <= maxTokens;
}
