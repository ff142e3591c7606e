/**
 * A failed step's stderr, from where EMR pushes it: <logUri>/<clusterId>/steps/<stepId>/stderr.gz.
 * EMR uploads step logs about every five minutes, so a fresh failure may not be there yet: the
 * fetch is retried a bounded number of times, and when it is still missing the caller gets the
 * URI to look at later instead of an error.
 */
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../core/aws.ts';
import { isNotFound } from '../s3/artifacts.ts';
import { abortableSleep } from './sleep.ts';

/** s3://…/<clusterId>/steps/<stepId>/ */
export function stepLogPrefix(logUri: string, clusterId: string, stepId: string): string {
  return `${logUri.replace(/\/+$/, '')}/${clusterId}/steps/${stepId}/`;
}

export interface StderrTail {
  /** URI of the stderr object looked for. */
  readonly uri: string;
  /** Last lines, or null when the log is not (yet) in S3. */
  readonly tail: string | null;
  readonly totalLines: number;
}

export interface FetchStderrOptions {
  readonly lines: number;
  /** Attempts while the object is missing (default 1: no waiting). */
  readonly attempts?: number;
  /** Wait between attempts (default 30 s). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal | undefined;
}

export function tailLines(text: string, lines: number): { tail: string; total: number } {
  const all = text.replace(/\n+$/, '').split('\n');
  return { tail: all.slice(-lines).join('\n'), total: all.length };
}

export async function fetchStepStderr(
  s3: S3Client,
  logUri: string,
  clusterId: string,
  stepId: string,
  options: FetchStderrOptions,
): Promise<StderrTail> {
  const prefix = stepLogPrefix(logUri, clusterId, stepId);
  const uri = `${prefix}stderr.gz`;
  const attempts = Math.max(1, options.attempts ?? 1);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    for (const name of ['stderr.gz', 'stderr']) {
      const { bucket, key } = parseS3Uri(`${prefix}${name}`);
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? new Uint8Array());
        const text = name.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
        const { tail, total } = tailLines(text, options.lines);
        return { uri: `${prefix}${name}`, tail, totalLines: total };
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    if (attempt < attempts) await abortableSleep(options.waitMs ?? 30_000, options.signal);
  }
  return { uri, tail: null, totalLines: 0 };
}
