/** Parameters of the batch jobs (jobs/registry.ts, jobs/plan.ts). */
import { z } from 'zod';

export const JobsSection = z
  .strictObject({
    maxPlausiblePrice: z.number().positive().default(50_000),
    dedupeWindowHours: z
      .number()
      .positive()
      .max(24 * 7)
      .default(24),
    minMatchConfidence: z.number().min(0).max(1).default(0.5),
    /**
     * A deal re-seen within the dedupe window is a new event (a price drop, evaluated and maybe
     * notified) when its price fell below the last event's by at least this percentage AND…
     */
    priceDropPct: z.number().min(0).max(100).default(5),
    /** …by at least this many USD (both must hold). */
    priceDropUsd: z.number().min(0).default(1),
  })
  .prefault({});
