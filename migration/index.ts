/**
 * ChromaDB → OpenSearch k-NN migration as a resumable runbook (see docs/runbooks/migration.md).
 * Public surface: the phases runner, the state store, the source reader, the shadow comparator,
 * the flag file the pricing service reads, and the router that serves nearest-neighbour queries
 * from the store the flag names (with live shadow mode).
 */
export { type AssessReport, assess } from './assess.ts';
export {
  DEFAULT_OPTIONS,
  type PhaseContext,
  type Progress,
  progressFactory,
  type RunOptions,
  runOptionsOf,
} from './context.ts';
export { type ExportManifest, readExportManifest } from './export.ts';
export { bulkIndex, docJson, vectorJson } from './load.ts';
export { BatchFiles } from './parquet.ts';
export { distance, parsePrice, sameBits, type VectorRow, validateRow } from './records.ts';
export { runAll, runPhase } from './runbook.ts';
export { SmileWriter, smileBulkBody } from './smile.ts';
export { type ChromaSource, openSource, type SourceSpec, spaceOf } from './source/index.ts';
export {
  type MigrationParams,
  type MigrationState,
  PHASES,
  type Phase,
  RUN_PHASES,
  StateStore,
} from './state.ts';
export { readVectorStoreFlag, setShadowMode, type VectorStoreFlag } from './switch.ts';
export { type BulkFormat, type Engine, indexBody, OpenSearch, SPACE_TYPES } from './target.ts';
export { readQuarantine, readTransformManifest } from './transform.ts';
export {
  type Neighbours,
  VectorStoreRouter,
  type VectorStoreRouterOptions,
  type VectorStoreStats,
} from './vector-store.ts';
export { compareTopK, osKnn, ShadowComparator } from './verify.ts';
