import { connect as connectTcp, isIP, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions } from 'node:tls'
import type { LinkFailure } from '../link/link.js'
import { otherTransport } from '../link/transport-mistakes.js'
import type { Endpoint } from '../options/resolved-options.js'
import { concatBytes } from './concat-bytes.js'
import { failedTransport } from './failed-transport.js'
import { ProxyTunnel } from './proxy-tunnel.js'
import { HIGH_WATER_MARK, LOW_WATER_MARK, type OpenTransport, type Transport, type TransportEvents, type TransportTls } from './transport.js'
import { TurnBatch } from './turn-batch.js'

/** How an HTTP response starts: what a websockets listener (or any web server) sends back to an MQTT CONNECT. */
const HTTP = 'HTTP/'
/** How many bytes of the answer are kept to quote its status line. */
const QUOTED = 64

/**
 * Opens mqtt:// over TCP (`node:net`) and mqtts:// over TLS (`node:tls`, with the TLS settings as they are;
 * the server name defaults to the hostname unless that is an IP address, which SNI does not carry).
 *
 * @example
 * ```ts
 * const transport = openNodeSocket(endpoint, { ca }, { open, data, failed, closed })
 * transport.write(connectPacket)
 * ```
 */
export const openNodeSocket: OpenTransport = (endpoint, tls, events) => {
  if (endpoint.protocol !== 'mqtt' && endpoint.protocol !== 'mqtts') {
    return failedTransport(events, { type: 'protocol', message: `openNodeSocket opens mqtt:// and mqtts://, not ${endpoint.protocol}://` })
  }
  let socket: Socket
  // Through a proxy, the tunnel stands for the TCP connection: it opens when the proxy has connected it.
  const tunnel = endpoint.proxy && (new ProxyTunnel(endpoint.proxy, endpoint.hostname, endpoint.port) as unknown as Socket)
  try {
    socket = endpoint.protocol === 'mqtts' ? connectSecure(endpoint, tls, tunnel) : tunnel ?? connectTcp({ host: endpoint.hostname, port: endpoint.port })
  } catch (error) {
    tunnel?.destroy()
    // tls.connect parses the key and certificates at once: a bad PEM or passphrase throws here.
    return failedTransport(events, socketFailure(error))
  }
  return new NodeSocketTransport(socket, endpoint, events, tunnel ?? socket)
}

/**
 * TLS to the broker, over `tunnel` when there is a proxy (the proxy sees only the TLS bytes).
 *
 * @example
 * ```ts
 * const socket = connectSecure(endpoint, { ca }, undefined)
 * ```
 */
export function connectSecure(endpoint: Endpoint, tls: TransportTls, tunnel: Socket | undefined): Socket {
  const servername = tls['servername'] ?? (isIP(endpoint.hostname) === 0 ? endpoint.hostname : undefined)
  const target = tunnel ? { socket: tunnel } : { host: endpoint.hostname, port: endpoint.port }
  // Over a tunnel, TLS passes the tunnel's error (the proxy's refusal) on as its own.
  return connectTls({ ...tls, ...target, ...(servername === undefined ? {} : { servername }) } as ConnectionOptions)
}

class NodeSocketTransport implements Transport {
  readonly #batch: TurnBatch
  /** `end()` or `destroy()` was called, or the socket closed: nothing more is written. */
  #over = false
  /** Reads the first bytes for an HTTP answer until they tell; undefined after. */
  #sniff: HttpSniff | undefined
  /** `buffered` reached the high-water mark: `drain` is owed once it is down to the low-water mark. */
  #high = false

  readonly #socket: Socket
  readonly #endpoint: Endpoint
  readonly #events: TransportEvents

  constructor(
    socket: Socket,
    endpoint: Endpoint,
    events: TransportEvents,
    /** What emits `connect`: the socket, or the proxy's tunnel under a TLS socket. */
    connection: Socket,
  ) {
    this.#socket = socket
    this.#endpoint = endpoint
    this.#events = events
    // After the turn's writes, a socket that took them at once gets no 'drain' from Node: it is drained now.
    // Not from within a write, which may send early (see TurnBatch): the link is not called back from its own call.
    const afterTurn = (flush: () => void): void => {
      setImmediate(() => {
        flush()
        this.#drained()
      })
    }
    this.#batch = new TurnBatch(afterTurn, (bytes) => {
      if (!this.#over) socket.write(bytes)
    })
    this.#sniff = new HttpSniff()
    socket.setNoDelay(true) // latency: see lib/link/mqttjs/no-delay.ts
    // TLS too opens on the TCP connection, as MQTT.js does: the CONNECT then waits in the TLS socket and leaves
    // with the handshake's end. Written after 'secureConnect', it could meet a broker that has just refused the
    // client's certificate (TLS 1.3 verifies it after the client's Finished), and the write's ECONNRESET would
    // hide the broker's alert ("unknown ca", "certificate expired") that says why.
    connection.once('connect', () => events.open())
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => events.failed(socketFailure(error)))
    socket.on('drain', () => this.#drained())
    socket.once('close', () => this.#onClose())
  }

  get buffered(): number {
    return this.#batch.bytes + this.#socket.writableLength
  }

  write(bytes: Uint8Array): void {
    if (this.#over) return
    this.#batch.add(bytes)
    if (!this.#high && this.buffered >= HIGH_WATER_MARK) this.#high = true
  }

  pause(): void {
    this.#socket.pause()
  }

  resume(): void {
    this.#socket.resume()
  }

  end(): void {
    if (this.#over) return
    this.#batch.flush()
    this.#over = true
    this.#socket.end()
  }

  destroy(): void {
    this.#over = true
    this.#batch.drop()
    this.#socket.destroy()
  }

  /** Above the low-water mark a 'drain' follows, the socket's buffer being past Node's own (smaller) mark. */
  #drained(): void {
    if (!this.#high || this.#over || this.buffered > LOW_WATER_MARK) return
    this.#high = false
    this.#events.drain()
  }

  #onData(buffer: Buffer): void {
    // A plain Uint8Array over the same memory: a Buffer's `slice` does not copy, a Uint8Array's does.
    const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    const sniff = this.#sniff
    if (!sniff) return this.#events.data(chunk)
    const heard = sniff.read(chunk)
    if (heard === 'more') return
    this.#sniff = undefined
    if (heard === 'not-http') return this.#events.data(sniff.held())
    this.#events.failed({ type: 'wrong-transport', url: this.#endpoint.url, heard: 'http', detail: heard.statusLine, suggested: otherTransport(this.#endpoint) })
    // Whatever follows is more HTTP, which the link would read as packets.
    this.destroy()
  }

  #onClose(): void {
    this.#over = true
    this.#batch.drop()
    const held = this.#sniff?.held()
    this.#sniff = undefined
    if (held && held.byteLength > 0) this.#events.data(held)
    this.#events.closed()
  }
}

/**
 * What `listenForHttp` in lib/link/transport-mistakes.ts reads, the same way: the first bytes, up to 64 as
 * text, until they are `HTTP/` (a web server answered, most likely a websockets listener) or cannot be. The
 * bytes are held meanwhile, so that an HTTP answer never reaches the link as packets: a broker's first byte
 * (CONNACK 0x20, AUTH 0xF0, DISCONNECT 0xE0) is never an `H`, so nothing is held from a broker.
 */
class HttpSniff {
  #head = ''
  readonly #chunks: Uint8Array[] = []

  read(chunk: Uint8Array): 'more' | 'not-http' | { readonly statusLine: string } {
    this.#chunks.push(chunk)
    this.#head += String.fromCharCode(...chunk.subarray(0, QUOTED - this.#head.length))
    if (this.#head.length < HTTP.length && HTTP.startsWith(this.#head)) return 'more' // the answer may come in more than one chunk
    if (!this.#head.startsWith(HTTP)) return 'not-http'
    return { statusLine: this.#head.split(/\r?\n/)[0] ?? this.#head }
  }

  /** The bytes read so far, as one chunk. */
  held(): Uint8Array {
    return concatBytes(this.#chunks)
  }
}

function socketFailure(error: unknown): LinkFailure {
  const code = (error as { code?: unknown } | null)?.code
  return { type: 'socket', code: typeof code === 'string' ? code : undefined, message: error instanceof Error ? error.message : String(error) }
}
