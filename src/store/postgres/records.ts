/** Records are stored as JSON text, as in the SQLite store: what was written is what is read. */
export function parseRecords<T>(rows: readonly { record: string }[]): T[] {
  return rows.map((row) => JSON.parse(row.record) as T);
}

/**
 * A row whose columns are named as the record's fields (`AS "camelCase"` in the query), with its
 * NULL columns left out: an optional field is absent, not null, as in the SQLite store.
 */
export function withoutNulls<T>(row: object): T {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)) as T;
}
