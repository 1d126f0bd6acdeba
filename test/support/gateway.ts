// A WebSocket gateway in front of a broker's TCP listener, as cloud brokers put one in front of theirs: it
// accepts a handshake only with a URL signed with its key and a timestamp younger than `maxAgeMs` (by its own
// clock, which the test moves: expiry without waiting), and, when asked, with a fresh bearer token in the
// `authorization` header. It records each handshake and can close every connection at once.
import { createHmac } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect as connectTcp, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'

export interface Handshake {
  readonly url: string
  readonly accepted: boolean
  /** Why a refused one was refused. */
  readonly reason: string
  readonly headers: IncomingMessage['headers']
  /** The subprotocols the client offered, in its order. */
  readonly subprotocols: readonly string[]
}

export interface GatewayOptions {
  /** The broker's TCP port on 127.0.0.1. */
  readonly brokerPort: number
  readonly key: string
  /** How old a signature (and a token) may be by the gateway's clock. */
  readonly maxAgeMs: number
  /** Also require `authorization: Bearer <token>` with a token signed by {@link signToken}. */
  readonly requireToken?: boolean
}

/** The signature of `path` at `at` (ms): what the gateway checks, and what a test's provider computes. */
export function signature(key: string, path: string, at: number): string {
  return createHmac('sha256', key).update(`${path}\n${at}`).digest('hex')
}

/** `base` (a ws:// URL) with `ts` and `sig` in its query, signed at `at`. */
export function signUrl(base: string, key: string, at: number): string {
  const url = new URL(base)
  url.searchParams.set('ts', String(at))
  url.searchParams.set('sig', signature(key, url.pathname, at))
  return url.toString()
}

/** A bearer token issued at `at`: `<at>.<hmac>`. */
export function signToken(key: string, at: number): string {
  return `${at}.${signature(key, 'token', at)}`
}

export class SigningGateway extends EventEmitter {
  /** The gateway's clock (ms); a test moves it with `advance()`. */
  now = 1_000_000
  readonly handshakes: Handshake[] = []
  readonly #server: Server
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false) })
  readonly #open = new Set<{ ws: WebSocket; tcp: Socket }>()
  readonly #options: GatewayOptions

  private constructor(options: GatewayOptions) {
    super()
    this.#options = options
    this.#server = createServer((_req, res) => res.writeHead(426).end())
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head))
  }

  static async start(options: GatewayOptions): Promise<SigningGateway> {
    const gateway = new SigningGateway(options)
    await new Promise<void>((done) => gateway.#server.listen(0, '127.0.0.1', done))
    return gateway
  }

  get port(): number {
    const address = this.#server.address()
    return typeof address === 'object' && address ? address.port : 0
  }

  /** ws://127.0.0.1:PORT`path`, unsigned. */
  url(path = '/mqtt'): string {
    return `ws://127.0.0.1:${this.port}${path}`
  }

  advance(ms: number): void {
    this.now += ms
  }

  get accepted(): Handshake[] {
    return this.handshakes.filter((h) => h.accepted)
  }

  get refused(): Handshake[] {
    return this.handshakes.filter((h) => !h.accepted)
  }

  /** Closes every bridged connection at once, as a gateway that restarts or drops idle connections does. */
  closeAll(): number {
    const open = [...this.#open]
    for (const { ws, tcp } of open) {
      ws.terminate()
      tcp.destroy()
    }
    this.#open.clear()
    return open.length
  }

  async close(): Promise<void> {
    this.closeAll()
    this.#wss.close()
    await new Promise<void>((done) => this.#server.close(() => done()))
  }

  #check(req: IncomingMessage): string {
    const url = new URL(req.url ?? '/', 'http://gateway')
    const ts = Number(url.searchParams.get('ts'))
    const sig = url.searchParams.get('sig') ?? ''
    if (!Number.isFinite(ts) || sig !== signature(this.#options.key, url.pathname, ts)) return 'bad signature'
    if (this.now - ts > this.#options.maxAgeMs || ts > this.now) return 'expired signature'
    if (this.#options.requireToken) {
      const token = /^Bearer (\d+)\.([0-9a-f]+)$/.exec(req.headers.authorization ?? '')
      if (!token || token[2] !== signature(this.#options.key, 'token', Number(token[1]))) return 'bad token'
      if (this.now - Number(token[1]) > this.#options.maxAgeMs) return 'expired token'
    }
    return ''
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const reason = this.#check(req)
    const subprotocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean)
    const handshake: Handshake = { url: req.url ?? '', accepted: reason === '', reason, headers: req.headers, subprotocols }
    this.handshakes.push(handshake)
    if (reason) {
      socket.end(`HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`)
      this.emit('handshake', handshake)
      return
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const tcp = connectTcp({ host: '127.0.0.1', port: this.#options.brokerPort })
      const pair = { ws, tcp }
      this.#open.add(pair)
      tcp.setNoDelay(true)
      tcp.on('data', (chunk) => ws.send(chunk))
      ws.on('message', (data) => tcp.write(data as Buffer))
      const end = (): void => {
        this.#open.delete(pair)
        ws.terminate()
        tcp.destroy()
      }
      tcp.on('close', end)
      tcp.on('error', end)
      ws.on('close', end)
      ws.on('error', end)
      this.emit('handshake', handshake)
    })
  }
}
