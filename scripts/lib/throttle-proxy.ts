// A proxy that makes a loopback S3 server behave like an object store across a network: every
// response waits `latencyMs` before its first byte and then flows at most `bytesPerSecond` per
// connection, as object stores cap a single stream. The bench measures downloads through it. It
// runs in a process of its own (`startThrottleProxyProcess`): in the bench's own thread, relaying
// four capped streams competed for one core with the download it measures (and its SHA-256).
import { createServer, request as httpRequest, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { freePort } from '../../test/harness/pg-cluster.js';

export interface ThrottleProxy {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts the proxy in front of `target` (an http:// endpoint). */
export async function startThrottleProxy(
  target: string,
  limits: { bytesPerSecond: number; latencyMs: number },
): Promise<ThrottleProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (response) => {
        response.pause();
        setTimeout(() => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          const started = performance.now();
          let sent = 0;
          response.on('data', (chunk: Buffer) => {
            sent += chunk.length;
            res.write(chunk);
            // Ahead of the cap: hold the upstream until the bytes sent so far are due.
            const dueMs = (sent / limits.bytesPerSecond) * 1000 - (performance.now() - started);
            if (dueMs > 1) {
              response.pause();
              setTimeout(() => response.resume(), dueMs);
            }
          });
          response.on('end', () => res.end());
          response.resume();
        }, limits.latencyMs);
      },
    );
    proxied.on('error', () => res.socket?.destroy());
    req.pipe(proxied);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The same proxy in a child process (scripts/lib/throttle-proxy-main.ts). */
export async function startThrottleProxyProcess(
  target: string,
  limits: { bytesPerSecond: number; latencyMs: number },
): Promise<ThrottleProxy> {
  const main = fileURLToPath(new URL('./throttle-proxy-main.ts', import.meta.url));
  const child = execa(
    process.execPath,
    ['--import', 'tsx', main, target, String(limits.bytesPerSecond), String(limits.latencyMs)],
    { reject: false },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const line = /^listening (\S+)$/m.exec(chunk.toString())?.[1];
      if (line) resolve(line);
    });
    void child.then((result) => reject(new Error(`the throttling proxy exited: ${result.stderr}`)));
  });
  return {
    endpoint,
    close: async () => {
      child.kill();
      await child;
    },
  };
}
