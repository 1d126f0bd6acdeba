/**
 * Options of `client.connected()`.
 *
 * @example
 * ```ts
 * await client.connected({ timeout: 10_000 })
 * ```
 */
export interface ConnectedOptions {
  /** Reject with `ConnectionLostError` if the client is not connected within this many ms (a positive number: anything else rejects with `UnsupportedOptionError`). */
  timeout?: number
  /** Reject with `ConnectionLostError` when this signal aborts. */
  signal?: AbortSignal
}
