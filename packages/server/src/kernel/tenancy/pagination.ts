/** Default and maximum page sizes for list endpoints. */
export const DEFAULT_PAGE_SIZE = 50;

/** Splits one extra fetched row off a page to tell whether another page follows. */
export function toPage<TRow extends { id: string }, TItem>(
  rows: readonly TRow[],
  limit: number,
  map: (row: TRow) => TItem,
): { items: TItem[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), next_cursor: rows.length > limit && last ? last.id : null };
}
