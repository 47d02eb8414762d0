import { Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose entry is `<name>.js` next to the module at
 * `moduleUrl`. From the built package that is a plain file URL. When the
 * sources run as TypeScript (tests under vitest or tsx) the entry is
 * `<name>.ts`, and the worker, which runs outside their module loader,
 * registers tsx (a dev dependency) before importing it.
 */
export function startWorker(moduleUrl: string, name: string, workerData: unknown): Worker {
  if (!new URL(moduleUrl).pathname.endsWith('.ts')) {
    return new Worker(new URL(`./${name}.js`, moduleUrl), { workerData });
  }
  // `--import tsx` in execArgv does not apply to a worker's entry on Node 20; tsx's register() does.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, moduleUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
