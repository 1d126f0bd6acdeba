import type { IotPubSubError } from '../errors.js'
import type { Message, QoS } from '../message.js'

/** One request from the call until it settles. */
export interface PendingRequest {
  readonly topic: string
  readonly payload: unknown
  readonly qos: QoS
  readonly correlation: Uint8Array
  readonly timeout: number
  readonly timer: ReturnType<typeof setTimeout>
  /** Aborted when the request fails, so that a publish still queued or in flight is withdrawn. */
  readonly abort: AbortController
  /** Whether `publish()` was called: only then can a lost connection have lost its reply. */
  sent: boolean
  resolve(message: Message<Uint8Array>): void
  reject(error: IotPubSubError): void
}

/**
 * The key a request is filed under: its correlation data in hex, which its reply carries back.
 * @example `correlationKey(new Uint8Array([1, 171])) // '01ab'`
 */
export const correlationKey = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * Fails the request filed under `key`, if it has not settled yet: its deadline is cleared, a publish of it still
 * queued or unacknowledged is withdrawn (its signal aborts with `error`), and its promise rejects.
 *
 * @example `failPending(pending, key, new RequestTimeoutError('no reply within 2000 ms'))`
 */
export function failPending(pending: Map<string, PendingRequest>, key: string, error: IotPubSubError): void {
  const request = pending.get(key)
  if (!request) return
  pending.delete(key)
  clearTimeout(request.timer)
  request.abort.abort(error)
  request.reject(error)
}
