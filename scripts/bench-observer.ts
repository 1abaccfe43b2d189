// `npm run bench:observer`: only the lock observer's cost (scripts/lib/observer-bench.ts), on a
// generated database, in the deployment's shape and shared. Last line: JSON.
import { parseArgs } from 'node:util';
import { clusterQuery, startCluster } from '../test/harness/pg-cluster.js';
import { Cleanup } from './lib/cleanup.js';
import { applyShape, type ShapeName } from './lib/cpu-shape.js';
import { measureObserver } from './lib/observer-bench.js';
import { productionSql } from './lib/production-db.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    reps: { type: 'string', default: '5' },
    shapes: { type: 'string', default: 'split,shared' },
  },
});
const log = (text: string) => process.stderr.write(`${text}\n`);
const cleanup = new Cleanup();
cleanup.installSignalHandlers(log);
const { info } = await cleanup.acquire('PostgreSQL', startCluster(), (cluster) => cluster.stop());
try {
  process.env.PGPASSWORD = info.password;
  log(`generating ${Number(values.rows).toLocaleString('en')} orders …`);
  await clusterQuery(info, 'postgres', 'CREATE DATABASE observe', []);
  await clusterQuery(info, 'observe', productionSql(Number(values.rows)), []);
  await clusterQuery(info, 'observe', 'VACUUM ANALYZE', []);
  const results = [];
  for (const name of (values.shapes as string).split(',') as ShapeName[]) {
    log(`measuring in shape ${name} …`);
    const figures = await measureObserver(
      info,
      'observe',
      Number(values.reps),
      await applyShape(name, info.dir),
    );
    process.stdout.write(
      `${name}: CREATE INDEX ${figures.createIndexWithoutObserverMs} / ${figures.createIndexWithObserverMs} ms (${figures.observerOverheadPct} %); server CPU with a SHARE lock held ${figures.observerServerCpuOffMsPerS} / ${figures.observerServerCpuOnMsPerS} ms/s (${figures.observerServerCorePct} % of one core)\n`,
    );
    results.push(figures);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
} catch (error) {
  if (!cleanup.interruptedBy) throw error;
} finally {
  await cleanup.run();
}
