import type { IotPubSubError } from './errors.js'

/** The MQTT protocol level in use: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type ProtocolVersion = 4 | 5

/** The first connection attempt is under way. */
export interface ConnectingStatus {
  /** Tells this status from the others of the {@link Status} union. */
  readonly type: 'connecting'
  /** The broker URL being tried, as given to `connect()`. */
  readonly url: string
}

/** The broker accepted the connection (CONNACK 0). */
export interface ConnectedStatus {
  /** Tells this status from the others of the {@link Status} union. */
  readonly type: 'connected'
  /** The broker URL connected to: with several (a cluster), the node that accepted. */
  readonly url: string
  /** Whether the broker resumed a stored session (`clean: false`) instead of starting a new one. */
  readonly sessionPresent: boolean
  /** The protocol the broker accepted: 5, or 4 (MQTT 3.1.1) after `protocolVersion: 'auto'` fell back. */
  readonly protocolVersion: ProtocolVersion
}

/** The connection was lost or refused for a passing reason; the next attempt starts after `delay` ms. */
export interface ReconnectingStatus {
  /** Tells this status from the others of the {@link Status} union. */
  readonly type: 'reconnecting'
  /** The broker URL the next attempt goes to. */
  readonly url: string
  /** 1 for the first retry after a loss, counting up until a connection succeeds. */
  readonly attempt: number
  /** Milliseconds until this attempt starts (exponential backoff with jitter). */
  readonly delay: number
  /** Why the previous connection ended or failed. */
  readonly error: IotPubSubError
}

/** The client stopped for good: `end()` was called (no `error`), or a fatal error such as refused credentials. */
export interface ClosedStatus {
  /** Tells this status from the others of the {@link Status} union. */
  readonly type: 'closed'
  /** The error that stopped the client, such as `NotAuthorizedError`; `undefined` after `end()`. */
  readonly error: IotPubSubError | undefined
}

/**
 * The connection state, a union tagged by `type`. `client.status$` replays the current one to every new
 * subscriber and completes after `closed`.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting') badge.textContent = `retry ${s.attempt} in ${s.delay} ms: ${s.error.message}`
 * })
 * ```
 */
export type Status = ConnectingStatus | ConnectedStatus | ReconnectingStatus | ClosedStatus
