import type { Socket } from 'node:net'
import WebSocket from 'ws'
import type { LinkFailure } from '../link/link.js'
import { handshakeFailure } from '../link/transport-mistakes.js'
import type { Endpoint } from '../options/resolved-options.js'
import type { OpenTransport, TransportTls } from './transport.js'
import { openWebSocket, type WebSocketLike } from './websocket.js'
import { connectSecure } from './node-socket.js'
import { ProxyTunnel } from './proxy-tunnel.js'

/**
 * Opens ws:// and wss:// with the `ws` package: the TLS settings go to its TLS connection for wss://, no
 * compression (MQTT payloads are often compressed already, and deflate costs latency), and its handshake
 * errors reported as the MQTT.js link does (lib/link/transport-mistakes.ts): a status other than 101 as
 * `websocket-handshake`, a reset or a non-HTTP answer as `wrong-transport`; any other error as `socket`.
 *
 * @example
 * ```ts
 * const transport = openNodeWebSocket(endpoint, { ca }, { open, data, failed, closed })
 * ```
 */
export const openNodeWebSocket: OpenTransport = openWebSocket({
  make: (url, tls, endpoint) => makeSocket(url, tls, endpoint),
  failure: nodeFailure,
  // After the turn, as the TCP transport: every write of a read's packets goes out in the frame.
  afterTurn: setImmediate,
})

function makeSocket(url: string, tls: TransportTls, endpoint: Endpoint): WebSocketLike {
  // `ws` hands its options on to tls.connect (and fills in the server name as Node's TLS does not).
  const secure = url.startsWith('wss:') ? (tls as WebSocket.ClientOptions) : {}
  const options: WebSocket.ClientOptions = { ...secure, perMessageDeflate: false }
  if (endpoint.headers) options.headers = { ...endpoint.headers }
  const proxy = endpoint.proxy
  if (proxy) {
    // The handshake goes through the tunnel: `ws` writes its HTTP request to it, as to a socket it made itself.
    options.createConnection = () => {
      const tunnel = new ProxyTunnel(proxy, endpoint.hostname, endpoint.port) as unknown as Socket
      return endpoint.protocol === 'wss' ? connectSecure(endpoint, tls, tunnel) : tunnel
    }
  }
  return new WebSocket(url, ['mqtt', ...(endpoint.subprotocols ?? [])], options)
}

/** `ws`'s errors: it passes them to `addEventListener('error')` listeners as an event with `error`. */
function nodeFailure(event: unknown, endpoint: Endpoint, opened: boolean): LinkFailure | undefined {
  const error = (event as { error?: unknown } | null)?.error
  if (!(error instanceof Error)) return undefined
  // After the handshake a reset is only a reset, and `ws`'s frame errors have `WS_ERR_` codes.
  const mistake = opened ? undefined : handshakeFailure(error, endpoint)
  if (mistake) return mistake
  const code = (error as { code?: unknown }).code
  return { type: 'socket', code: typeof code === 'string' ? code : undefined, message: error.message }
}
