// The throttling proxy as a process: argv target bytes-per-second latency-ms; prints
// "listening <endpoint>" and runs until killed.
import { startThrottleProxy } from './throttle-proxy.js';

const [target, bytesPerSecond, latencyMs] = process.argv.slice(2);
const proxy = await startThrottleProxy(target as string, {
  bytesPerSecond: Number(bytesPerSecond),
  latencyMs: Number(latencyMs),
});
process.stdout.write(`listening ${proxy.endpoint}\n`);
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
