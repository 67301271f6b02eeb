import { z } from 'zod';

/** The body of every error answer. `code` is stable; switch on it, never on `message`. */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    request_id: z.string(),
  }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export const isoTimestamp = z.iso.datetime({ offset: true });

/** Cursor pagination: pass `next_cursor` back as `cursor` to get the next page. */
export const pageQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export function pageOf<TItem extends z.ZodType>(item: TItem) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export const emptyResponseSchema = z.object({});

export const roleSchema = z.enum(['owner', 'admin', 'developer', 'viewer']);
export type Role = z.infer<typeof roleSchema>;
