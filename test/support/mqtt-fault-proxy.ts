import { EventEmitter, once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/** `out`: the client's packets to the broker; `in`: the broker's packets to the client. */
export type Direction = 'out' | 'in'

/** The side of a proxied connection a socket faces. */
export type Side = 'client' | 'broker'

export const PACKET_NAMES = [
  'RESERVED', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH',
] as const

export type PacketName = (typeof PACKET_NAMES)[number]

/** One MQTT packet the proxy saw, before any fault was applied to it. */
export interface SeenPacket {
  /** The proxied connection, numbered from 1 in the order they were accepted. */
  readonly connection: number
  readonly direction: Direction
  readonly type: PacketName
  /** PUBLISH (QoS 1/2), the acks, SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK. */
  readonly packetId: number | undefined
  /** PUBLISH only. */
  readonly qos: 0 | 1 | 2 | undefined
  readonly dup: boolean
  /** PUBLISH: its topic; SUBSCRIBE/UNSUBSCRIBE: their filters. */
  readonly topics: readonly string[]
  /** CONNACK only. */
  readonly sessionPresent: boolean | undefined
  /** The connection's protocol level (from its CONNECT): 4 (3.1.1) or 5. */
  readonly level: 4 | 5
  /** The whole packet, fixed header included. */
  readonly bytes: Buffer
}

/**
 * What to do with the packets a rule matches: `cut-before` ends the connection without forwarding the
 * packet, `cut-after` forwards it and then ends the connection (nothing after it passes, in either
 * direction); `drop` withholds it for good; `hold` keeps it (and every later packet in its direction on its
 * connection, in order) until `release()`; `reply` does not forward it and answers its sender with the
 * given packet instead.
 */
export type FaultAction =
  | { readonly kind: 'cut-before' | 'cut-after' | 'drop' | 'hold' }
  | { readonly kind: 'reply'; readonly packet: (seen: SeenPacket) => Uint8Array }

export interface FaultRule {
  readonly direction: Direction
  readonly type: PacketName
  /** Acts on the nth packet that matches (from 1, counted from when the rule was added). Default 1. */
  readonly nth?: number
  /** How many matching packets it acts on, from the nth on (`Infinity`: every one). Default 1. */
  readonly times?: number
  /** Narrows the match (a topic, a QoS, a connection...). */
  readonly where?: (seen: SeenPacket) => boolean
  readonly action: FaultAction
}

interface Conn {
  readonly number: number
  readonly client: Socket
  readonly broker: Socket
  level: 4 | 5
  dead: boolean
  /** Per direction: bytes not yet framed, and packets held back (behind a `hold`). */
  readonly pending: Record<Direction, Buffer>
  readonly held: Record<Direction, Buffer[] | undefined>
}

interface ActiveRule {
  readonly rule: FaultRule
  matched: number
  fired: number
}

/**
 * A TCP proxy in front of a real broker that frames the MQTT stream in both directions (fixed header and
 * remaining length; both protocol levels) and injects faults packet by packet: cut the connection before
 * or after the nth packet of a kind, drop or hold one, stop reading a side, or answer with a packet of the
 * test's choosing. Each packet seen is emitted as `'packet'` (SeenPacket) and kept in `seen`, so a test
 * waits for protocol events (`waitForPacket`), never for the clock. `'connection'` (number) and `'cut'`
 * (number) mark each connection's start and each cut.
 *
 * @example
 * ```ts
 * const proxy = await MqttFaultProxy.start(broker.ports[1883])
 * proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'cut-before' } })
 * const client = connect(proxy.url)
 * ```
 */
export class MqttFaultProxy extends EventEmitter {
  readonly #server: Server
  readonly #conns = new Map<number, Conn>()
  #rules: ActiveRule[] = []
  readonly #paused = new Set<Side>()
  /** Every packet seen, in order, over every connection. */
  readonly seen: SeenPacket[] = []
  /** Connections accepted so far (also the number of the latest). */
  connections = 0

  private constructor(server: Server, readonly port: number) {
    super()
    this.#server = server
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<MqttFaultProxy> {
    let proxy: MqttFaultProxy | undefined
    const server = createServer((client) => {
      if (!proxy) return client.destroy()
      proxy.#accept(client, createConnection({ port: targetPort, host: targetHost }))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    proxy = new MqttFaultProxy(server, (server.address() as AddressInfo).port)
    return proxy
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  /** Adds a fault; it fires on the nth matching packet (and the `times - 1` matching ones after it). */
  inject(rule: FaultRule): void {
    this.#rules.push({ rule, matched: 0, fired: 0 })
  }

  /** Removes every fault not yet fired. */
  clearFaults(): void {
    this.#rules = []
  }

  /** Stops reading from one side on every connection, open and later ones (its bytes wait in the kernel). */
  stopReading(side: Side): void {
    this.#paused.add(side)
    for (const conn of this.#conns.values()) conn[side].pause()
  }

  resumeReading(side: Side): void {
    this.#paused.delete(side)
    for (const conn of this.#conns.values()) conn[side].resume()
  }

  /** Forwards what `hold` kept back, in order, on every connection still open. */
  release(): void {
    for (const conn of this.#conns.values()) {
      for (const direction of ['out', 'in'] as const) {
        const held = conn.held[direction]
        conn.held[direction] = undefined
        for (const bytes of held ?? []) if (!conn.dead) this.#target(conn, direction).write(bytes)
      }
    }
  }

  /** Ends a connection (the latest when not given) as a cut would. */
  cut(connection = this.connections): void {
    const conn = this.#conns.get(connection)
    if (conn) this.#end(conn)
  }

  /** Packets seen so far that pass `predicate`. */
  packets(predicate: (seen: SeenPacket) => boolean): SeenPacket[] {
    return this.seen.filter(predicate)
  }

  /** The first packet (already seen or still to come) that passes `predicate`, or an error naming `what` after `ms`. */
  waitForPacket(predicate: (seen: SeenPacket) => boolean, what: string, ms = 10_000): Promise<SeenPacket> {
    const found = this.seen.find(predicate)
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const onPacket = (seen: SeenPacket): void => {
        if (!predicate(seen)) return
        clearTimeout(timer)
        this.off('packet', onPacket)
        resolve(seen)
      }
      const timer = setTimeout(() => {
        this.off('packet', onPacket)
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
      }, ms)
      this.on('packet', onPacket)
    })
  }

  /** Resolves once connection `number` has been accepted (at once if it already was). */
  waitForConnection(number: number, ms = 10_000): Promise<void> {
    if (this.connections >= number) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onConnection = (n: number): void => {
        if (n < number) return
        clearTimeout(timer)
        this.off('connection', onConnection)
        resolve()
      }
      const timer = setTimeout(() => {
        this.off('connection', onConnection)
        reject(new Error(`timed out after ${ms} ms waiting for connection ${number}`))
      }, ms)
      this.on('connection', onConnection)
    })
  }

  async close(): Promise<void> {
    for (const conn of this.#conns.values()) {
      conn.client.destroy()
      conn.broker.destroy()
    }
    this.#conns.clear()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: Socket, broker: Socket): void {
    this.connections += 1
    const conn: Conn = {
      number: this.connections,
      client,
      broker,
      level: 4,
      dead: false,
      pending: { out: Buffer.alloc(0), in: Buffer.alloc(0) },
      held: { out: undefined, in: undefined },
    }
    this.#conns.set(conn.number, conn)
    for (const side of ['client', 'broker'] as const) {
      const socket = conn[side]
      socket.setNoDelay(true)
      socket.on('error', () => undefined) // a cut is the point: both ends are torn down below
      socket.on('close', () => {
        this.#end(conn)
        conn.client.destroy()
        conn.broker.destroy()
        this.#conns.delete(conn.number)
      })
      socket.on('end', () => this.#end(conn))
      if (this.#paused.has(side)) socket.pause()
    }
    client.on('data', (chunk: Buffer) => this.#read(conn, 'out', chunk))
    broker.on('data', (chunk: Buffer) => this.#read(conn, 'in', chunk))
    this.emit('connection', conn.number)
  }

  #target(conn: Conn, direction: Direction): Socket {
    return direction === 'out' ? conn.broker : conn.client
  }

  #read(conn: Conn, direction: Direction, chunk: Buffer): void {
    // Bytes after a cut are read and thrown away: closing a socket with unread bytes would send a reset,
    // and a reset can discard what was forwarded just before the cut.
    if (conn.dead) return
    let buffer = conn.pending[direction].length ? Buffer.concat([conn.pending[direction], chunk]) : chunk
    for (;;) {
      const length = frameLength(buffer)
      if (length === undefined || buffer.length < length) break
      const bytes = buffer.subarray(0, length)
      buffer = buffer.subarray(length)
      this.#packet(conn, direction, Buffer.from(bytes))
      if (conn.dead) return
    }
    conn.pending[direction] = buffer
  }

  #packet(conn: Conn, direction: Direction, bytes: Buffer): void {
    // CONNECT: the protocol level follows the 2-byte length and the 4 bytes of "MQTT".
    if (direction === 'out' && (bytes[0] as number) >> 4 === 1) conn.level = bytes[varint(bytes, 1)[1] + 6] === 5 ? 5 : 4
    const seen = describePacket(conn.number, direction, conn.level, bytes)
    this.seen.push(seen)
    this.emit('packet', seen)
    const active = this.#rules.find((r) => r.rule.direction === direction && r.rule.type === seen.type && (r.rule.where?.(seen) ?? true) && ++r.matched >= (r.rule.nth ?? 1))
    const action = active?.rule.action
    if (active && ++active.fired >= (active.rule.times ?? 1)) this.#rules = this.#rules.filter((r) => r !== active)
    const target = this.#target(conn, direction)
    if (!action) {
      const held = conn.held[direction]
      if (held) held.push(bytes)
      else target.write(bytes)
    } else if (action.kind === 'cut-before') {
      this.#cut(conn)
    } else if (action.kind === 'cut-after') {
      if (!conn.held[direction]) target.write(bytes)
      this.#cut(conn)
    } else if (action.kind === 'hold') {
      ;(conn.held[direction] ??= []).push(bytes)
    } else if (action.kind === 'reply') {
      this.#target(conn, direction === 'out' ? 'in' : 'out').write(action.packet(seen))
    }
  }

  #cut(conn: Conn): void {
    this.#end(conn)
    this.emit('cut', conn.number)
  }

  /** Nothing passes after this; each side gets a FIN once what was forwarded is written. */
  #end(conn: Conn): void {
    if (conn.dead) return
    conn.dead = true
    for (const side of ['client', 'broker'] as const) {
      const socket = conn[side]
      socket.resume() // keep reading (and discarding) so that the close is a FIN, not a reset
      socket.end()
    }
    // A peer that never closes its half must not keep the connection (and the test) alive.
    setTimeout(() => {
      conn.client.destroy()
      conn.broker.destroy()
    }, 2_000).unref()
  }
}

/** A whole packet's length (fixed header included) once its header is complete, else undefined. */
export function frameLength(buffer: Uint8Array): number | undefined {
  let remaining = 0
  for (let i = 1; i <= 4; i++) {
    if (i >= buffer.length) return undefined
    const byte = buffer[i] as number
    remaining += (byte & 0x7f) * 128 ** (i - 1)
    if ((byte & 0x80) === 0) return 1 + i + remaining
  }
  throw new Error('malformed remaining length')
}

function varint(bytes: Buffer, at: number): [value: number, next: number] {
  let value = 0
  for (let i = 0; i < 4; i++) {
    const byte = bytes[at + i] as number
    value += (byte & 0x7f) * 128 ** i
    if ((byte & 0x80) === 0) return [value, at + i + 1]
  }
  return [value, at + 4]
}

/** What a test needs to know of a packet: kind, identifier, QoS, topics, session present. */
export function describePacket(connection: number, direction: Direction, level: 4 | 5, bytes: Buffer): SeenPacket {
  const first = bytes[0] as number
  const typeNumber = first >> 4
  const type = PACKET_NAMES[typeNumber] as PacketName
  const [, body] = varint(bytes, 1)
  let packetId: number | undefined
  let qos: 0 | 1 | 2 | undefined
  const topics: string[] = []
  let sessionPresent: boolean | undefined
  const u16 = (at: number): number => ((bytes[at] as number) << 8) | (bytes[at + 1] as number)
  if (type === 'PUBLISH') {
    qos = ((first >> 1) & 3) as 0 | 1 | 2
    const length = u16(body)
    topics.push(bytes.toString('utf8', body + 2, body + 2 + length))
    if (qos > 0) packetId = u16(body + 2 + length)
  } else if (type === 'CONNACK') {
    sessionPresent = ((bytes[body] as number) & 1) === 1
  } else if (typeNumber >= 4 && typeNumber <= 11) {
    packetId = u16(body)
    if (type === 'SUBSCRIBE' || type === 'UNSUBSCRIBE') {
      let at = body + 2
      if (level === 5) {
        const [propertiesLength, next] = varint(bytes, at)
        at = next + propertiesLength
      }
      while (at + 2 <= bytes.length) {
        const length = u16(at)
        topics.push(bytes.toString('utf8', at + 2, at + 2 + length))
        at += 2 + length + (type === 'SUBSCRIBE' ? 1 : 0)
      }
    }
  }
  return { connection, direction, type, packetId, qos, dup: type === 'PUBLISH' && (first & 8) === 8, topics, sessionPresent, level, bytes }
}

/**
 * An acknowledgement (PUBACK, PUBREC, PUBREL, PUBCOMP) for `seen`'s packet identifier with `reasonCode`
 * (MQTT 5; under 3.1.1 the code is left out), to answer with instead of forwarding.
 *
 * @example
 * ```ts
 * proxy.inject({ direction: 'out', type: 'PUBLISH', action: { kind: 'reply', packet: (p) => ack('PUBACK', p, 0x80) } })
 * ```
 */
export function ack(type: 'PUBACK' | 'PUBREC' | 'PUBREL' | 'PUBCOMP', seen: SeenPacket, reasonCode = 0): Uint8Array {
  const first = (PACKET_NAMES.indexOf(type) << 4) | (type === 'PUBREL' ? 2 : 0)
  const id = seen.packetId ?? 0
  return seen.level === 5 ? Uint8Array.of(first, 3, id >> 8, id & 0xff, reasonCode) : Uint8Array.of(first, 2, id >> 8, id & 0xff)
}
