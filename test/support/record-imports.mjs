// `node --import ./test/support/record-imports.mjs …`: appends every module URL the process
// resolves through the ESM loader to $RECORD_IMPORTS_FILE, one per line, so a test can check
// what a command loads (e.g. that `dealctl --help` loads no AWS SDK, kafkajs, OpenSearch, DuckDB).
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_FILE } });
