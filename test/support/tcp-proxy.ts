import { EventEmitter, once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/** One proxied connection: the broker's bytes to the client pass through here, so they can be held. */
interface Link {
  readonly number: number
  readonly client: Socket
  /** Server→client chunks forwarded so far. */
  forwarded: number
  /** Server→client chunks held back, in order. */
  held: Buffer[]
  heldAny: boolean
  serverEnded: boolean
}

/**
 * A TCP proxy on a free loopback port in front of a broker, for fault injection: `cut()` drops every
 * connection mid-stream (both sides see a reset), `refuse` makes new connections fail, `holdServer()`
 * holds the broker's bytes to the clients (the broker works on, its answers wait) until `release()`.
 *
 * Events: `'connection'` (number) for each accepted connection that is proxied, `'held'` (number) the
 * first time a connection holds a chunk back (the broker answered something the client now waits for).
 */
export class TcpProxy extends EventEmitter {
  private readonly sockets = new Set<Socket>()
  private readonly links = new Set<Link>()
  /** While defined, each connection holds server→client chunks once it has forwarded this many. */
  private holdAfter: number | undefined
  /** While true, new connections are accepted and closed at once. */
  refuse = false
  /** Connections accepted so far. */
  connections = 0
  /**
   * The next this many connections are not passed on: the client's first bytes (its CONNECT) are read and
   * the connection is closed with a FIN, no reset and no CONNACK, as RabbitMQ answers an MQTT 5 CONNECT
   * (or a load balancer that drops a connection it just accepted). Counts down to 0.
   */
  hangUp = 0

  private constructor(private readonly server: Server, readonly port: number) {
    super()
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined
    const server = createServer((client) => {
      if (!proxy) return client.destroy()
      proxy.connections += 1
      if (proxy.refuse) return client.destroy()
      if (proxy.hangUp > 0) {
        proxy.hangUp -= 1
        const sockets = proxy.sockets
        sockets.add(client)
        client.on('close', () => sockets.delete(client))
        client.on('error', () => undefined)
        // Reading first matters: closing a socket with unread bytes sends a reset instead of a FIN.
        client.once('data', () => client.end())
        return
      }
      proxy.link(client, createConnection({ port: targetPort, host: targetHost }), proxy.connections)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port)
    return proxy
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  /** Drops every open connection at once, as a network failure would. */
  cut(): void {
    for (const socket of this.sockets) socket.resetAndDestroy()
    this.sockets.clear()
    this.links.clear()
  }

  /**
   * Holds the broker's bytes to the clients (buffered in order, never dropped) on every connection, open
   * and later ones, once it has forwarded `afterChunks` chunks, until `release()`. `holdServer(1)` lets
   * each new connection's first answer (the CONNACK) through and holds everything after it. Client→broker
   * traffic is not affected.
   */
  holdServer(afterChunks = 0): void {
    this.holdAfter = afterChunks
  }

  /** Stops holding: what was held goes to each client now, in order. */
  release(): void {
    this.holdAfter = undefined
    for (const link of this.links) {
      const held = link.held.splice(0)
      for (const chunk of held) link.client.write(chunk)
      link.forwarded += held.length
      if (link.serverEnded) link.client.end()
    }
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private link(client: Socket, upstream: Socket, number: number): void {
    const link: Link = { number, client, forwarded: 0, held: [], heldAny: false, serverEnded: false }
    this.links.add(link)
    for (const socket of [client, upstream]) {
      this.sockets.add(socket)
      socket.on('close', () => {
        this.sockets.delete(socket)
        this.links.delete(link)
      })
      socket.on('error', () => undefined) // a cut is the point; both ends are torn down below
    }
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => {
      if (this.holdAfter !== undefined && link.forwarded >= this.holdAfter) {
        link.held.push(chunk)
        if (!link.heldAny) {
          link.heldAny = true
          this.emit('held', number)
        }
        return
      }
      link.forwarded += 1
      // Backpressure as pipe() would: a slow client slows the broker, not this process's memory.
      if (!client.write(chunk)) {
        upstream.pause()
        client.once('drain', () => upstream.resume())
      }
    })
    upstream.on('end', () => {
      link.serverEnded = true
      if (link.held.length === 0) client.end()
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    this.emit('connection', number)
  }
}
