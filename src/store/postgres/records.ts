/** Records are stored as JSON text, as in the SQLite store: what was written is what is read. */
export function parseRecords<T>(rows: readonly { record: string }[]): T[] {
  return rows.map((row) => JSON.parse(row.record) as T);
}
