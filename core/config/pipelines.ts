/** The nightly DAG runner: data-quality thresholds and step retries (pipelines/). */
import { z } from 'zod';

const Severity = z.enum(['fail', 'warn']);

export const DqSection = z
  .strictObject({
    completeness: z
      .strictObject({ min: z.number().min(0).max(1).default(0.95), severity: Severity.default('fail') })
      .prefault({}),
    validity: z
      .strictObject({ min: z.number().min(0).max(1).default(0.99), severity: Severity.default('fail') })
      .prefault({}),
    freshness: z
      .strictObject({ maxAgeHours: z.number().positive().default(48), severity: Severity.default('warn') })
      .prefault({}),
    rowCountChange: z
      .strictObject({ maxRatio: z.number().positive().default(0.5), severity: Severity.default('warn') })
      .prefault({}),
    quarantineRate: z
      .strictObject({ max: z.number().min(0).max(1).default(0.25), severity: Severity.default('warn') })
      .prefault({}),
    conservation: z.strictObject({ severity: Severity.default('fail') }).prefault({}),
    /** Share of a night's raw files that may be unreadable (each quarantined file-level) before the step fails. */
    unreadableFiles: z
      .strictObject({ maxRatio: z.number().min(0).max(1).default(0.5), severity: Severity.default('fail') })
      .prefault({}),
  })
  .prefault({});

export const PipelineSection = z
  .strictObject({
    retries: z.number().int().min(0).max(10).default(2),
    retryMinDelayMs: z.number().int().min(0).default(500),
  })
  .prefault({});
