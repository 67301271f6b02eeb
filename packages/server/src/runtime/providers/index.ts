/**
 * @module runtime/providers
 * LLM providers through each vendor's official SDK (Anthropic, OpenAI and OpenAI-compatible
 * servers, Google Gemini, Ollama), local GGUF models through the optional node-llama-cpp, and the
 * scripted test double `scripted:<file>`. Each implements the kernel's `ModelProvider` port.
 */
export { AnthropicProvider, type AnthropicProviderOptions } from './anthropic-provider.js';
export { GeminiProvider, type GeminiProviderOptions } from './gemini-provider.js';
export {
  LLAMA_PACKAGE,
  LocalLlamaProvider,
  isLlamaAvailable,
  type LlamaModuleLoader,
  type LocalLlamaProviderOptions,
} from './local-llama-provider.js';
export { OllamaProvider, type OllamaProviderOptions } from './ollama-provider.js';
export { OpenAiProvider, type OpenAiProviderOptions } from './openai-provider.js';
export { createProviderFetch, defaultProviderFetch, type ProviderFetch } from './provider-fetch.js';
export { ScriptedProvider, parseModelScript, scriptSchema, type ModelScript, type ScriptedProviderOptions } from './scripted-provider.js';
export { ProviderRegistry, type ProviderKeySource, type ProviderSettings } from './provider-registry.js';
