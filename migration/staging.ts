/**
 * Where the batch files of export and transform live: the state directory (default), or an S3
 * location (`--staging s3://bucket/prefix`, endpoint and credentials from the `aws` config). With
 * S3 every Parquet file is written locally, hashed, uploaded under
 * `<prefix>/<migration id>/<kind>/<file>` (SHA-256 in the object metadata and as the S3
 * checksum), and the local copy is removed; the manifests (files, counts, sizes, SHA-256) are
 * uploaded next to them. Readers (transform, load, verify) download a file and check its SHA-256
 * against the manifest before using it, so a file changed in S3 is refused, never loaded.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorName, httpStatusOf, joinKey, parseS3Uri, s3Uri } from '../core/aws.ts';
import { AwsRequestError, ConfigError, DealFinderError, messageOf } from '../core/errors.ts';
import type { PhaseContext } from './context.ts';
import { MigrationGateError, MigrationRefusedError } from './errors.ts';
import { sha256File } from './parquet.ts';

export type StagedKind = 'export' | 'transformed';

export interface StagedFile {
  readonly file: string;
  readonly sha256: string;
  readonly bytes?: number;
}

export function isS3Location(location: string | undefined): location is string {
  return typeof location === 'string' && /^s3a?:\/\//.test(location);
}

export class Staging {
  private readonly remote: { bucket: string; prefix: string } | null;

  constructor(private readonly ctx: PhaseContext) {
    const uri = ctx.store.state.params.staging;
    if (isS3Location(uri)) {
      const loc = parseS3Uri(uri);
      this.remote = { bucket: loc.bucket, prefix: joinKey(loc.key, ctx.store.state.id) };
    } else this.remote = null;
  }

  get isRemote(): boolean {
    return this.remote !== null;
  }

  /** Where the files of a kind are: the S3 URI prefix or the local folder. */
  where(kind: StagedKind): string {
    return this.remote
      ? s3Uri(this.remote.bucket, joinKey(this.remote.prefix, kind))
      : this.ctx.store.path(kind);
  }

  private get s3(): S3Client {
    const c = this.ctx.opts.s3;
    if (!c)
      throw new ConfigError(
        'an s3:// staging location needs an S3 client',
        'configure `aws` (region, endpoint) in the config; the CLI builds the client from it',
      );
    return c;
  }

  private key(kind: StagedKind, file: string): string {
    return joinKey((this.remote as { prefix: string }).prefix, kind, file);
  }

  private failure(what: string, error: unknown): DealFinderError {
    if (error instanceof DealFinderError) return error;
    return new AwsRequestError(`S3 ${what} failed: ${awsErrorName(error) || messageOf(error)}`, {
      hint: 'check the staging bucket, the aws endpoint/region in the config and the credentials; then rerun the phase (it resumes)',
      cause: error,
    });
  }

  /** Refuses early when the bucket cannot be reached (before anything is exported). */
  async check(): Promise<void> {
    if (!this.remote) return;
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.remote.bucket }));
    } catch (error) {
      const status = httpStatusOf(error);
      throw new MigrationRefusedError(
        `staging bucket ${this.remote.bucket} is not usable (${awsErrorName(error) || status || messageOf(error)})`,
        'create the bucket or fix --staging; check the aws endpoint and credentials in the config',
        { cause: error, details: { bucket: this.remote.bucket } },
      );
    }
  }

  /** After a local file is written and hashed: uploads it (S3) and removes the local copy. */
  async publish(kind: StagedKind, local: string, f: StagedFile): Promise<string | undefined> {
    if (!this.remote) return undefined;
    const Key = this.key(kind, f.file);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.remote.bucket,
          Key,
          Body: readFileSync(local),
          ContentType: 'application/vnd.apache.parquet',
          ChecksumSHA256: Buffer.from(f.sha256, 'hex').toString('base64'),
          Metadata: { sha256: f.sha256 },
        }),
      );
    } catch (error) {
      throw this.failure(`upload of ${Key}`, error);
    }
    rmSync(local, { force: true });
    return s3Uri(this.remote.bucket, Key);
  }

  /** Uploads a manifest (S3 only; the local copy stays the checkpoint). */
  async putManifest(kind: StagedKind, manifest: unknown): Promise<void> {
    if (!this.remote) return;
    const Key = this.key(kind, 'manifest.json');
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.remote.bucket,
          Key,
          Body: `${JSON.stringify(manifest, null, 2)}\n`,
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      throw this.failure(`upload of ${Key}`, error);
    }
  }

  /** True when the file is there and unchanged (local: size + SHA-256; S3: size + recorded SHA-256). */
  async intact(kind: StagedKind, f: StagedFile): Promise<boolean> {
    if (!this.remote) {
      const full = this.ctx.store.path(kind, f.file);
      return (
        existsSync(full) &&
        (f.bytes === undefined || statSync(full).size === f.bytes) &&
        (await sha256File(full)) === f.sha256
      );
    }
    try {
      const h = await this.s3.send(
        new HeadObjectCommand({ Bucket: this.remote.bucket, Key: this.key(kind, f.file) }),
      );
      return (f.bytes === undefined || h.ContentLength === f.bytes) && h.Metadata?.sha256 === f.sha256;
    } catch (error) {
      if (httpStatusOf(error) === 404 || awsErrorName(error) === 'NotFound') return false;
      throw this.failure(`HEAD of ${this.key(kind, f.file)}`, error);
    }
  }

  /**
   * A local path holding the file, checked against its SHA-256 (S3: downloaded into
   * <state>/cache/). Call release() with the path when done.
   */
  async fetch(kind: StagedKind, f: StagedFile): Promise<string> {
    if (!this.remote) {
      const full = this.ctx.store.path(kind, f.file);
      if (!existsSync(full) || (await sha256File(full)) !== f.sha256) throw changed(kind, f, full);
      return full;
    }
    const Key = this.key(kind, f.file);
    const local = this.ctx.store.path('cache', `${kind}-${f.file}`);
    mkdirSync(path.dirname(local), { recursive: true });
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.remote.bucket, Key }));
      writeFileSync(
        local,
        await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404 || awsErrorName(error) === 'NoSuchKey')
        throw changed(kind, f, s3Uri(this.remote.bucket, Key));
      throw this.failure(`download of ${Key}`, error);
    }
    if ((await sha256File(local)) !== f.sha256) {
      rmSync(local, { force: true });
      throw changed(kind, f, s3Uri(this.remote.bucket, Key));
    }
    return local;
  }

  release(local: string): void {
    if (this.remote) rmSync(local, { force: true });
  }
}

/** A staged file that is not what its manifest recorded: the phase that reads it stops. */
function changed(kind: StagedKind, f: StagedFile, where: string) {
  return new MigrationGateError(
    kind === 'export' ? 'transform' : 'load',
    `${where} is missing or its SHA-256 differs from the ${kind} manifest`,
    kind === 'export'
      ? 'rerun export (it re-exports from the first missing or changed file), then transform'
      : 'rerun transform (it redoes batches whose output is missing or changed)',
    { file: f.file, expectedSha256: f.sha256 },
  );
}
