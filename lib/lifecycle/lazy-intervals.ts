import { threadIntervals, type Intervals } from '../link/sign-of-life.js'

interface Timer {
  readonly callback: () => void
  readonly ms: number
  /** The id of the timers it runs on now: the thread's until the others are there, then theirs. */
  id: unknown
}

/**
 * Interval timers whose code comes in a chunk of its own: they run on the thread's own timers from the start,
 * and move over to the ones `load` makes as soon as it has loaded them (which it begins at once). A browser's
 * Worker timers are loaded so, since a page the user never hides does not need them; where the load fails, the
 * thread's timers stay, as where a Worker is refused.
 *
 * @example
 * ```ts
 * const intervals = lazyIntervals(() => import('./worker-intervals.js').then((m) => m.workerIntervals()))
 * ```
 */
export function lazyIntervals(load: () => Promise<Intervals>): Intervals {
  const timers = new Map<number, Timer>()
  let current: Intervals = threadIntervals
  let disposed = false
  let nextId = 0
  load().then(
    (loaded) => {
      if (disposed) return loaded.dispose()
      for (const timer of timers.values()) {
        current.clear(timer.id)
        timer.id = loaded.set(timer.callback, timer.ms)
      }
      current = loaded
    },
    () => undefined,
  )
  return {
    set(callback, ms) {
      const id = (nextId += 1)
      timers.set(id, { callback, ms, id: current.set(callback, ms) })
      return id
    },
    clear(id) {
      const timer = timers.get(id as number)
      if (!timer) return
      timers.delete(id as number)
      current.clear(timer.id)
    },
    dispose() {
      disposed = true
      for (const timer of timers.values()) current.clear(timer.id)
      timers.clear()
      current.dispose()
    },
  }
}
