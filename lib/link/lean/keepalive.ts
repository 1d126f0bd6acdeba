import type { TimerVariant } from '../sign-of-life.js'

/** What the keepalive does to the link. */
export interface KeepaliveActions {
  /** Sends a PINGREQ. */
  ping(): void
  /** Nothing heard from the broker for 1.5 × keepalive: the link reports it and drops the connection. */
  expired(): void
}

/**
 * The client's keepalive (MQTT §3.1.2.10), on counters rather than clocks: a tick every half keepalive pings
 * when the client wrote nothing since the last tick (so something leaves within the keepalive) or heard
 * nothing (a check), and gives up after three silent ticks. Anything read counts as hearing the broker,
 * packets handled from a backlog too, so a PINGRESP stuck behind messages is never taken for a dead broker.
 * No clock read per packet: `heard()` and `wrote()` count. While the link holds the socket paused (its reader is
 * behind), the broker's bytes wait unread in the socket: that silence is the client's own, so it pings on but
 * does not expire until `suspend(false)` starts the count again.
 *
 * @example
 * ```ts
 * const keepalive = new Keepalive(threadIntervals, { ping: () => write(PINGREQ), expired: () => socket.destroy() })
 * keepalive.start(30)
 * ```
 */
export class Keepalive {
  #timer: unknown
  #heardCount = 0
  #wroteCount = 0
  #heardAtTick = 0
  #wroteAtTick = 0
  #silentTicks = 0
  #suspended = false

  readonly #intervals: TimerVariant
  readonly #actions: KeepaliveActions

  constructor(
    intervals: TimerVariant,
    actions: KeepaliveActions,
  ) {
    this.#intervals = intervals
    this.#actions = actions
  }

  /** Starts the timer for a connection; 0 seconds turns the keepalive off. */
  start(seconds: number): void {
    this.stop()
    if (!(seconds > 0)) return
    this.#silentTicks = 0
    this.#suspended = false
    this.#heardAtTick = this.#heardCount
    this.#wroteAtTick = this.#wroteCount
    this.#timer = this.#intervals.set(() => this.#tick(), (seconds * 1000) / 2)
  }

  stop(): void {
    if (this.#timer === undefined) return
    this.#intervals.clear(this.#timer)
    this.#timer = undefined
  }

  heard(): void {
    this.#heardCount += 1
  }

  wrote(): void {
    this.#wroteCount += 1
  }

  /** The link paused (true) or resumed (false) reading the socket; resuming gives the broker a full 1.5 × keepalive. */
  suspend(suspended: boolean): void {
    this.#suspended = suspended
    this.#silentTicks = 0
    this.#heardAtTick = this.#heardCount
  }

  #tick(): void {
    const silent = this.#heardCount === this.#heardAtTick
    const idle = this.#wroteCount === this.#wroteAtTick
    this.#heardAtTick = this.#heardCount
    this.#silentTicks = silent && !this.#suspended ? this.#silentTicks + 1 : 0
    if (this.#silentTicks >= 3) {
      this.stop()
      this.#actions.expired()
      return
    }
    if (idle || silent) this.#actions.ping()
    this.#wroteAtTick = this.#wroteCount
  }
}
