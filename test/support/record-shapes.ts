/**
 * Finds hand-written copies of record shapes in source text (see schemas/no-copies.test.ts): three
 * or more fields of one record in one TypeScript interface or object type, one SQL column list
 * (`name TYPE, …` or `CAST(NULL AS …) AS name, …`), one Glue column list or one OpenSearch mapping.
 */
import { execFileSync } from 'node:child_process';
import type { RecordDef } from '../../schemas/field.ts';
import { RECORDS } from '../../schemas/records.ts';
import { STREAM_RECORDS } from '../../schemas/streaming.ts';
import { ProductVector, VectorExport, VectorQuarantineRecord } from '../../schemas/vectors.ts';

const DEFS: RecordDef[] = [
  ...new Set<RecordDef>([
    ...Object.values(RECORDS),
    ...Object.values(STREAM_RECORDS),
    ProductVector,
    VectorExport,
    VectorQuarantineRecord,
  ]),
];

/** Production TypeScript files of a checkout (git-tracked or new), outside schemas/ and test code. */
export function productionFiles(root: string): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && !f.startsWith('schemas/') && !f.startsWith('test/') && !f.endsWith('.test.ts'));
}

const SQL_TYPE =
  '(?:VARCHAR|INTEGER|BIGINT|DOUBLE|BOOLEAN|TIMESTAMP(?:_NTZ)?|DATE|BLOB|STRING|INT|FLOAT(?:\\[\\d*\\])?)';

/** Groups of names a snippet declares: each group is one candidate shape. */
function declaredNameGroups(src: string): { what: string; names: Set<string> }[] {
  const groups: { what: string; names: Set<string> }[] = [];
  for (const m of src.matchAll(
    /(?:interface\s+(\w+)[^{]*|type\s+(\w+)\s*=\s*)\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}/g,
  )) {
    const names = new Set(
      [...(m[3] as string).matchAll(/^\s*(?:readonly\s+)?(\w+)\??\s*:/gm)].map((x) => x[1] as string),
    );
    groups.push({ what: `type ${m[1] ?? m[2]}`, names });
  }
  for (const line of src.split('\n')) {
    const ddl = new Set(
      [...line.matchAll(new RegExp(`[(,]\\s*(\\w+)\\s+${SQL_TYPE}\\b`, 'g'))].map((x) => x[1] as string),
    );
    if (ddl.size) groups.push({ what: `SQL columns: ${line.trim().slice(0, 80)}`, names: ddl });
    const empty = new Set(
      [...line.matchAll(/CAST\(NULL AS [^)]+\) AS "?(\w+)"?/g)].map((x) => x[1] as string),
    );
    if (empty.size) groups.push({ what: `SQL empty relation: ${line.trim().slice(0, 80)}`, names: empty });
  }
  const glue = new Set([...src.matchAll(/Name:\s*'(\w+)',\s*Type:/g)].map((x) => x[1] as string));
  if (glue.size) groups.push({ what: 'Glue columns', names: glue });
  const mapping = new Set(
    [
      ...src.matchAll(
        /(\w+):\s*\{\s*type:\s*'(?:keyword|text|double|long|integer|date|knn_vector|boolean)'/g,
      ),
    ].map((x) => x[1] as string),
  );
  if (mapping.size) groups.push({ what: 'OpenSearch mapping', names: mapping });
  return groups;
}

/** Hand-written copies of record shapes in the given sources, as "file: what ~ record: fields". */
export function handWrittenShapes(sources: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, src] of Object.entries(sources))
    for (const g of declaredNameGroups(src))
      for (const def of DEFS) {
        const shared = Object.keys(def.fields).filter((n) => g.names.has(n));
        if (shared.length >= 3) found.push(`${file}: ${g.what} ~ ${def.name}: ${shared.join(', ')}`);
      }
  return found;
}
