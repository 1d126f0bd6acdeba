import type { ResolvedOptions } from '../options/resolved-options.js'
import { backoffDelay } from './backoff.js'
import type { Diagnosis } from './close-verdict.js'

/**
 * What comes after a close or a failed attempt: the client ends (it does not reconnect), or the next attempt
 * starts after `delay` ms, reported as `reconnecting` unless it is part of negotiating the protocol.
 */
export type NextAttempt = { readonly type: 'end' } | { readonly type: 'wait'; readonly delay: number; readonly report: boolean }

const END: NextAttempt = { type: 'end' }

/**
 * When the next attempt goes, and to which cluster node: the backoff's attempt count (started over by a stable
 * connection or by the network coming back), the node each backoff moves on from, and the counts of short and
 * of silent closes in a row that the close verdict weighs.
 *
 * @example
 * ```ts
 * const schedule = new RetrySchedule(2, { initialDelay: 1000, maxDelay: 30000 })
 * schedule.backOff() // { type: 'wait', delay: 500..1000, report: true }
 * ```
 */
export class RetrySchedule {
  // Plain fields, read by the connection and written only by the methods below: getters would cost every
  // browser app bytes and protect nothing.
  /** Attempts backed off since the last stable connection (0 before the first backoff). */
  attempt = 0
  /** The cluster node the next attempt goes to. */
  endpointIndex = 0
  /** Accepted connections closed soon after without a reason, in a row. */
  shortConnections = 0
  /** Closes before CONNACK under MQTT 5, in a row. */
  silentCloses = 0
  readonly #endpoints: number
  readonly #reconnect: ResolvedOptions['reconnect']

  constructor(endpoints: number, reconnect: ResolvedOptions['reconnect']) {
    this.#endpoints = endpoints
    this.#reconnect = reconnect
  }

  /** A CONNACK accepted an attempt, or the protocol negotiation started over: silent closes count from 0. */
  accepted(): void {
    this.silentCloses = 0
  }

  /** What was learnt of the network says nothing now (it came back): delays start over. */
  startOver(): void {
    this.attempt = 0
  }

  /** After a close the verdict said to retry: at once (`atOnce`: a failed liveness check), or after a backoff. */
  afterClose(diagnosis: Extract<Diagnosis, { action: 'retry' }>, atOnce: boolean): NextAttempt {
    if (diagnosis.silent) {
      this.silentCloses += 1
      return { type: 'wait', delay: 0, report: false }
    }
    if (diagnosis.stable) this.attempt = this.shortConnections = 0
    else if (diagnosis.short) this.shortConnections += 1
    if (diagnosis.delay === 'none' || atOnce) return this.#reconnect === false ? END : { type: 'wait', delay: 0, report: true }
    this.endpointIndex = (this.endpointIndex + 1) % this.#endpoints
    return this.backOff()
  }

  /** After an attempt that failed before reaching the broker (a failing credentials provider). */
  backOff(): NextAttempt {
    const reconnect = this.#reconnect
    if (reconnect === false) return END
    this.attempt += 1
    return { type: 'wait', delay: backoffDelay(this.attempt, reconnect), report: true }
  }
}
