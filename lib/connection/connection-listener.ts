import type { IotPubSubError } from '../errors.js'
import type { Connack, LinkFailure } from '../link/link.js'
import type { ProtocolVersion } from '../status.js'

/**
 * What the other parts (subscriptions, publisher, the client) learn from the connection lifecycle, and the
 * little it asks of them when a connection closes.
 *
 * @example
 * ```ts
 * const listener: ConnectionListener = { connected: () => resubscribe(), ready: () => flush(), ... }
 * ```
 */
export interface ConnectionListener {
  /** A connection was accepted: learn what the broker announced, and whether it kept the session. */
  connected(connack: Connack, protocol: ProtocolVersion): void
  /** Every part has heard of the connection: resubscribe, send what waited. */
  ready(): void
  /** The link's socket, which had more unsent bytes than its high-water mark, can take publishes again. */
  drained(): void
  /** The connection in use is gone (a retry may follow). */
  lost(): void
  /** Asked on every close: whether a publish explains it (the publisher blames and, if need be, rejects it). */
  blamePublish(failures: readonly LinkFailure[], accepted: boolean): boolean
  /** Filters whose SUBSCRIBE awaits its SUBACK. */
  subscribesInFlight(): readonly string[]
  /** An error the app hears of on `errors$` while the client goes on (a refused re-authentication, then a reconnect). */
  error?(error: IotPubSubError): void
  /** The client stopped for good, by `end()` (no error) or a fatal error. */
  stopped(error: IotPubSubError | undefined): void
}
