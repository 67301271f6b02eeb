import { CliError } from './io.js';

/**
 * Parsers for numeric command-line values. Each returns undefined when the option was not given
 * and refuses a bad value with exit code 2 (a usage error), naming the flag.
 */

/** A whole number from 1 (counts, sizes, sequence numbers). */
export function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new CliError(`${flag} takes a whole number from 1`, 2);
  return value;
}

/** A number of at least 0 (prices, limits in USD). */
export function nonNegativeNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new CliError(`${flag} must be a non-negative number`, 2);
  return value;
}
