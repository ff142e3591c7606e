/**
 * Records of a JSON document: a JSON array, or JSON lines (one value a line, blank lines skipped).
 * Values keep their JSON types (a price stays a number or a string as written).
 */
export function parseJsonRecords(
  text: string,
): { ok: true; records: unknown[] } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      const doc: unknown = JSON.parse(trimmed);
      if (Array.isArray(doc)) return { ok: true, records: doc };
    } catch (error) {
      return { ok: false, error: `not valid JSON: ${(error as Error).message}` };
    }
  }
  const records: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch (error) {
      return { ok: false, error: `line ${i + 1} is not JSON: ${(error as Error).message}` };
    }
  }
  return { ok: true, records };
}
