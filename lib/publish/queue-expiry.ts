import { MessageExpiredError } from '../errors.js'
import { MAX_TIMER_MS } from '../options/validate.js'

/** What the expiry reads of a queued publish. */
export interface Expiring {
  readonly topic: string
  /** When it expires (ms since the epoch); undefined: never. */
  readonly expiresAt: number | undefined
}

/** The offline queue's expiry timer (see {@link queueExpiry}). */
export interface QueueExpiry {
  /** Looks at the queue at `at` (ms since the epoch) at the latest. */
  arm(at: number): void
  stop(): void
}

/**
 * One timer for the whole offline queue, set for the earliest `expiry` of a queued publish: it takes out each
 * one past its expiry (`expire`, with the error to reject it with) and is set again for the next. A queue with
 * no `expiry` in it never sets it. Closures rather than a class: every app ships it, and local variables
 * minify where private fields do not.
 *
 * @example
 * ```ts
 * const expiry = queueExpiry(() => queue.entries(), (publish, error) => withdraw(publish, error), Date.now)
 * expiry.arm(publish.expiresAt)
 * ```
 */
export function queueExpiry<T extends Expiring>(queued: () => Iterable<T>, expire: (entry: T, error: MessageExpiredError) => void, now: () => number): QueueExpiry {
  let timer: ReturnType<typeof setTimeout> | undefined
  let armedAt = Infinity
  const self: QueueExpiry = {
    arm(at) {
      if (timer !== undefined && at >= armedAt) return
      clearTimeout(timer)
      armedAt = at
      timer = setTimeout(due, Math.min(Math.max(0, at - now()), MAX_TIMER_MS))
    },
    stop() {
      clearTimeout(timer)
      timer = undefined
    },
  }
  function due(): void {
    timer = undefined
    armedAt = Infinity
    const time = now()
    for (const entry of queued()) {
      const at = entry.expiresAt
      if (at === undefined) continue
      if (at <= time) expire(entry, expiredError(entry))
      else self.arm(at)
    }
  }
  return self
}

/** The error a publish past its expiry is rejected with. */
export function expiredError(entry: Expiring): MessageExpiredError {
  return new MessageExpiredError(entry.topic, 'its expiry passed before it could be sent')
}
