/** Deterministic sample data: the generator, raw-deal landing and the seeding of a lake. */
export { DEFAULT_SAMPLE, generateSample, type SampleOptions, type SampleResult } from './generator.ts';
export { landRawDeals, sampleFeedRecords } from './ingest.ts';
export { BUNDLED_RSS, type SeedOptions, type SeedTarget, seedSample } from './seed.ts';
