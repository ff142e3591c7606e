/**
 * Bringing deal records into the lake's raw zone: `dealctl ingest` (feeds, JSON, Parquet), the
 * bundled samples and the stream scanner's archive all land through `landRawDeals`.
 */

export { landRawDeals } from './raw-zone.ts';
export { IngestError, type IngestOptions, type IngestReport, ingestSources, kindOfFile } from './sources.ts';
