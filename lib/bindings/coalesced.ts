/**
 * How often a binding re-renders for a topic that runs hot: `'frame'` (the default) at most once per animation
 * frame, a number at most once per that many milliseconds, `false` for every message.
 *
 * @example
 * ```tsx
 * const temp = useTopic('rooms/kitchen/temp', { codec: 'json', throttle: 250 })
 * ```
 */
export type Throttle = 'frame' | number | false

/**
 * The stores of one throttle flush together, in one task, so that components reading the same topic through
 * stores of their own never show two values in one render. The first change after a quiet spell flushes at
 * the end of its task (a microtask); changes during the frame or interval that follows wait for its end.
 */
class Scheduler {
  readonly #pending = new Set<() => void>()
  #state: 'idle' | 'soon' | 'window' = 'idle'
  readonly #frames: boolean

  constructor(readonly throttle: 'frame' | number) {
    this.#frames = throttle === 'frame' && typeof globalThis.requestAnimationFrame === 'function'
  }

  add(flush: () => void): void {
    this.#pending.add(flush)
    if (this.#state !== 'idle') return
    this.#state = 'soon'
    queueMicrotask(() => this.#run())
  }

  delete(flush: () => void): void {
    this.#pending.delete(flush)
  }

  #run(): void {
    const flushes = [...this.#pending]
    this.#pending.clear()
    for (const flush of flushes) {
      try {
        flush()
      } catch (error) {
        // A listener that throws must not stop the other stores, nor this scheduler (it runs in a timer):
        // reported as RxJS reports an error nobody handles, outside the library's stack.
        setTimeout(() => {
          throw error
        })
      }
    }
    this.#state = 'window'
    const tick = () => {
      if (this.#pending.size === 0) this.#state = 'idle'
      else this.#run()
    }
    if (this.#frames) globalThis.requestAnimationFrame(tick)
    else setTimeout(tick, this.throttle === 'frame' ? 16 : this.throttle)
  }
}

const schedulers = new Map<'frame' | number, Scheduler>()

/**
 * Calls `flush` for changes, coalesced by `throttle` with every other store of the same throttle; `cancel()`
 * drops a pending flush (the store let go of its subscription).
 */
export function coalesced(throttle: Throttle, flush: () => void): { changed(): void; cancel(): void } {
  if (throttle === false || throttle === 0) return { changed: flush, cancel: () => undefined }
  let scheduler = schedulers.get(throttle)
  if (!scheduler) schedulers.set(throttle, (scheduler = new Scheduler(throttle)))
  const shared = scheduler
  return { changed: () => shared.add(flush), cancel: () => shared.delete(flush) }
}
