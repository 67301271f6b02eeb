/**
 * Recorded shapes of each vendor's wire format, for the fake servers. Each builder returns what
 * the vendor sends for "text, then one tool call streamed in pieces" (or, for a whole answer,
 * "text and one tool call").
 */
import type { FakeAnswer } from './fake-vendor-server.js';

/** The streamed answer for a request whose JSON body asks `stream: true`, the whole one otherwise (OpenAI's and Anthropic's rule). */
function byStreamFlag(streamed: FakeAnswer, whole: FakeAnswer): FakeAnswer {
  return { kind: 'per-request', choose: (request) => ((request.body as { stream?: unknown } | undefined)?.stream === true ? streamed : whole) };
}

export function openAiStream(options: { text: string; tool?: { id: string; name: string; argumentPieces: string[] }; cached?: number }): FakeAnswer {
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test' };
  const events: { data: unknown }[] = [
    { data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] } },
  ];
  for (const word of options.text.match(/\S+\s*/g) ?? []) {
    events.push({ data: { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] } });
  }
  if (options.tool) {
    const { id, name, argumentPieces } = options.tool;
    events.push({
      data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }, finish_reason: null }] },
    });
    for (const piece of argumentPieces) {
      events.push({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }] } });
    }
  }
  events.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: options.tool ? 'tool_calls' : 'stop' }] } });
  events.push({
    data: { ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: options.cached ?? 0 } } },
  });
  events.push({ data: '[DONE]' });
  return { kind: 'sse', events };
}

/** OpenAI's whole (non-streamed) chat completion: the same answer as `openAiStream` in one JSON body. */
export function openAiCompletion(options: { text: string; tool?: { id: string; name: string; argumentPieces: string[] }; cached?: number; reasoning?: string }): FakeAnswer {
  const toolCalls = options.tool
    ? [{ id: options.tool.id, type: 'function', function: { name: options.tool.name, arguments: options.tool.argumentPieces.join('') } }]
    : undefined;
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-test',
      choices: [{
        index: 0,
        message: {
          role: 'assistant', content: options.text === '' && toolCalls ? null : options.text, refusal: null,
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
          // vLLM and OpenRouter put a reasoning model's thinking beside the content.
          ...(options.reasoning === undefined ? {} : { reasoning_content: options.reasoning }),
        },
        finish_reason: toolCalls ? 'tool_calls' : 'stop', logprobs: null,
      }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: options.cached ?? 0 } },
    },
  };
}

/** What OpenAI answers for the same content: a stream when the request asks for one, one JSON body otherwise. */
export function openAiAnswer(options: { text: string; tool?: { id: string; name: string; argumentPieces: string[] }; cached?: number }): FakeAnswer {
  return byStreamFlag(openAiStream(options), openAiCompletion(options));
}

export function anthropicStream(options: { text: string; thinking?: string; tool?: { id: string; name: string; argumentPieces: string[] } }): FakeAnswer {
  const events: { event: string; data: unknown }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-test', content: [], stop_reason: null, stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
        },
      },
    },
  ];
  let block = 0;
  if (options.thinking) {
    events.push({ event: 'content_block_start', data: { type: 'content_block_start', index: block, content_block: { type: 'thinking', thinking: '', signature: '' } } });
    events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: block, delta: { type: 'thinking_delta', thinking: options.thinking } } });
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: block } });
    block++;
  }
  events.push({ event: 'content_block_start', data: { type: 'content_block_start', index: block, content_block: { type: 'text', text: '' } } });
  for (const word of options.text.match(/\S+\s*/g) ?? []) {
    events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: block, delta: { type: 'text_delta', text: word } } });
  }
  events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: block } });
  block++;
  if (options.tool) {
    events.push({
      event: 'content_block_start',
      data: { type: 'content_block_start', index: block, content_block: { type: 'tool_use', id: options.tool.id, name: options.tool.name, input: {} } },
    });
    for (const piece of options.tool.argumentPieces) {
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: piece } } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: block } });
  }
  events.push({
    event: 'message_delta',
    data: { type: 'message_delta', delta: { stop_reason: options.tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 9 } },
  });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return { kind: 'sse', events };
}

/** Anthropic's whole (non-streamed) message: the same answer as `anthropicStream` in one JSON body. */
export function anthropicMessage(options: { text: string; thinking?: string; tool?: { id: string; name: string; argumentPieces: string[] } }): FakeAnswer {
  const content: unknown[] = [];
  if (options.thinking) content.push({ type: 'thinking', thinking: options.thinking, signature: 'sig' });
  content.push({ type: 'text', text: options.text });
  if (options.tool) content.push({ type: 'tool_use', id: options.tool.id, name: options.tool.name, input: JSON.parse(options.tool.argumentPieces.join('')) as unknown });
  return {
    kind: 'json',
    body: {
      id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-test', content, stop_reason: options.tool ? 'tool_use' : 'end_turn', stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 9, cache_read_input_tokens: 4, cache_creation_input_tokens: 0 },
    },
  };
}

/** What Anthropic answers for the same content: a stream when the request asks for one, one JSON body otherwise. */
export function anthropicAnswer(options: { text: string; thinking?: string; tool?: { id: string; name: string; argumentPieces: string[] } }): FakeAnswer {
  return byStreamFlag(anthropicStream(options), anthropicMessage(options));
}

export function geminiStream(options: { text: string; thought?: string; call?: { name: string; args: Record<string, unknown> } }): FakeAnswer {
  const events: { data: unknown }[] = [];
  if (options.thought) {
    events.push({ data: { candidates: [{ content: { role: 'model', parts: [{ text: options.thought, thought: true }] }, index: 0 }] } });
  }
  for (const word of options.text.match(/\S+\s*/g) ?? []) {
    events.push({ data: { candidates: [{ content: { role: 'model', parts: [{ text: word }] }, index: 0 }] } });
  }
  const lastParts = options.call ? [{ functionCall: { name: options.call.name, args: options.call.args } }] : [{ text: '' }];
  events.push({
    data: {
      candidates: [{ content: { role: 'model', parts: lastParts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 6, cachedContentTokenCount: 3, totalTokenCount: 17 },
    },
  });
  return { kind: 'sse', events };
}

/** Gemini's whole response (`:generateContent`): the same answer as `geminiStream` in one JSON body. */
export function geminiResponse(options: { text: string; thought?: string; call?: { name: string; args: Record<string, unknown> } }): FakeAnswer {
  const parts: unknown[] = [];
  if (options.thought) parts.push({ text: options.thought, thought: true });
  parts.push({ text: options.text });
  if (options.call) parts.push({ functionCall: { name: options.call.name, args: options.call.args } });
  return {
    kind: 'json',
    body: {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 6, cachedContentTokenCount: 3, totalTokenCount: 17 },
    },
  };
}

/** What Gemini answers for the same content: a stream on `:streamGenerateContent`, one JSON body on `:generateContent`. */
export function geminiAnswer(options: { text: string; thought?: string; call?: { name: string; args: Record<string, unknown> } }): FakeAnswer {
  return { kind: 'per-request', choose: (request) => (request.url.includes(':streamGenerateContent') ? geminiStream(options) : geminiResponse(options)) };
}

export function ollamaStream(options: { text: string; call?: { name: string; args: Record<string, unknown> } }): FakeAnswer {
  const created = '2030-01-01T00:00:00Z';
  const lines: unknown[] = (options.text.match(/\S+\s*/g) ?? []).map((word) => ({
    model: 'llama-test', created_at: created, message: { role: 'assistant', content: word }, done: false,
  }));
  if (options.call) {
    lines.push({ model: 'llama-test', created_at: created, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: options.call.name, arguments: options.call.args } }] }, done: false });
  }
  lines.push({
    model: 'llama-test', created_at: created, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop',
    total_duration: 1, load_duration: 1, prompt_eval_count: 8, prompt_eval_duration: 1, eval_count: 5, eval_duration: 1,
  });
  return { kind: 'ndjson', lines };
}
