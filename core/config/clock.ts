import { z } from 'zod';
import { clockSettingProblem } from '../clock.ts';

/** The one clock (core/clock.ts): an offset such as `+365d` or an instant; default real time. */
export const ClockSection = z
  .strictObject({
    /** Env: DEALFINDER_NOW (or the derived DEALFINDER_CLOCK_NOW). */
    now: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        const problem = value === undefined ? null : clockSettingProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  })
  .prefault({});
