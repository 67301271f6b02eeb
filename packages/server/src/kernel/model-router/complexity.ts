import type { ChatMessage, ToolDefinition } from './provider-port.js';

export type ComplexityLevel = 'low' | 'medium' | 'high';

export interface ComplexityEstimate {
  /** 0 (trivial) to 1 (hardest). */
  readonly score: number;
  readonly level: ComplexityLevel;
  /** One sentence per feature that moved the score, largest first. */
  readonly reasons: readonly string[];
  readonly features: {
    readonly promptChars: number;
    readonly codeSignals: number;
    readonly toolCount: number;
    readonly domainWords: readonly string[];
    readonly turns: number;
  };
}

/** Words that mark work needing deeper reasoning (design, proof, law, security, numbers ...). */
const DOMAIN_WORDS = [
  'architecture', 'algorithm', 'prove', 'proof', 'theorem', 'optimize', 'optimise', 'refactor', 'concurrency',
  'distributed', 'security', 'vulnerability', 'cryptograph', 'legal', 'contract', 'compliance', 'diagnos',
  'financial', 'forecast', 'regression', 'statistic', 'derive', 'trade-off', 'tradeoff', 'migrate', 'debug',
  'race condition', 'deadlock', 'complexity', 'formal', 'plan', 'strategy', 'analy',
];
const CODE_PATTERNS = [/```/g, /\bfunction\b|\bclass\b|\bdef\b|\bimport\b|\bconst\b|\breturn\b/g, /[{};]\s*$/gm, /=>|::|->/g];

/** Thresholds between levels; chosen so a one-line question is low and a multi-part design task high. */
export const COMPLEXITY_THRESHOLDS = { medium: 0.25, high: 0.5 } as const;

/**
 * Estimates how hard a request is from five documented features, each capped so no single one
 * decides alone: prompt length (up to 0.25, log-scaled, full at ~8,000 characters), code (up to
 * 0.2), tools offered (up to 0.15, full at 6), domain words (up to 0.3, full at 4 distinct) and
 * conversation depth (up to 0.1, full at 20 turns). Sum clipped to [0, 1].
 */
export function estimateComplexity(messages: readonly ChatMessage[], tools: readonly ToolDefinition[]): ComplexityEstimate {
  const userText = messages.filter((m) => m.role === 'user' || m.role === 'system').map((m) => m.content).join('\n');
  const latest = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const promptChars = userText.length;
  const codeSignals = CODE_PATTERNS.reduce((sum, pattern) => sum + (latest.match(pattern)?.length ?? 0), 0);
  const lower = latest.toLowerCase();
  const domainWords = DOMAIN_WORDS.filter((word) => lower.includes(word));
  const turns = messages.filter((m) => m.role !== 'system').length;

  const parts: { value: number; reason: string }[] = [
    { value: 0.25 * Math.min(1, Math.log10(1 + promptChars) / Math.log10(8000)), reason: `prompt of ${String(promptChars)} characters` },
    { value: 0.2 * Math.min(1, codeSignals / 8), reason: `${String(codeSignals)} code signals in the latest message` },
    { value: 0.15 * Math.min(1, tools.length / 6), reason: `${String(tools.length)} tools offered` },
    { value: 0.3 * Math.min(1, domainWords.length / 4), reason: `domain words: ${domainWords.join(', ') || 'none'}` },
    { value: 0.1 * Math.min(1, turns / 20), reason: `conversation of ${String(turns)} turns` },
  ];
  const score = Math.min(1, Math.max(0, parts.reduce((sum, p) => sum + p.value, 0)));
  const level: ComplexityLevel = score >= COMPLEXITY_THRESHOLDS.high ? 'high' : score >= COMPLEXITY_THRESHOLDS.medium ? 'medium' : 'low';
  const reasons = parts
    .filter((p) => p.value > 0)
    .sort((a, b) => b.value - a.value)
    .map((p) => `${p.reason} (+${p.value.toFixed(2)})`);
  return { score: Math.round(score * 1000) / 1000, level, reasons, features: { promptChars, codeSignals, toolCount: tools.length, domainWords, turns } };
}
