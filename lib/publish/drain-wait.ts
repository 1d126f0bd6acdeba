/** `end()`'s wait for the pending publishes (see {@link drainWait}). */
export interface DrainWait {
  /** Resolves on `drained()`, or after `ms`. */
  wait(ms: number): Promise<void>
  /** Nothing is pending: the wait is over. */
  drained(): void
}

/**
 * `end()`'s wait for the pending publishes: resolves when the publisher says nothing is pending any more, or
 * after a time, whichever comes first. Closures rather than a class: every app ships it.
 *
 * @example
 * ```ts
 * const drain = drainWait()
 * await drain.wait(5_000) // until drain.drained() or 5 s
 * ```
 */
export function drainWait(): DrainWait {
  let done: (() => void) | undefined
  return {
    wait: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => done?.(), Math.max(0, ms))
        done = () => {
          clearTimeout(timer)
          done = undefined
          resolve()
        }
      }),
    drained: () => done?.(),
  }
}
