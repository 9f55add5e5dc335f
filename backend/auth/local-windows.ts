/**
 * Fixed-window counters in this process: what the login and sign-up limits count with while Redis
 * is unreachable, the same way their Redis scripts do (a window starts at a key's first count).
 * Bounded: expired counters go first; if all are live, the oldest (losing some counts beats
 * growing without end).
 */
export class LocalWindows {
  private readonly counters = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** The key's count in its live window, and the ms it has left ([0, -2] when none: Redis's PTTL for a missing key). */
  peek(key: string, now = Date.now()): [number, number] {
    const counter = this.live(key, now);
    return counter ? [counter.count, counter.resetAt - now] : [0, -2];
  }

  /** Counts one more; [count, ms left]. */
  add(key: string, now = Date.now()): [number, number] {
    let counter = this.live(key, now);
    if (!counter) {
      this.makeRoom(now);
      counter = { count: 0, resetAt: now + this.windowMs };
      this.counters.set(key, counter);
    }
    counter.count += 1;
    return [counter.count, counter.resetAt - now];
  }

  /** Gives one count back (never below zero). */
  giveBack(key: string) {
    const counter = this.counters.get(key);
    if (counter && counter.count > 0) counter.count -= 1;
  }

  delete(key: string) {
    this.counters.delete(key);
  }

  private live(key: string, now: number) {
    const counter = this.counters.get(key);
    return counter && counter.resetAt > now ? counter : undefined;
  }

  private makeRoom(now: number) {
    if (this.counters.size < this.maxKeys) return;
    for (const [key, counter] of this.counters) if (counter.resetAt <= now) this.counters.delete(key);
    if (this.counters.size >= this.maxKeys) this.counters.delete(this.counters.keys().next().value as string);
  }
}
