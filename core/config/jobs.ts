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
  })
  .prefault({});
