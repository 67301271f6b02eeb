import { AetherApiError } from '@aether/protocol';

/** Awaits a client call that must fail with an API error, and returns that error. */
export async function errorOf(promise: Promise<unknown>): Promise<AetherApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AetherApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
