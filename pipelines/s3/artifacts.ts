/**
 * Run artifacts (the PySpark runner, the run's plans JSON) uploaded to S3 under content-hash
 * keys: s3://<bucket>/<prefix>/artifacts/<sha256>/<name>. Equal content → equal key, so an
 * upload is skipped when HeadObject finds the object (idempotent, and an EMR step always
 * reads exactly the bytes it was planned with).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type AwsRequest, awsErrorName, httpStatusOf, joinKey, s3Uri } from '../../core/aws.ts';

export interface Artifact {
  /** File name part of the key (e.g. runner.py, plans.json). */
  readonly name: string;
  readonly body: Uint8Array;
  /** Hex SHA-256 of body. */
  readonly sha256: string;
  readonly contentType: string;
  /** Local file the artifact came from, when it came from one. */
  readonly localPath?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.py': 'text/x-python',
  '.json': 'application/json',
  '.sql': 'application/sql',
  '.zip': 'application/zip',
};

export function artifactOf(name: string, body: Uint8Array | string, contentType?: string): Artifact {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`artifact name must be a plain file name: ${name}`);
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return {
    name,
    body: bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    contentType: contentType ?? CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
  };
}

export async function fileArtifact(file: string, name = path.basename(file)): Promise<Artifact> {
  return { ...artifactOf(name, await readFile(file)), localPath: path.resolve(file) };
}

/** <prefix>/artifacts/<sha256>/<name> */
export function artifactKey(prefix: string, artifact: Pick<Artifact, 'name' | 'sha256'>): string {
  return joinKey(prefix, 'artifacts', artifact.sha256, artifact.name);
}

export function artifactUri(bucket: string, prefix: string, artifact: Pick<Artifact, 'name' | 'sha256'>) {
  return s3Uri(bucket, artifactKey(prefix, artifact));
}

function putInput(bucket: string, prefix: string, artifact: Artifact) {
  return {
    Bucket: bucket,
    Key: artifactKey(prefix, artifact),
    Body: artifact.body,
    ContentType: artifact.contentType,
    ChecksumSHA256: Buffer.from(artifact.sha256, 'hex').toString('base64'),
    Metadata: { sha256: artifact.sha256 },
  };
}

/** The requests uploadArtifact makes, for --dry-run (the body is summarised, not printed). */
export function artifactRequests(bucket: string, prefix: string, artifact: Artifact): AwsRequest[] {
  const { Body: _body, ...put } = putInput(bucket, prefix, artifact);
  return [
    { service: 's3', command: 'HeadObject', input: { Bucket: bucket, Key: artifactKey(prefix, artifact) } },
    {
      service: 's3',
      command: 'PutObject',
      input: {
        ...put,
        Body: `<${artifact.body.byteLength} bytes${artifact.localPath ? ` of ${artifact.localPath}` : ''}>`,
      },
      when: 'only if HeadObject found no object of that size (content-hash key: same bytes, same key)',
    },
  ];
}

export interface UploadResult {
  readonly uri: string;
  readonly key: string;
  /** false when the object was already there. */
  readonly uploaded: boolean;
}

/** HEAD, then PUT only when the object is missing (or, impossible unless tampered with, of another size). */
export async function uploadArtifact(
  s3: S3Client,
  bucket: string,
  prefix: string,
  artifact: Artifact,
): Promise<UploadResult> {
  const key = artifactKey(prefix, artifact);
  const uri = s3Uri(bucket, key);
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.ContentLength === artifact.body.byteLength) return { uri, key, uploaded: false };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  await s3.send(new PutObjectCommand(putInput(bucket, prefix, artifact)));
  return { uri, key, uploaded: true };
}

export function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'NotFound' || name === 'NoSuchKey' || httpStatusOf(error) === 404;
}
