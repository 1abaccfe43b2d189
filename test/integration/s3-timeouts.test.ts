// Nothing waits forever on S3: an endpoint that accepts connections and never answers, and a
// download whose body stalls, end the run with exit 69 and a record, within the configured
// timeouts and retries.
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { freePort } from '../harness/pg-cluster.js';
import { cluster, makeDump, quiet, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { S3_CREDENTIALS, type S3TestServer, startS3Server } from '../harness/s3-server.js';

const TIMEOUTS = { connectTimeout: '1s', idleTimeout: '1s', attempts: 2 };

describe('S3 timeouts', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    cluster();
    Object.assign(process.env, S3_CREDENTIALS);
    const dir = await tempDir('s3-timeouts');
    s3 = await startS3Server(join(dir, 'store'), ['prod-backups']);
    const dump = await makeDump(join(dir, 'a.dump'), 'CREATE TABLE t (id int); INSERT INTO t VALUES (1);');
    await s3.upload('prod-backups', 'pg/app/a.dump', dump);
  });
  afterAll(() => s3?.stop());

  async function configFor(endpoint: string) {
    const dir = await tempDir('s3-timeouts-run');
    const { config } = await writeTestConfig(dir, uniqueDb('s3timeout'), {
      source: {
        s3: { bucket: 'prod-backups', prefix: 'pg/app/', endpoint, forcePathStyle: true, ...TIMEOUTS },
        maxAge: '1d',
      },
    });
    return config;
  }

  it('an endpoint that never answers: exit 69 in the locate step, within the timeouts', async () => {
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => held.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const record = await runRefresh(await configFor(`http://127.0.0.1:${port}`), quiet);
      const elapsed = Date.now() - started;
      expect(record.exitCode).toBe(69);
      expect(record.error?.step).toBe('locate');
      expect(record.error?.message).toMatch(/timed out/);
      expect(held.length).toBe(TIMEOUTS.attempts); // retried, then gave up
      // 2 attempts × 1 s idle + the SDK's backoff; far below the minutes a hang would take.
      expect(elapsed).toBeLessThan(20_000);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it('a download whose body stalls: exit 69 in the fetch step, within the timeouts and retries', async () => {
    // Passes everything through to the real S3 server, except that ranged GETs send their
    // headers and first chunk and then nothing more.
    const upstream = new URL(s3.endpoint);
    let stalled = 0;
    const proxy: Server = createHttpServer((req, res) => {
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          if (req.method === 'GET' && req.headers.range) {
            stalled++;
            response.once('data', (chunk: Buffer) => res.write(chunk.subarray(0, 100)));
            return;
          }
          response.pipe(res);
        },
      );
      forwarded.on('error', () => res.socket?.destroy());
      req.pipe(forwarded);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const record = await runRefresh(await configFor(`http://127.0.0.1:${port}`), quiet);
      const elapsed = Date.now() - started;
      expect(record.exitCode).toBe(69);
      expect(record.error?.step).toBe('fetch');
      expect(stalled).toBeGreaterThan(1); // the stalled part was retried
      expect(elapsed).toBeLessThan(60_000);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
