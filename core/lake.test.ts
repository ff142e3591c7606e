import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMetaRoot, isUriRoot, joinLakePath, Lake } from './lake.ts';

describe('Lake paths on an s3:// root', () => {
  const lake = new Lake('s3://bkt/lake', { metaRoot: '/var/dealfinder/meta' });

  it('keeps scheme and bucket (path.join would give s3:/bkt/…)', () => {
    expect(lake.remote).toBe(true);
    expect(lake.tableDir('deals')).toBe('s3://bkt/lake/deals');
    expect(lake.partitionDir('deals', '2026-11-22')).toBe('s3://bkt/lake/deals/dt=2026-11-22');
    expect(lake.partitionDir('quarantine', '2026-11-22', 'cleanup')).toBe(
      's3://bkt/lake/quarantine/dt=2026-11-22/step=cleanup',
    );
    expect(lake.partitionDir('products')).toBe('s3://bkt/lake/catalog/products');
    expect(lake.stagingDir('r1', 'quarantine', '2026-11-22', 'cleanup')).toBe(
      's3://bkt/lake/_staging/r1/quarantine/dt=2026-11-22/step=cleanup',
    );
    expect(new Lake('s3://bkt').partitionDir('deals', '2026-01-02')).toBe('s3://bkt/deals/dt=2026-01-02');
    expect(new Lake('s3://bkt/a/b/').tableDir('features')).toBe('s3://bkt/a/b/features');
  });

  it('keeps the ledger in a local folder and lists nothing remote', () => {
    expect(lake.metaDir('runs')).toBe(path.join('/var/dealfinder/meta', '_meta', 'runs'));
    expect(new Lake('s3://bkt/lake').metaRoot).toBe(defaultMetaRoot('s3://bkt/lake'));
    expect(defaultMetaRoot('s3://bkt/lake', '/w')).toBe('/w/.dealfinder/meta/s3/bkt/lake');
    expect(defaultMetaRoot('s3://bkt/../x', '/w')).toBe('/w/.dealfinder/meta/s3/bkt/x');
    expect(lake.partitionFiles('deals', '2026-11-22')).toEqual([]);
    expect(lake.partitionDates('deals')).toEqual([]);
    expect(lake.recover('r1')).toEqual({ restored: [], cleaned: [] });
    expect(() => lake.commit('r1', 'a', 'b')).toThrow(/written in place/);
  });

  it('local roots are unchanged', () => {
    const local = new Lake('/data/lake');
    expect(local.remote).toBe(false);
    expect(local.metaRoot).toBe('/data/lake');
    expect(local.partitionDir('quarantine', '2026-11-22', 'cleanup')).toBe(
      path.join('/data/lake', 'quarantine', 'dt=2026-11-22', 'step=cleanup'),
    );
    expect(local.stagingDir('r1', 'deals', '2026-11-22')).toBe(
      path.join('/data/lake', '_staging', 'r1', 'deals', 'dt=2026-11-22'),
    );
    expect(isUriRoot('/data/lake')).toBe(false);
    expect(isUriRoot('file:///data/lake')).toBe(true);
    expect(joinLakePath('file:///data/lake', 'deals')).toBe('file:///data/lake/deals');
  });
});
