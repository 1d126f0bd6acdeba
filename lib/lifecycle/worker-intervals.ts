import type { Intervals } from '../link/sign-of-life.js'

// The fallback calls setInterval itself rather than importing threadIntervals: a browser loads this file as a
// chunk of its own, and a module it shared with the entry would be one more chunk at start (see LinkKit).

/**
 * The Worker's whole program. A dedicated Worker's timers are not subject to the intensive wake-up throttling
 * that Chrome applies to a hidden page's chained timers (about one wake-up a minute), which would space the
 * keepalive's PINGREQs further apart than the broker's 1.5 × keepalive (MQTT.js#1257).
 */
const WORKER_SOURCE = `const timers = new Map()
onmessage = (event) => {
  const [id, ms] = event.data
  if (ms === undefined) {
    clearInterval(timers.get(id))
    timers.delete(id)
  } else {
    timers.set(id, setInterval(() => postMessage(id), ms))
  }
}`

interface Timer {
  readonly callback: () => void
  readonly ms: number
  /** The thread's own interval, once the Worker is refused. */
  thread?: ReturnType<typeof setInterval>
}

/** What a browser offers for a Worker made from a Blob URL (absent in some embedded webviews and runtimes). */
export interface WorkerScope {
  readonly Worker?: typeof Worker
  readonly Blob?: typeof Blob
  readonly URL?: Pick<typeof URL, 'createObjectURL' | 'revokeObjectURL'>
}

/**
 * Interval timers that run in a dedicated Worker made from a Blob URL, so that a hidden tab keeps its
 * keepalive on time; one Worker per client, started on first use and ended by `dispose()`. Falls back to the
 * page's own timers, moving the live ones over, where a Worker cannot be made: no Worker or Blob URLs, or a
 * Content Security Policy without `worker-src blob:` (Chrome throws at `new Worker`, other browsers report an
 * `error` event later). `fellBack` hears why, once.
 *
 * @example
 * ```ts
 * const intervals = workerIntervals()
 * const id = intervals.set(() => ping(), 15_000)
 * intervals.clear(id)
 * intervals.dispose()
 * ```
 */
export function workerIntervals(scope: WorkerScope = globalThis, fellBack: (reason: string) => void = () => undefined): Intervals {
  const timers = new Map<number, Timer>()
  let worker: Worker | undefined
  /** Set once the Worker is refused: every timer runs on the page's thread from then on. */
  let refused = false
  let nextId = 0

  const fallBack = (reason: string): void => {
    if (refused) return
    refused = true
    worker?.terminate()
    worker = undefined
    for (const timer of timers.values()) timer.thread = setInterval(timer.callback, timer.ms)
    fellBack(reason)
  }

  const start = (): Worker | undefined => {
    const { Worker: WorkerClass, Blob: BlobClass, URL: Urls } = scope
    if (!WorkerClass || !BlobClass || !Urls?.createObjectURL) {
      fallBack('this platform has no Worker or Blob URLs')
      return undefined
    }
    let url: string | undefined
    try {
      url = Urls.createObjectURL(new BlobClass([WORKER_SOURCE], { type: 'text/javascript' }))
      const made = new WorkerClass(url)
      made.onmessage = (event: MessageEvent<number>) => timers.get(event.data)?.callback()
      made.onerror = (event) => {
        event.preventDefault?.()
        fallBack('the Worker failed (a Content Security Policy without worker-src blob:?)')
      }
      return made
    } catch (error) {
      fallBack(`the Worker was refused (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`)
      return undefined
    } finally {
      // The Worker holds the script from construction on: the URL itself is needed no longer.
      if (url !== undefined) Urls.revokeObjectURL?.(url)
    }
  }

  return {
    set(callback, ms) {
      const id = (nextId += 1)
      const timer: Timer = { callback, ms }
      timers.set(id, timer)
      if (!refused) worker ??= start()
      if (worker) worker.postMessage([id, ms])
      // A refusal just now has moved this timer over already.
      else timer.thread ??= setInterval(callback, ms)
      return id
    },
    clear(id) {
      const timer = timers.get(id as number)
      if (!timer) return
      timers.delete(id as number)
      if (timer.thread !== undefined) clearInterval(timer.thread)
      else worker?.postMessage([id])
    },
    dispose() {
      for (const timer of timers.values()) if (timer.thread !== undefined) clearInterval(timer.thread)
      timers.clear()
      worker?.terminate()
      worker = undefined
    },
  }
}
