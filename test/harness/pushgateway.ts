// A real Prometheus Pushgateway (Debian's prometheus-pushgateway) on a free port.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { freePort } from './pg-cluster.js';

const BINARY = '/usr/bin/prometheus-pushgateway';

export async function startPushgateway(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} not found: apt-get install prometheus-pushgateway`);
  const port = await freePort();
  const child = execa(BINARY, [`--web.listen-address=127.0.0.1:${port}`], { reject: false });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('pushgateway did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await child;
    },
  };
}
