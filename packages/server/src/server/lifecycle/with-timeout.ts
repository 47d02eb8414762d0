/**
 * Resolves with what `work` resolves to, or with `fallback` once `timeoutMs`
 * passes first (or when `work` rejects). The timer never keeps the process alive
 * after the race is decided.
 */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), timeoutMs);
  });
  try {
    return await Promise.race([work.catch(() => fallback), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
