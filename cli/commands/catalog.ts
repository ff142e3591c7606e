import Table from 'cli-table3';
import type { Command } from 'commander';
import { catalogVersions, importCatalog } from '../../catalog/index.ts';
import { duckDbSettings, openDuckDb } from '../../jobs/index.ts';
import { contextOf } from '../context.ts';
import type { CliSession } from '../io.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `dealctl catalog import|versions` (the description is registered in cli/main.ts). */
export function defineCatalog(catalog: Command, { io }: CliSession): void {
  catalog
    .command('import')
    .description(
      'Import product files (CSV/TSV, JSON lines or array, Parquet) as a new version of the lake’s products table. Rows are validated; a bad row is kept in the version’s rejected.jsonl with its reason. Without flags, the prototype’s item shape (title, description/features/details, category, price) and common exports (id/asin, name, main_category) are read.',
    )
    .argument('<file...>')
    .option(
      '--id-column <col>',
      'product id column (default: product_id, id, parent_asin, asin or sku; else a hash of title + category)',
    )
    .option('--title-column <col>', 'title column (default: title, name)')
    .option(
      '--description-column <col>',
      'description column, repeatable: joined in order (default: description, features, details)',
      collect,
    )
    .option('--category-column <col>', 'category column (default: category, main_category)')
    .option('--price-column <col>', 'price column (default: price, list_price); "$1,299.99" or a number')
    .option('--category <name>', 'category of rows that have none (a single-category file)')
    .option('--json', 'JSON output')
    .action(async (files: string[], opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const db = await openDuckDb(duckDbSettings(ctx.config));
      const conn = await db.connect();
      try {
        const r = await importCatalog(conn, files, {
          lake: ctx.lake,
          clock: ctx.clock,
          defaultCategory: opts.category,
          mapping: {
            product_id: opts.idColumn,
            title: opts.titleColumn,
            description: opts.descriptionColumn,
            category: opts.categoryColumn,
            price: opts.priceColumn,
          },
        });
        if (opts.json) {
          io.out.write(`${JSON.stringify(r, null, 2)}\n`);
          return;
        }
        io.out.write(
          `${r.status === 'unchanged' ? 'Unchanged: the catalog already is' : 'Imported'} version ${r.version}: ${r.imported.toLocaleString('en-US')} products from ${r.rows.toLocaleString('en-US')} rows; ${r.rejected.toLocaleString('en-US')} rejected\n`,
        );
        if (r.rejected > 0) {
          const t = new Table({ style: { head: [], border: [] }, head: ['rejected: reason', 'rows'] });
          for (const [k, v] of Object.entries(r.rejectedByReason).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0)))
            t.push([k, v ?? 0]);
          io.out.write(`${t.toString()}\nrejected rows with reasons: ${r.rejectedFile}\n`);
        }
      } finally {
        conn.closeSync();
        db.closeSync();
      }
    });
  catalog
    .command('versions')
    .description('The catalog versions imported so far, oldest first; the last is in force.')
    .option('--json', 'JSON output')
    .action((opts, command: Command) => {
      const ctx = contextOf(command, io.out);
      const versions = catalogVersions(ctx.lake);
      if (opts.json) {
        io.out.write(`${JSON.stringify(versions, null, 2)}\n`);
        return;
      }
      const t = new Table({
        style: { head: [], border: [] },
        head: ['version', 'imported at', 'products', 'rejected'],
      });
      for (const v of versions)
        t.push([
          v.version,
          String(v.manifest.importedAt),
          String(v.manifest.imported),
          String(v.manifest.rejected),
        ]);
      io.out.write(`${t.toString()}\n`);
    });
}
