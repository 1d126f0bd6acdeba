import { openNodeSocket } from './node-socket.js'
import { openNodeWebSocket } from './node-websocket.js'
import type { OpenTransport } from './transport.js'

/**
 * Node's transports by URL scheme: TCP and TLS sockets for mqtt:// and mqtts://, the `ws` package for ws://
 * and wss://.
 *
 * @example
 * ```ts
 * const links = leanLinks(openNodeTransport)
 * ```
 */
export const openNodeTransport: OpenTransport = (endpoint, tls, events) =>
  endpoint.protocol === 'mqtt' || endpoint.protocol === 'mqtts' ? openNodeSocket(endpoint, tls, events) : openNodeWebSocket(endpoint, tls, events)
