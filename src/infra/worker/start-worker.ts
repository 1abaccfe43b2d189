// Starts a worker thread from a module next to the caller. Run from source (tests, tsx), the
// worker is TypeScript too: it registers tsx's loader first; from dist it is plain JavaScript.
import { Worker } from 'node:worker_threads';

/** `new Worker` for `./<name>.ts` or `./<name>.js` beside `callerUrl` (the caller's import.meta.url). */
export function startWorker(callerUrl: string, name: string, workerData: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  return fromSource
    ? new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true, workerData },
      )
    : new Worker(url, { workerData });
}
