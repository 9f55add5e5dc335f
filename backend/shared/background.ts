/**
 * Runs `work` now and every `everyMs`, never two runs at once (a slow one delays the next rather
 * than overlapping it); a failure is handed to `onError` and the next run tries again. The returned
 * function stops it and waits for a run under way, for a clean shutdown.
 */
export function repeatInBackground(everyMs: number, work: () => Promise<unknown>, onError: (err: unknown) => void): () => Promise<unknown> {
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return;
    running = work()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
