// A real S3-compatible HTTP server for tests (s3rver in a child process), a client to fill it,
// and a fault-injecting proxy to put in front of it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { freePort } from './pg-cluster.js';

export const S3_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
};

export interface S3TestServer {
  endpoint: string;
  client: S3Client;
  /** Uploads a file with its sha256 in user metadata (s3rver keeps no ChecksumSHA256). */
  upload(bucket: string, key: string, file: string, sha256?: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts s3rver on a free port with the given buckets. */
export async function startS3Server(directory: string, buckets: string[]): Promise<S3TestServer> {
  const port = await freePort();
  const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));
  const child = execa(process.execPath, [main, directory, String(port), buckets.join(',')], {
    env: { NODE_OPTIONS: '--openssl-legacy-provider' },
    reject: false,
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    void child.then((result) => reject(new Error(`s3rver exited: ${result.stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async upload(bucket, key, file, sha256) {
      const digest = sha256 ?? (await sha256Of(file));
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: (await stat(file)).size,
          Metadata: { sha256: digest },
        }),
      );
    },
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await child;
    },
  };
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface FaultyProxy {
  endpoint: string;
  stats: { requests: number; failed500: number; dropped: number };
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of `target`. Each byte range's first `faults` GETs fail, alternately
 * with a 500 and with the connection dropped mid-body; its next GET passes (faults = 0: none).
 * Per range, not by a shared count, so no part can be unlucky on every try whatever the order
 * the parallel downloads arrive in. Other requests pass through, slowly with `delayMsPerChunk`.
 */
export async function startFaultyProxy(
  target: string,
  faults = 2,
  options: { delayMsPerChunk?: number } = {},
): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const stats = { requests: 0, failed500: 0, dropped: 0 };
  const tries = new Map<string, number>();
  const server: Server = createHttpServer((req, res) => {
    stats.requests++;
    const range = req.method === 'GET' && faults > 0 ? req.headers.range : undefined;
    const attempt = range === undefined ? 0 : (tries.get(range) ?? 0) + 1;
    if (range !== undefined) tries.set(range, attempt);
    const failing = attempt > 0 && attempt <= faults;
    // Ranges alternate which fault comes first, so both kinds happen on the first tries.
    const kind = failing ? ((attempt + tries.size) % 2 === 0 ? 'error' : 'drop') : 'none';
    if (kind === 'error') {
      stats.failed500++;
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>injected</Message></Error>');
      return;
    }
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        if (kind === 'drop') {
          let sent = 0;
          upstreamResponse.on('data', (chunk: Buffer) => {
            sent += chunk.length;
            res.write(chunk);
            if (sent > 64 * 1024) {
              stats.dropped++;
              upstreamResponse.destroy();
              res.socket?.destroy();
            }
          });
          upstreamResponse.on('end', () => res.end());
        } else if (options.delayMsPerChunk) {
          // Slow mode: every chunk waits, so a download takes long enough to interrupt.
          upstreamResponse.on('data', (chunk: Buffer) => {
            upstreamResponse.pause();
            res.write(chunk);
            setTimeout(() => upstreamResponse.resume(), options.delayMsPerChunk);
          });
          upstreamResponse.on('end', () => res.end());
        } else {
          upstreamResponse.pipe(res);
        }
      },
    );
    proxied.on('error', () => res.socket?.destroy());
    req.pipe(proxied);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
