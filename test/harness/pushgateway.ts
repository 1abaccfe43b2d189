// A real Prometheus Pushgateway ($PUSHGATEWAY, else prometheus-pushgateway on PATH) on a free port.
import { execa } from 'execa';
import { PUSHGATEWAY, requirePrerequisite } from '../../scripts/lib/dev-prerequisites.js';
import { freePort } from './pg-cluster.js';

export async function startPushgateway(): Promise<{ url: string; stop: () => Promise<void> }> {
  const binary = requirePrerequisite(PUSHGATEWAY);
  const port = await freePort();
  const child = execa(binary, [`--web.listen-address=127.0.0.1:${port}`], { reject: false });
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
