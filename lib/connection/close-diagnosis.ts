import type { LinkFailure } from '../link/link.js'
import { type CloseContext, type CloseFacts, closeVerdict, type Diagnosis, type TransportFailure, WS_PATHS } from './close-verdict.js'
import { isCertificateFailure } from './refusal.js'
import { proxyVerdict } from '../transport/proxy-verdict.js'

export { type CloseContext, type CloseFacts, type Diagnosis, SILENT_CLOSES_BEFORE_FALLBACK, STABLE_CONNECTION_MS, TAKEOVER_THRESHOLD } from './close-verdict.js'

/**
 * Why a connection ended and what to do, with the failures only Node's transports report read as the Node
 * entry reads them ({@link nodeTransportVerdict}). The whole table in one call, as the tests check it.
 *
 * @example
 * ```ts
 * diagnoseClose({ failures: [{ type: 'socket', code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' }], accepted: false, protocol: 5, ... }, context)
 * // { action: 'fatal', error: ConnectionRefusedError('TLS handshake failed (CERT_HAS_EXPIRED): certificate has expired') }
 * ```
 */
export function diagnoseClose(facts: CloseFacts, context: CloseContext): Diagnosis {
  return closeVerdict(facts, context, nodeTransportVerdict)
}

/**
 * What Node's transports' own failures mean: a port that answered in another protocol than the URL's, and a
 * TLS handshake that failed on a certificate. Here, reached from the Node entry only (lib/node.ts passes it),
 * as a browser's WebSocket reports neither.
 *
 * @example
 * ```ts
 * nodeTransportVerdict({ type: 'socket', code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' })
 * // { fatal: true, message: 'TLS handshake failed (DEPTH_ZERO_SELF_SIGNED_CERT): self-signed certificate' }
 * ```
 */
export function nodeTransportVerdict(failure: LinkFailure): TransportFailure | undefined {
  const proxy = proxyVerdict(failure)
  if (proxy) return proxy
  // The port answered, in another protocol than the URL's: it will answer every retry the same way, and a
  // retry loop would bury the mistake in reconnecting statuses. (A reset is retried: a restarting broker
  // resets connections too.)
  if (failure.type === 'wrong-transport') return { fatal: failure.heard !== 'reset', message: wrongTransport(failure) }
  // The broker's certificate did not verify, or it refused ours: retrying cannot fix that.
  if (failure.type === 'socket' && isCertificateFailure(failure.code)) return { fatal: true, message: `TLS handshake failed (${failure.code}): ${failure.message}` }
  return undefined
}

function wrongTransport(failure: Extract<LinkFailure, { type: 'wrong-transport' }>): string {
  const { url, detail, suggested } = failure
  const listener = suggested.startsWith('mqtts:') ? 'an MQTT over TLS listener' : 'an MQTT (TCP) listener'
  switch (failure.heard) {
    case 'http':
      return `${url} answered in HTTP (${JSON.stringify(detail)}), not MQTT: that port is probably a WebSocket listener. Use ${suggested} (plus the listener's path if it needs one: ${WS_PATHS})`
    case 'not-http':
      return `${url} answered the WebSocket handshake with bytes that are not HTTP (${detail}): that port is not a websockets listener. If it is ${listener}, use ${suggested}`
    case 'reset':
      return `${url} reset the connection during the WebSocket handshake (${detail}): that port probably does not speak HTTP. If it is ${listener}, use ${suggested}`
  }
}
