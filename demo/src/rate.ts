/**
 * Messages per second over a sliding window, counted in fixed buckets: O(1) per message, O(buckets) per
 * read, no allocation. Time is passed in (milliseconds), so the meter is deterministic under test.
 *
 * @example
 * ```ts
 * const meter = new RateMeter()
 * meter.mark(performance.now())
 * meter.rate(performance.now()) // messages per second over the last 5 s
 * ```
 */
export class RateMeter {
  private readonly counts: Float64Array
  private readonly slots: Float64Array
  private started: number | undefined
  /** Every message ever marked. */
  total = 0

  constructor(
    readonly windowMs = 5_000,
    readonly bucketMs = 250,
  ) {
    const buckets = Math.ceil(windowMs / bucketMs)
    this.counts = new Float64Array(buckets)
    this.slots = new Float64Array(buckets).fill(-1)
  }

  /** Counts `n` messages at time `now`. */
  mark(now: number, n = 1): void {
    if (this.started === undefined) this.started = now
    const slot = Math.floor(now / this.bucketMs)
    const index = slot % this.counts.length
    if (this.slots[index] !== slot) {
      this.slots[index] = slot
      this.counts[index] = 0
    }
    this.counts[index] = (this.counts[index] as number) + n
    this.total += n
  }

  /**
   * Messages per second over the window ending at `now`. While the meter is younger than the window, the
   * rate is taken over its age (at least one second), so a fresh burst is not diluted by empty history.
   */
  rate(now: number): number {
    if (this.started === undefined) return 0
    const current = Math.floor(now / this.bucketMs)
    const oldest = current - this.counts.length + 1
    let sum = 0
    for (let i = 0; i < this.counts.length; i++) {
      const slot = this.slots[i] as number
      if (slot >= oldest && slot <= current) sum += this.counts[i] as number
    }
    // The current bucket is only partly over: the window covers the full older buckets plus that part.
    const covered = (this.counts.length - 1) * this.bucketMs + (now - current * this.bucketMs)
    const span = Math.max(1_000, Math.min(covered, now - this.started))
    return (sum * 1_000) / span
  }
}

/** `0`, `0.4/s`, `12/s`, `2.1k/s`. */
export function formatRate(perSecond: number): string {
  if (perSecond <= 0) return '0/s'
  if (perSecond < 10) return `${perSecond.toFixed(1)}/s`
  if (perSecond < 1_000) return `${Math.round(perSecond)}/s`
  return `${(perSecond / 1_000).toFixed(1)}k/s`
}

/** `999`, `1.2k`, `34k`, `1.2M`. */
export function formatCount(n: number): string {
  if (n < 1_000) return String(n)
  if (n < 10_000) return `${(n / 1_000).toFixed(1)}k`
  if (n < 1_000_000) return `${Math.round(n / 1_000)}k`
  return `${(n / 1_000_000).toFixed(1)}M`
}
