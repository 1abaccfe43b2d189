// What the pipeline needs from an object store, in front of the AWS SDK: list, head, ranged
// get. Credentials come from the SDK's default provider chain (env, shared profile, web
// identity for Kubernetes service accounts) — nothing home-made.
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { UnavailableError } from '../../errors.js';

export interface StoredObject {
  key: string;
  bytes: number;
  lastModified: Date;
  etag: string;
}

export interface ObjectHead extends StoredObject {
  /** Base64 SHA-256 of the whole object when the store kept one (single-part uploads). */
  checksumSha256?: string;
  /** User metadata (x-amz-meta-*), lower-case keys. */
  metadata: Record<string, string>;
}

/** The object store as the pipeline sees it. */
export interface ObjectStore {
  readonly description: string;
  list(prefix: string): AsyncIterable<StoredObject>;
  head(key: string): Promise<ObjectHead>;
  /**
   * Bytes [start, end] inclusive; with `ifMatch`, only of the object version with that ETag (the
   * store answers 412 PreconditionFailed once the key holds another object).
   */
  getRange(
    key: string,
    start: number,
    end: number,
    signal?: AbortSignal,
    ifMatch?: string,
  ): Promise<RangeBody>;
  /** The whole object in one GET (the benchmark's baseline). */
  get(key: string, signal?: AbortSignal): Promise<Readable>;
}

/** A ranged GET's body, and which object version it came from (as the response says). */
export interface RangeBody {
  body: Readable;
  /** Without quotes; undefined when the store sent none. */
  etag: string | undefined;
  /** The whole object's size from Content-Range `bytes a-b/total`. */
  totalBytes: number | undefined;
}

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  /** Milliseconds to connect (default 10 s). */
  connectTimeout?: number;
  /** Milliseconds without a byte — waiting for the answer or mid-body — before the request fails (default 30 s). */
  idleTimeout?: number;
  /** Attempts for LIST and HEAD (default 3). */
  attempts?: number;
}

/** An ObjectStore over one S3 bucket. */
export function s3ObjectStore(settings: S3Settings): ObjectStore {
  // No request waits forever: a dead endpoint, an unanswered request and a stalled body all
  // fail after their timeout (TimeoutError, which isRetryable and the SDK's retry both know).
  const requestHandler = {
    connectionTimeout: settings.connectTimeout ?? 10_000,
    socketTimeout: settings.idleTimeout ?? 30_000,
  };
  const client = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: 1, // fetch retries per part itself, with backoff and jitter
    requestHandler,
    ...(settings.endpoint && { endpoint: settings.endpoint }),
  });
  const metaClient = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.attempts ?? 3,
    requestHandler,
    ...(settings.endpoint && { endpoint: settings.endpoint }),
  });
  const description = `s3://${settings.bucket} at ${settings.endpoint ?? `AWS ${settings.region}`}`;
  const wrap = (doing: string) => (error: unknown) => {
    throw s3Error(error, doing, description);
  };
  return {
    description,
    async *list(prefix) {
      try {
        for await (const page of paginateListObjectsV2(
          { client: metaClient },
          { Bucket: settings.bucket, Prefix: prefix },
        )) {
          for (const object of page.Contents ?? []) {
            if (!object.Key) continue;
            yield {
              key: object.Key,
              bytes: object.Size ?? 0,
              lastModified: object.LastModified ?? new Date(0),
              etag: (object.ETag ?? '').replace(/"/g, ''),
            };
          }
        }
      } catch (error) {
        wrap(`listing ${prefix || '/'}`)(error);
      }
    },
    async head(key) {
      const head = await metaClient
        .send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key, ChecksumMode: 'ENABLED' }))
        .catch(wrap(`reading ${key}`));
      return {
        key,
        bytes: head.ContentLength ?? 0,
        lastModified: head.LastModified ?? new Date(0),
        etag: (head.ETag ?? '').replace(/"/g, ''),
        metadata: Object.fromEntries(
          Object.entries(head.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
        ),
        ...(head.ChecksumSHA256 && { checksumSha256: head.ChecksumSHA256 }),
      };
    },
    async getRange(key, start, end, signal, ifMatch) {
      const response = await client
        .send(
          new GetObjectCommand({
            Bucket: settings.bucket,
            Key: key,
            Range: `bytes=${start}-${end}`,
            ...(ifMatch && { IfMatch: `"${ifMatch}"` }),
          }),
          { abortSignal: signal },
        )
        .catch((error: unknown) => {
          throw error; // raw: fetch decides what to retry
        });
      const total = /\/(\d+)$/.exec(response.ContentRange ?? '')?.[1];
      return {
        body: response.Body as Readable,
        etag: response.ETag?.replace(/"/g, ''),
        totalBytes: total === undefined ? undefined : Number(total),
      };
    },
    async get(key, signal) {
      const response = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }), {
        abortSignal: signal,
      });
      return response.Body as Readable;
    },
  };
}

/** S3 failures as the tool's errors: unreachable, wrong bucket and bad credentials are exit 69. */
export function s3Error(error: unknown, doing: string, where: string): Error {
  if (error instanceof UnavailableError) return error;
  const name = (error as { name?: string }).name ?? '';
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const message = (error as Error).message ?? String(error);
  const hint =
    name === 'NoSuchBucket'
      ? 'check source.s3.bucket and source.s3.endpoint'
      : status === 403 ||
          /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|credential/i.test(`${name} ${message}`)
        ? 'check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the profile, or the service account role) and the bucket policy'
        : 'check source.s3.endpoint and that this machine can reach it';
  return new UnavailableError(
    `${doing} in ${where} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${message}`,
    { cause: error, hint },
  );
}

/** Errors worth another try: throttling, 5xx, resets, timeouts. */
export function isRetryable(error: unknown): boolean {
  const name = (error as { name?: string; code?: string }).name ?? '';
  const code = (error as { code?: string }).code ?? '';
  const status =
    error instanceof S3ServiceException
      ? error.$metadata.httpStatusCode
      : (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return /Throttl|SlowDown|RequestTimeout|TimeoutError|ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|socket hang up|Premature close|aborted/i.test(
    `${name} ${code} ${(error as Error).message ?? ''}`,
  );
}
