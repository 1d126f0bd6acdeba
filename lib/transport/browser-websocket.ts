import type { OpenTransport } from './transport.js'
import { openWebSocket } from './websocket.js'

/**
 * Opens ws:// and wss:// with the browser's `WebSocket` (TLS is the browser's: the TLS settings do not
 * apply). A failed handshake shows only as a close (1006) before `open`, reported as `websocket-handshake`
 * with that close code; a URL the constructor refuses (or a page's policy) as a `protocol` failure.
 * `pause()` holds the messages back from the link, since a browser cannot stop reading.
 *
 * @example
 * ```ts
 * const transport = openBrowserWebSocket(endpoint, {}, { open, data, failed, closed })
 * ```
 */
export const openBrowserWebSocket: OpenTransport = openWebSocket({
  make: (url, _tls, endpoint) => new WebSocket(url, ['mqtt', ...(endpoint.subprotocols ?? [])]),
  // Writes of one run of the page's code leave as one frame, without waiting for a task.
  afterTurn: (callback) => queueMicrotask(callback),
})
