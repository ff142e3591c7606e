/**
 * The "grep" of schemas/README.md as a test: no production code outside schemas/ writes a record's
 * shape by hand (test/support/record-shapes.ts says what counts). Code that *uses* fields (job
 * SQL, parsers, rules) is not caught: it names fields in expressions, not declarations.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { handWrittenShapes, productionFiles } from '../test/support/record-shapes.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('no hand-written record shapes outside schemas/', () => {
  it('finds none in production code (derive the shape from schemas/ instead: RecordOf, RowOf, Pick<…Record>, sql*/glue*/openSearch* derivations)', () => {
    const sources = Object.fromEntries(
      productionFiles(ROOT).map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')]),
    );
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    expect(handWrittenShapes(sources)).toEqual([]);
  });

  it('would find the copies this test replaced', () => {
    const found = handWrittenShapes({
      'records.ts':
        'export interface VectorRow {\n  readonly id: string;\n  readonly document: string | null;\n  readonly category: string;\n  readonly price: number;\n}',
      'parquet.ts':
        "'CREATE OR REPLACE TEMP TABLE _export(id VARCHAR, document VARCHAR, metadata VARCHAR, dimension INTEGER, embedding_f32le BLOB)'",
      'lake-views.ts':
        "'CREATE OR REPLACE VIEW runs AS SELECT CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS DATE) AS run_date, CAST(NULL AS VARCHAR) AS engine WHERE 1 = 0'",
      'glue.ts':
        "[{ Name: 'deal_id', Type: 'string' }, { Name: 'price', Type: 'double' }, { Name: 'event_time', Type: 'timestamp' }]",
      'mapping.ts': "{ deal_id: { type: 'keyword' }, title: { type: 'text' }, price: { type: 'double' } }",
    });
    expect(found.map((f) => f.split(':')[0])).toEqual(
      expect.arrayContaining(['records.ts', 'parquet.ts', 'lake-views.ts', 'glue.ts', 'mapping.ts']),
    );
  });
});
