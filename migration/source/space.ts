import { MigrationRefusedError } from '../errors.ts';
import type { SourceCollection, SpaceName } from './types.ts';
import { isRecord } from './wire.ts';

/**
 * The collection's distance function: configuration hnsw.space (or spann.space), else the
 * legacy metadata key hnsw:space, else Chroma's default, l2 (NOT cosine).
 */
export function spaceOf(c: Pick<SourceCollection, 'configuration' | 'metadata'>): {
  space: SpaceName;
  from: string;
} {
  const conf = c.configuration ?? {};
  const spaceIn = (section: unknown) => (isRecord(section) ? section.space : undefined);
  const candidates: [unknown, string][] = [
    [spaceIn(conf.hnsw), 'configuration.hnsw.space'],
    [spaceIn(conf.spann), 'configuration.spann.space'],
    [c.metadata?.['hnsw:space'], 'metadata hnsw:space'],
  ];
  for (const [value, from] of candidates) {
    if (value === undefined || value === null) continue;
    if (value === 'l2' || value === 'cosine' || value === 'ip') return { space: value, from };
    throw new MigrationRefusedError(
      `unknown Chroma distance function ${JSON.stringify(value)}`,
      'Chroma knows l2, cosine and ip',
      { details: { from } },
    );
  }
  return { space: 'l2', from: 'Chroma default (no hnsw:space set)' };
}
