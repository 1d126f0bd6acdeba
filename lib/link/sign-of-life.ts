/** MQTT.js's `timerVariant` as an object: its KeepaliveManager accepts any `{ set, clear }` pair. */
export interface TimerVariant {
  set(callback: () => void, ms: number): unknown
  clear(id: unknown): void
}

/** Interval timers a link can give back when the client ends (a browser's worker timers end their Worker). */
export interface Intervals extends TimerVariant {
  dispose(): void
}

/** The thread's own `setInterval`: Node's, and a browser's where a Worker is not allowed. */
export const threadIntervals: Intervals = Object.freeze({
  set: (callback: () => void, ms: number): unknown => setInterval(callback, ms),
  clear: (id: unknown): void => clearInterval(id as ReturnType<typeof setInterval>),
  dispose: (): void => undefined,
})

/** What the timers read of, and do to, the link. */
export interface SignOfLife {
  /** Messages received so far (a counter). */
  received(): number
  /**
   * The broker is alive although its PINGRESP has not been read yet: ping again now and start the timer over.
   * Pinging at once keeps the client's own packets within the keepalive: the broker closes a client it has
   * heard nothing from for 1.5 × keepalive (Mosquitto does, with a reset).
   */
  pingAgain(): void
  /** Called just before MQTT.js is told the keepalive has expired. */
  expiring(): void
}

/**
 * Keepalive timers for MQTT.js that count received messages as signs of life. MQTT.js pings on the second
 * tick of its keepalive timer and gives up on the third, looking only for the PINGRESP; but a PINGRESP can
 * sit behind a backlog of messages still being handled. Messages received since the ping prove the broker
 * alive, so the client pings again at once and the timer starts over instead of giving up.
 *
 * @example
 * ```ts
 * const timerVariant = signOfLifeTimers({ received: () => count, pingAgain: () => { client.sendPing(); client.reschedulePing(true) }, expiring: () => {} })
 * ```
 */
export function signOfLifeTimers(link: SignOfLife, intervals: TimerVariant = threadIntervals): TimerVariant {
  return {
    set: (callback, ms) => {
      let ticks = 0
      let receivedAtPing = link.received()
      return intervals.set(() => {
        ticks += 1
        if (ticks === 2) receivedAtPing = link.received()
        if (ticks >= 3) {
          if (link.received() !== receivedAtPing) return link.pingAgain()
          link.expiring()
        }
        callback()
      }, ms)
    },
    clear: (id) => intervals.clear(id),
  }
}
