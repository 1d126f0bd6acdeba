import type { LinkFailure } from '../link/link.js'
import type { Endpoint } from '../options/resolved-options.js'
import { failedTransport } from './failed-transport.js'
import { threadIntervals, type TimerVariant } from '../link/sign-of-life.js'
import { HIGH_WATER_MARK, LOW_WATER_MARK, type OpenTransport, type Transport, type TransportEvents, type TransportTls } from './transport.js'
import { TurnBatch } from './turn-batch.js'

/** `WebSocket.OPEN`, which a structural type cannot read from the class. */
const OPEN = 1
/** How often a buffer over the high-water mark is looked at: a WebSocket tells nobody when it empties. */
const WATCH_MS = 10

/**
 * The part of a WebSocket the transport uses: the browser's `WebSocket`, or the `ws` package's, which has the
 * same API plus `pause()`, `resume()` and `terminate()`.
 *
 * @example
 * ```ts
 * const socket: WebSocketLike = new WebSocket('ws://localhost:9001/', 'mqtt')
 * ```
 */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  /** Bytes sent and not yet handed to the network. */
  readonly bufferedAmount: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'open', listener: () => void): void
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void
  addEventListener(type: 'error', listener: (event: unknown) => void): void
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void
  /** Stops reading from the socket (`ws`); browsers have no such thing. */
  pause?(): void
  resume?(): void
  /** Closes the TCP connection at once, without the closing handshake (`ws`). */
  terminate?(): void
}

/**
 * What differs between the WebSocket of Node (`ws`) and that of browsers.
 *
 * @example
 * ```ts
 * const browser: WebSocketPlatform = { make: (url) => new WebSocket(url, 'mqtt'), afterTurn: queueMicrotask }
 * ```
 */
export interface WebSocketPlatform {
  /**
   * A WebSocket to `url` asking for the subprotocol `mqtt` (and the endpoint's own after it), with the
   * endpoint's headers and proxy where the platform has them; may throw (a URL it refuses, a page's policy).
   */
  readonly make: (url: string, tls: TransportTls, endpoint: Endpoint) => WebSocketLike
  /**
   * What the socket's `error` event says, as a failure (`opened`: after the handshake); undefined when it says
   * nothing, as in browsers, which leave a failed handshake to be told by its close before `open`.
   */
  readonly failure?: (event: unknown, endpoint: Endpoint, opened: boolean) => LinkFailure | undefined
  /** When a turn's writes leave, as one frame: after the turn in Node, after the microtasks in a browser. */
  readonly afterTurn: (callback: () => void) => unknown
}

/**
 * The URL a WebSocket opens for an endpoint: scheme, host (IPv6 in brackets), port and path.
 *
 * @example
 * ```ts
 * webSocketUrl({ url: 'ws://[::1]/mqtt', protocol: 'ws', hostname: '::1', port: 80, path: '/mqtt' }) // 'ws://[::1]:80/mqtt'
 * ```
 */
export function webSocketUrl(endpoint: Endpoint): string {
  const host = endpoint.hostname.includes(':') ? `[${endpoint.hostname}]` : endpoint.hostname
  return `${endpoint.protocol}://${host}:${endpoint.port}${endpoint.path || '/'}`
}

/**
 * Makes the opener of ws:// and wss:// transports over the platform's WebSocket: binary frames (a message's
 * bytes are a `data` chunk, a turn's writes one frame), and a handshake failure reported as a link would.
 *
 * @example
 * ```ts
 * const openBrowserWebSocket = openWebSocket({ make: (url) => new WebSocket(url, 'mqtt'), afterTurn: queueMicrotask })
 * ```
 */
export function openWebSocket(platform: WebSocketPlatform): OpenTransport {
  return (endpoint, tls, events, timers = threadIntervals) => {
    if (endpoint.protocol !== 'ws' && endpoint.protocol !== 'wss') {
      return failedTransport(events, { type: 'protocol', message: `a WebSocket opens ws:// and wss://, not ${endpoint.protocol}://` })
    }
    let socket: WebSocketLike
    try {
      socket = platform.make(webSocketUrl(endpoint), tls, endpoint)
    } catch (error) {
      return failedTransport(events, { type: 'protocol', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
    }
    return new WebSocketTransport(socket, endpoint, platform, events, timers)
  }
}

class WebSocketTransport implements Transport {
  readonly #batch: TurnBatch
  #opened = false
  /** A failure was reported: a close before `open` needs no other. */
  #reported = false
  /** `end()` was called: nothing more is sent, and a close before `open` is the link's own, not a failure. */
  #ending = false
  /** `destroy()` was called: nothing more is sent or handed on, and nothing the socket does is a failure. */
  #destroyed = false
  /** `closed` was reported: the socket's later events are not this transport's any more. */
  #finished = false
  #paused = false
  /** Writes before `open`, which a WebSocket refuses. */
  #early: Uint8Array[] = []
  /** The watch on a buffer that reached the high-water mark, until it is down to the low-water mark. */
  #watch: unknown
  /**
   * Messages that came while paused: `ws` stops reading the socket, but hands on what it has already read,
   * and browsers cannot stop at all. They wait here for `resume()`.
   */
  #inbox: Uint8Array[] = []
  /** The socket closed with messages in the inbox: `closed` waits for them. */
  #closePending = false

  readonly #socket: WebSocketLike
  readonly #endpoint: Endpoint
  readonly #platform: WebSocketPlatform
  readonly #events: TransportEvents
  readonly #timers: TimerVariant

  constructor(
    socket: WebSocketLike,
    endpoint: Endpoint,
    platform: WebSocketPlatform,
    events: TransportEvents,
    timers: TimerVariant,
  ) {
    this.#socket = socket
    this.#endpoint = endpoint
    this.#platform = platform
    this.#events = events
    this.#timers = timers
    this.#batch = new TurnBatch(platform.afterTurn, (bytes) => {
      // The link may have ended the stream, or the broker closed it, within the turn.
      if (!this.#finished && socket.readyState === OPEN) socket.send(bytes)
    })
    socket.binaryType = 'arraybuffer'
    socket.addEventListener('open', () => this.#onOpen())
    socket.addEventListener('message', (event) => this.#onMessage(event.data))
    socket.addEventListener('error', (event) => this.#onError(event))
    socket.addEventListener('close', (event) => this.#onClose(event))
  }

  get buffered(): number {
    // Before `open` only the CONNECT is written: publishes wait for the CONNACK.
    return this.#batch.bytes + (this.#opened ? this.#socket.bufferedAmount : 0)
  }

  write(bytes: Uint8Array): void {
    if (this.#ending || this.#destroyed || this.#finished) return
    if (this.#opened) this.#batch.add(bytes)
    else this.#early.push(bytes)
    if (this.#watch === undefined && this.buffered >= HIGH_WATER_MARK) {
      this.#watch = this.#timers.set(() => {
        if (this.buffered > LOW_WATER_MARK) return
        this.#unwatch()
        this.#events.drain()
      }, WATCH_MS)
    }
  }

  pause(): void {
    this.#paused = true
    if (this.#opened) this.#socket.pause?.() // `ws` ignores it before the handshake: done on `open`
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    if (this.#opened) this.#socket.resume?.()
    // Later, as a socket's `resume()` hands on data: the link is not called back from within its own call.
    if (this.#inbox.length > 0) queueMicrotask(() => this.#drain())
  }

  end(): void {
    if (this.#ending || this.#destroyed || this.#finished) return
    this.#ending = true
    this.#unwatch()
    this.#early = []
    this.#batch.flush()
    // A close frame follows the messages sent before it; `closed` comes with the broker's answer to it.
    this.#socket.close(1000)
  }

  destroy(): void {
    if (this.#finished) return
    this.#destroyed = true
    this.#unwatch()
    this.#early = []
    this.#inbox = []
    this.#batch.drop()
    if (this.#socket.terminate) this.#socket.terminate()
    else this.#socket.close()
    // A browser's close waits for the closing handshake, which a dead network never completes: the link
    // needs `closed` now, and whatever the socket does later is not its business.
    queueMicrotask(() => this.#finish())
  }

  #onOpen(): void {
    if (this.#finished) return
    this.#opened = true
    if (this.#paused) this.#socket.pause?.()
    for (const bytes of this.#early) this.#batch.add(bytes)
    this.#early = []
    this.#events.open()
  }

  #onMessage(data: unknown): void {
    if (this.#finished || this.#destroyed) return
    if (typeof data === 'string') {
      // MQTT travels in binary frames only, and a receiver of any other must close the connection (MQTT 6.0).
      this.#events.failed({ type: 'protocol', message: 'The broker sent a text WebSocket frame: MQTT over WebSockets uses binary frames' })
      this.#reported = true
      return this.destroy()
    }
    const chunk = new Uint8Array(data as ArrayBuffer)
    if (this.#paused || this.#inbox.length > 0) this.#inbox.push(chunk)
    else this.#events.data(chunk)
  }

  #onError(event: unknown): void {
    // Closing before the handshake is done is an error to `ws`, not to the link that asked for it.
    if (this.#finished || this.#destroyed || (this.#ending && !this.#opened)) return
    const failure = this.#platform.failure?.(event, this.#endpoint, this.#opened)
    if (!failure) return
    this.#reported = true
    this.#events.failed(failure)
  }

  #onClose(event: { readonly code: number; readonly reason: string }): void {
    if (this.#finished) return
    this.#batch.drop()
    this.#unwatch()
    if (!this.#opened && !this.#reported && !this.#ending && !this.#destroyed) {
      // All a browser tells a page of a failed handshake (a refused port, a 404, a wrong subprotocol): 1006.
      this.#events.failed({ type: 'websocket-handshake', url: this.#endpoint.url, status: undefined, closeCode: event.code, detail: event.reason })
    }
    if (this.#inbox.length > 0) {
      // As a paused TCP socket, which reads its end only after its data.
      this.#closePending = true
      return
    }
    this.#finish()
  }

  #drain(): void {
    while (!this.#paused && !this.#finished) {
      const chunk = this.#inbox.shift()
      if (!chunk) break
      this.#events.data(chunk)
    }
    if (this.#closePending && this.#inbox.length === 0) this.#finish()
  }

  #unwatch(): void {
    if (this.#watch === undefined) return
    this.#timers.clear(this.#watch)
    this.#watch = undefined
  }

  #finish(): void {
    if (this.#finished) return
    this.#finished = true
    this.#unwatch()
    this.#events.closed()
  }
}
