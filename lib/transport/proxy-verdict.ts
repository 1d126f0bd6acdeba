import type { TransportFailure } from '../connection/close-verdict.js'
import { NotAuthorizedError, ProxyAuthenticationError, ProxyError } from '../errors.js'
import type { LinkFailure } from '../link/link.js'

/** The proxy's errors, by the codes a tunnel gives them (lib/transport/proxy-tunnel.ts). */
const PROXY_CODE = /^ERR_PROXY_(AUTH|REFUSED|UNREACHABLE|TLS|PROTOCOL)$/

/**
 * What Node's proxy tunnels and a refused WebSocket handshake mean (the Node entry's reading, from
 * lib/connection/close-diagnosis.ts): the proxy refused its credentials, final ({@link ProxyAuthenticationError});
 * an https:// proxy's certificate did not verify, final ({@link ProxyError}: no retry can fix it); the proxy
 * refused the tunnel, was out of reach or spoke another protocol, retried ({@link ProxyError}); a
 * handshake answered 401 or 403, the URL's signature or token refused ({@link NotAuthorizedError}), retried
 * while a credentials provider returns another URL or other headers.
 *
 * @example
 * ```ts
 * proxyVerdict({ type: 'socket', code: 'ERR_PROXY_AUTH', message: 'the proxy http://proxy:3128 refused the proxy credentials (HTTP/1.1 407 ...)' })
 * // { fatal: true, credentials: true, message, error: ProxyAuthenticationError }
 * ```
 */
export function proxyVerdict(failure: LinkFailure): TransportFailure | undefined {
  if (failure.type === 'websocket-handshake' && (failure.status === 401 || failure.status === 403)) {
    const message = `the WebSocket handshake with ${failure.url} was refused with HTTP ${failure.status}: the broker (or the gateway in front of it) refused the URL's signature or token, or the handshake's headers (expired? signed for another host or time?)`
    return { fatal: false, credentials: true, message, error: new NotAuthorizedError(message) }
  }
  if (failure.type !== 'socket' || failure.code === undefined || !PROXY_CODE.test(failure.code)) return undefined
  const { message } = failure
  if (failure.code === 'ERR_PROXY_AUTH') return { fatal: true, credentials: true, message, error: new ProxyAuthenticationError(message) }
  if (failure.code === 'ERR_PROXY_TLS') return { fatal: true, message, error: new ProxyError(message) }
  return { fatal: false, message, error: new ProxyError(message) }
}
