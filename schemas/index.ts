// The Arrow derivation (./derive/arrow.ts) is imported from its file, not re-exported here: code that
// needs only types, validation and SQL (every CLI command) then never loads apache-arrow.
export { type CompiledValidator, compiledValidatorOf } from './derive/compiled.ts';
export {
  quoteIdent,
  type SqlColumn,
  type SqlColumnOptions,
  type SqlDdlOptions,
  type SqlDialect,
  sqlColumnListOf,
  sqlColumnsOf,
  sqlDdlOf,
  sqlEmptyRelationOf,
  sqlProjectionOf,
  sqlTypeOf,
} from './derive/sql.ts';
export { glueColumnsOf, jsonSchemaOf, openSearchMappingOf } from './derive/targets.ts';
export {
  type Validated,
  type ValidationIssue,
  validate,
  validateWithZod,
  validatorOf,
} from './derive/validation.ts';
export {
  columnNames,
  defineRecord,
  type FieldKind,
  type FieldSpec,
  field,
  type RecordDef,
  type RecordOf,
  type RowOf,
  type StrictRecordOf,
} from './field.ts';
export * from './records.ts';

import type { RecordOf, StrictRecordOf } from './field.ts';
import type {
  Deal,
  DqResult,
  EnrichedDeal,
  Feature,
  PriceDaily,
  PriceTrend,
  Product,
  QuarantineRecord,
  RawDeal,
  RunStep,
} from './records.ts';
export type RawDealRecord = RecordOf<typeof RawDeal>;
export type DealRecord = RecordOf<typeof Deal>;
export type ProductRecord = RecordOf<typeof Product>;
export type EnrichedDealRecord = RecordOf<typeof EnrichedDeal>;
export type PriceDailyRecord = RecordOf<typeof PriceDaily>;
export type PriceTrendRecord = RecordOf<typeof PriceTrend>;
export type FeatureRecord = RecordOf<typeof Feature>;
export type QuarantineEntry = RecordOf<typeof QuarantineRecord>;
export type RunStepRecord = RecordOf<typeof RunStep>;
export type DqResultRecord = StrictRecordOf<typeof DqResult>;
export * from './streaming.ts';
export * from './vectors.ts';
