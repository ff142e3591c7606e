export { evaluateDq } from './dq.ts';
export { type DqCheckResult, Ledger, type StepDetail, type StepEvent } from './ledger.ts';
export { type NightlyOptions, type ProgressReporter, type RunSummary, runNightly } from './nightly.ts';
