// Errors of reaching the broker: refused, not authorised (by the broker, a proxy or an AUTH exchange), lost.
import { IotPubSubError } from './iot-pubsub-error.js'

/**
 * The broker refused the connection (CONNACK with a non-zero code) for a reason other than credentials, or the
 * port answered in another protocol. Final (status `closed`, observers errored), except server unavailable,
 * busy or rate-limited (codes 3, 136, 137, 159), which come as a `reconnecting` status and are retried.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof ConnectionRefusedError) alert(`refused (code ${s.error.reasonCode}): ${s.error.message}`)
 * })
 * ```
 */
export class ConnectionRefusedError extends IotPubSubError {
  override readonly name: string = 'ConnectionRefusedError'
}

/**
 * The broker refused the credentials: 3.1.1 return codes 4 and 5, MQTT 5 reason codes 134 and 135. The client
 * stops (status `closed`, observers errored, publishes rejected) rather than retrying the same refused
 * credentials; a `credentials` provider that returns new ones is retried.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof NotAuthorizedError) showLogin(s.error.reasonCode)
 * })
 * ```
 */
export class NotAuthorizedError extends ConnectionRefusedError {
  override readonly name: string = 'NotAuthorizedError'
}

/**
 * The connection to the broker was lost or could not be made (network error, keepalive timeout, ...): the
 * `error` of a `reconnecting` status while the client retries with backoff, and the rejection of a `request()`
 * whose connection dropped before the reply. Nothing to do unless it persists.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ConnectionLostError) badge.textContent = `offline, retry in ${s.delay} ms: ${s.error.message}`
 * })
 * ```
 */
export class ConnectionLostError extends IotPubSubError {
  override readonly name: string = 'ConnectionLostError'
}

/**
 * Another connection with the same client id keeps taking this client's place: the broker closes each
 * connection soon after accepting it (MQTT 5 says so with reason code 142; 3.1.1 gives no reason). The `error`
 * of a `reconnecting` status, with a growing backoff; give each client instance its own id.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ClientIdConflictError) console.error(`client id taken: ${s.error.message}`)
 * })
 * ```
 */
export class ClientIdConflictError extends ConnectionLostError {
  override readonly name: string = 'ClientIdConflictError'
}

/**
 * The proxy between the client and the broker refused its credentials (HTTP 407 or 401 to the CONNECT, or a
 * failed SOCKS5 authentication), or asked for some and the proxy URL has none. Final, as for the broker's own
 * refusal: the proxy's credentials come from the `proxy` option or the environment, which a retry does not
 * change. The message names the proxy (without its password).
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof ProxyAuthenticationError) console.error(`fix HTTPS_PROXY: ${s.error.message}`)
 * })
 * ```
 */
export class ProxyAuthenticationError extends NotAuthorizedError {
  override readonly name: string = 'ProxyAuthenticationError'
}

/**
 * The proxy between the client and the broker could not be reached, refused the tunnel to the broker (HTTP
 * 403 or 502 to the CONNECT, a SOCKS5 reply other than success), or answered in another protocol. Retried with
 * the backoff, as an unreachable broker is: the `error` of a `reconnecting` status. The message names the proxy.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ProxyError) badge.textContent = `proxy trouble: ${s.error.message}`
 * })
 * ```
 */
export class ProxyError extends ConnectionRefusedError {
  override readonly name: string = 'ProxyError'
}

/**
 * MQTT 5 enhanced authentication (the `auth` option) failed: the broker refused the method (CONNACK 0x8C
 * Bad authentication method: final), the method itself failed (its `start` or `next` rejected, or the broker
 * did not prove itself, as SCRAM's server signature does), or a re-authentication on the live connection was
 * refused (the broker's DISCONNECT). The last two come on `errors$` and as the `error` of a `reconnecting`
 * status: the client reconnects with its backoff, authenticating afresh. A refused login (CONNACK 0x86, 0x87)
 * is a `NotAuthorizedError`, of which this is a kind.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((error) => {
 *   if (error instanceof AuthenticationError) console.warn(`authentication: ${error.message}`)
 * })
 * ```
 */
export class AuthenticationError extends NotAuthorizedError {
  override readonly name: string = 'AuthenticationError'
}
