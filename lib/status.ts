import type { IotPubSubError } from './errors.js'

/** The MQTT protocol level in use: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type ProtocolVersion = 4 | 5

/** The first connection attempt is under way. */
export interface ConnectingStatus {
  readonly type: 'connecting'
  readonly url: string
}

/** The broker accepted the connection (CONNACK 0). */
export interface ConnectedStatus {
  readonly type: 'connected'
  readonly url: string
  /** Whether the broker resumed a stored session (`clean: false`) instead of starting a new one. */
  readonly sessionPresent: boolean
  readonly protocolVersion: ProtocolVersion
}

/** The connection was lost or refused for a passing reason; the next attempt starts after `delay` ms. */
export interface ReconnectingStatus {
  readonly type: 'reconnecting'
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
  readonly type: 'closed'
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
