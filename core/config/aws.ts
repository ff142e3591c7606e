/** AWS access shared by the S3 lake, EMR and Glue (core/aws.ts). */
import { z } from 'zod';

/** AWS access shared by the S3 lake, EMR and Glue (see core/aws.ts). */
export const AwsSection = z
  .strictObject({
    region: z.string().min(1).default('us-east-1'),
    /** Endpoint override (an emulator such as moto); else AWS_ENDPOINT_URL; else the AWS default. */
    endpoint: z.url().optional(),
    /** Path-style S3 addressing; default: on when an endpoint override is in effect. */
    forcePathStyle: z.boolean().optional(),
    /** SDK attempts per request (1 = no retry); throttling and 5xx are retried with backoff. */
    maxAttempts: z.number().int().min(1).max(20).default(5),
    retryMode: z.enum(['standard', 'adaptive']).default('adaptive'),
    /** Bucket for artifacts (runner, plans) and, by default, EMR logs. */
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .default('deal-finder-lake'),
    /** Key prefix under the bucket, without leading or trailing slash. */
    prefix: z
      .string()
      .regex(
        /^([A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*)?$/,
        'a key prefix without leading/trailing "/"',
      )
      .default('deal-finder'),
  })
  .prefault({});
