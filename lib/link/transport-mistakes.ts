import type { Endpoint } from '../options/resolved-options.js'
import type { LinkFailure } from './link.js'

/** How an HTTP response starts: what a websockets listener (or any web server) sends back to an MQTT CONNECT. */
const HTTP = 'HTTP/'
/** How many bytes of the answer are kept to quote its status line. */
const QUOTED = 64
/** The `ws` package's message for a handshake answered with another status than 101. */
const UNEXPECTED_STATUS = /^Unexpected server response: (\d{3})\b/

/** What the watch uses of a stream MQTT.js built: a Node socket or `ws` stream, or its browser WebSocket duplex. */
export interface WatchedStream {
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  removeListener(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  destroy(): unknown
  /** MQTT.js's browser stream keeps its WebSocket here. */
  readonly socket?: unknown
}

interface BrowserWebSocket {
  addEventListener(type: 'open', listener: () => void): void
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void
}

const isBrowserWebSocket = (socket: unknown): socket is BrowserWebSocket =>
  typeof (socket as { addEventListener?: unknown } | null | undefined)?.addEventListener === 'function'

/**
 * Watches each connection attempt's stream for the signs of a URL whose transport is not the port's: an HTTP
 * answer on mqtt(s)://, a WebSocket handshake refused, reset or answered in something else than HTTP. MQTT.js
 * hides most of these (it drops stream errors without a `code`, and parses an HTTP answer as MQTT packets), so
 * the watch reads the stream itself and reports what it saw as a {@link LinkFailure}.
 */
export class TransportWatch {
  #endpoint: Endpoint | undefined
  /** The attempt's epoch (the connection's), so that a late event of an earlier attempt's stream is not reported as this one's. */
  #attempt = 0
  /** The attempt's browser WebSocket: whether it opened, and its close event. */
  #browser: { opened: boolean; code: number | undefined; reason: string } | undefined

  readonly #report: (failure: LinkFailure) => void

  constructor(report: (failure: LinkFailure) => void) {
    this.#report = report
  }

  /** A new connection attempt to `endpoint`, under the connection's `epoch` for it. */
  begin(endpoint: Endpoint, epoch: number): void {
    this.#endpoint = endpoint
    this.#attempt = epoch
    this.#browser = undefined
  }

  /**
   * Wraps the (private) builder with which MQTT.js makes each attempt's stream, so that every one is watched.
   * The client must not have connected yet.
   */
  watchStreamsOf(client: object): void {
    const internals = client as { streamBuilder?: (client: unknown) => WatchedStream }
    const build = internals.streamBuilder
    if (typeof build !== 'function') throw new Error('MQTT.js has no streamBuilder: the transport watch needs updating')
    internals.streamBuilder = (mqttClient) => {
      const stream = build(mqttClient)
      this.watch(stream)
      return stream
    }
  }

  /** MQTT.js built the attempt's stream. */
  watch(stream: WatchedStream): void {
    const endpoint = this.#endpoint
    if (!endpoint) return
    const attempt = this.#attempt
    const tell = (failure: LinkFailure | undefined): void => {
      if (failure && attempt === this.#attempt) this.#report(failure)
    }
    if (endpoint.protocol === 'mqtt' || endpoint.protocol === 'mqtts') return listenForHttp(stream, endpoint, tell)
    if (isBrowserWebSocket(stream.socket)) {
      // Browsers tell a page nothing about a failed handshake but the close code (1006): only whether the
      // WebSocket opened tells a handshake failure from a broker that closed the CONNECT.
      const browser = { opened: false, code: undefined as number | undefined, reason: '' }
      this.#browser = browser
      stream.socket.addEventListener('open', () => (browser.opened = true))
      stream.socket.addEventListener('close', (event) => Object.assign(browser, { code: event.code, reason: event.reason }))
      return
    }
    stream.on('error', (error) => tell(handshakeFailure(error, endpoint)))
  }

  /** MQTT.js closed the attempt's stream: a browser WebSocket that never opened failed its handshake. */
  end(): void {
    const browser = this.#browser
    const endpoint = this.#endpoint
    this.#browser = undefined
    if (!browser || browser.opened || !endpoint) return
    this.#report({ type: 'websocket-handshake', url: endpoint.url, status: undefined, closeCode: browser.code, detail: browser.reason })
  }
}

/** An mqtt(s):// attempt whose first bytes are HTTP reached a web server, most likely a websockets listener. */
function listenForHttp(stream: WatchedStream, endpoint: Endpoint, tell: (failure: LinkFailure) => void): void {
  let head = ''
  const onData = (chunk: Uint8Array): void => {
    head += String.fromCharCode(...chunk.subarray(0, QUOTED - head.length))
    if (head.length < HTTP.length && HTTP.startsWith(head)) return // the answer may come in more than one chunk
    stream.removeListener('data', onData)
    if (!head.startsWith(HTTP)) return
    const statusLine = head.split(/\r?\n/)[0] ?? head
    tell({ type: 'wrong-transport', url: endpoint.url, heard: 'http', detail: statusLine, suggested: otherTransport(endpoint) })
    // Whatever follows is more HTTP, which MQTT.js would go on parsing as packets.
    stream.destroy()
  }
  stream.on('data', onData)
}

/**
 * A ws(s):// stream's error, from the `ws` package: which of them happen during the handshake (after it, `ws`
 * reports only frame errors, with `WS_ERR_` codes). Refused connections, DNS and TLS errors are left to the
 * link's general handling: they are not about the transport.
 */
export function handshakeFailure(error: Error, endpoint: Endpoint): LinkFailure | undefined {
  const code = (error as { code?: unknown }).code
  const url = endpoint.url
  const status = UNEXPECTED_STATUS.exec(error.message)
  if (status) return { type: 'websocket-handshake', url, status: Number(status[1]), closeCode: undefined, detail: error.message }
  // The port took the HTTP request for garbage and hung up: a raw MQTT listener does exactly that.
  if (code === 'ECONNRESET') return { type: 'wrong-transport', url, heard: 'reset', detail: error.message, suggested: otherTransport(endpoint) }
  // Node's HTTP parser (llhttp) refused the answer: whatever listens there does not speak HTTP.
  if (typeof code === 'string' && code.startsWith('HPE_')) {
    return { type: 'wrong-transport', url, heard: 'not-http', detail: error.message, suggested: otherTransport(endpoint) }
  }
  // `ws`'s own handshake checks (Sec-WebSocket-Accept, subprotocol, Upgrade header) throw errors without a code.
  if (code === undefined) return { type: 'websocket-handshake', url, status: undefined, closeCode: undefined, detail: error.message }
  return undefined
}

/** The same host and port with the other transport: ws for mqtt, wss for mqtts, and back. */
export function otherTransport(endpoint: Endpoint): string {
  const host = endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname
  const scheme = { mqtt: 'ws', mqtts: 'wss', ws: 'mqtt', wss: 'mqtts' }[endpoint.protocol]
  return `${scheme}://${host}:${endpoint.port}${scheme === 'ws' || scheme === 'wss' ? '/' : ''}`
}
