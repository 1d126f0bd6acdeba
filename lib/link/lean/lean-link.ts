import { reasonText } from '../../reason-codes.js'
import type { IncomingMessage } from '../../subscriptions/broker-subscription.js'
import type { OpenTransport, Transport } from '../../transport/transport.js'
import { encodeClientPacket as encode } from '../../wire/encode-client-packets.js'
import { MalformedPacketError, PACKET_TOO_LARGE } from '../../wire/malformed-packet.js'
import { ClientPacketReader as PacketReader } from '../../wire/client-packet-reader.js'
import type { ConnackPacket, Packet, ProtocolLevel, PublishPacket, SubackPacket } from '../../wire/packets.js'
import type { LivenessProbe } from '../../connection/liveness.js'
import { connectPacket } from './connect-packet.js'
import { InFlightAwareIds } from '../in-flight-aware-ids.js'
import { IncomingAcks } from './incoming-acks.js'
import { Keepalive } from './keepalive.js'
import { LivenessProbes } from '../liveness-probes.js'
import { PublishFlow } from './publish-flow.js'
import { threadIntervals, type Intervals } from '../sign-of-life.js'
import { SubscribeRequests, subackResult, subscribePacket } from './subscribe-requests.js'
import type { Attempt, Link, LinkAckError, LinkEvents, LinkPublishOptions, LinkSettings, LinkSubscribeOptions, LinkSubscription, Suback } from '../link.js'

/** MQTT's largest packet: a 268,435,455-byte remaining length behind a 5-byte fixed header. */
const ANY_SIZE = 268_435_460
/** Bytes read ahead of a busy reader before the socket is paused (backpressure instead of unbounded memory). */
const READ_AHEAD = 1 << 20

/**
 * The lean link: MQTT 5 and 3.1.1 spoken by the SDK itself, on `Uint8Array`s (`wire/`), over one transport per
 * attempt (`transport/`). No Node polyfills, nothing per byte: the browser entry's default. It keeps the
 * session's client side (unacknowledged publishes, incoming QoS 2 identifiers) across connections, resends it
 * on each new one, honours the broker's receive maximum, and reads no further packet while the engine is
 * handling a message.
 */
export class LeanLink implements Link, LivenessProbe {
  #transport: Transport | undefined
  #reader: PacketReader | undefined
  #level: ProtocolLevel = 5
  /** Counts attempts: events of an earlier attempt's transport, and late `done` calls, are ignored. */
  #attempt = 0
  #accepted = false
  #closeReported = true
  #connectTimer: ReturnType<typeof setTimeout> | undefined
  /** The engine is handling a message: no packet is read until it calls back. */
  #busy = false
  #paused = false
  private readonly flow: PublishFlow = new PublishFlow({
    write: (bytes) => this.write(bytes),
    level: () => this.#level,
    accepted: () => this.#accepted,
    allocate: (): number | null => this.#ids.allocate(),
  })
  readonly #incoming = new IncomingAcks()
  private readonly requests = new SubscribeRequests()
  readonly #ids: InFlightAwareIds = new InFlightAwareIds((id: number): boolean => this.flow.store.has(id) || this.requests.has(id))
  readonly #keepalive: Keepalive
  readonly #probes = new LivenessProbes()
  #closing: (() => void) | undefined

  readonly #settings: LinkSettings
  readonly #events: LinkEvents
  readonly #openTransport: OpenTransport
  readonly #intervals: Intervals

  constructor(
    settings: LinkSettings,
    events: LinkEvents,
    openTransport: OpenTransport,
    intervals: Intervals,
  ) {
    this.#settings = settings
    this.#events = events
    this.#openTransport = openTransport
    this.#intervals = intervals
    this.#keepalive = new Keepalive(intervals, {
      ping: () => this.write(encode({ type: 'pingreq' }, this.#level)),
      expired: () => {
        this.#events.failed({ type: 'keepalive' })
        this.#transport?.destroy()
      },
    })
  }

  open(attempt: Attempt): void {
    this.#attempt += 1
    const current = this.#attempt
    this.#accepted = false
    this.#closeReported = false
    this.#busy = false
    this.#paused = false
    this.#level = attempt.protocolVersion
    const reader = new PacketReader({ maximumPacketSize: this.#settings.maxIncomingPacketSize ?? ANY_SIZE })
    reader.level = attempt.protocolVersion
    this.#reader = reader
    this.#connectTimer = setTimeout(() => {
      if (current !== this.#attempt || this.#accepted) return
      this.#events.failed({ type: 'connect-timeout' })
      this.#transport?.destroy()
    }, this.#settings.connectTimeout)
    this.#transport = this.#openTransport(attempt.endpoint, this.#settings.tls, {
      open: () => {
        if (current === this.#attempt) this.write(encode(connectPacket(this.#settings, attempt), attempt.protocolVersion))
      },
      data: (chunk) => {
        if (current !== this.#attempt) return
        this.#keepalive.heard()
        this.#probes.answerAll(true)
        reader.push(chunk)
        this.#read()
      },
      failed: (failure) => {
        if (current === this.#attempt) this.#events.failed(failure)
      },
      closed: () => {
        if (current === this.#attempt) this.#onClosed()
      },
    })
  }

  publish(topic: string, payload: Uint8Array | string, options: LinkPublishOptions, done: (error?: LinkAckError) => void): number | undefined {
    return this.flow.publish(topic, payload, options, done)
  }

  withdraw(packetId: number): void {
    this.flow.withdraw(packetId)
  }

  subscribe(filter: string, options: LinkSubscribeOptions, done: (result: Suback) => void): void {
    this.subscribeMany([{ filter, options }], (results) => done(results[0] ?? { lost: true }))
  }

  subscribeMany(subscriptions: readonly LinkSubscription[], done: (results: readonly Suback[]) => void): void {
    this.#request((packetId) => subscribePacket(subscriptions, packetId, this.#level), (ack) => done(subscriptions.map((_, i) => subackResult(ack, i))))
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    this.unsubscribeMany([filter], done)
  }

  unsubscribeMany(filters: readonly string[], done: (ok: boolean) => void): void {
    this.#request((packetId) => ({ type: 'unsubscribe', packetId, filters }), (ack) => done(ack !== undefined))
  }

  drop(): void {
    this.#transport?.destroy()
  }

  probe(timeout: number, answer: (alive: boolean) => void): void {
    if (!this.#accepted) return answer(false)
    this.#probes.add(timeout, answer)
    this.write(encode({ type: 'pingreq' }, this.#level))
  }

  close({ force, timeout }: { force: boolean; timeout: number }): Promise<void> {
    // What is unacknowledged is given up: the final close ends the session's client side.
    this.flow.store.clear()
    const transport = this.#transport
    if (!transport || this.#closeReported) {
      this.#keepalive.stop()
      this.#intervals.dispose()
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => transport.destroy(), Math.max(0, timeout))
      this.#closing = () => {
        clearTimeout(timer)
        this.#intervals.dispose()
        resolve()
      }
      if (!force && this.#accepted && timeout > 0) {
        this.write(encode({ type: 'disconnect', reasonCode: 0 }, this.#level))
        transport.end()
      } else {
        transport.destroy()
      }
    })
  }

  /** Reads packets until there are none or the engine is busy with a message. */
  #read(): void {
    const reader = this.#reader
    if (!reader) return
    const attempt = this.#attempt
    try {
      while (!this.#busy && attempt === this.#attempt) {
        const packet = reader.next()
        if (!packet) break
        // Each packet read proves the broker alive, even when its PINGRESP is still behind a backlog.
        this.#keepalive.heard()
        this.handle(packet)
      }
    } catch (error) {
      if (attempt !== this.#attempt) return
      if (!(error instanceof MalformedPacketError)) throw error
      // MQTT closes the connection on a malformed packet: the parser cannot find the next one.
      this.#reader = undefined
      const message = error.reasonCode === PACKET_TOO_LARGE ? `${error.message} (the client's maxIncomingPacketSize)` : error.message
      this.#events.failed({ type: 'malformed', message, ack: undefined })
      this.#transport?.destroy()
      return
    }
    // Backpressure: a busy engine stops the socket instead of letting the backlog grow in memory.
    const shouldPause = this.#busy && reader.buffered > READ_AHEAD
    if (shouldPause !== this.#paused) {
      this.#paused = shouldPause
      if (shouldPause) this.#transport?.pause()
      else this.#transport?.resume()
    }
  }

  private handle(packet: Packet): void {
    if (!this.#accepted && packet.type !== 'connack' && packet.type !== 'disconnect' && packet.type !== 'auth') {
      return this.#protocolError(`${packet.type.toUpperCase()} before CONNACK`)
    }
    switch (packet.type) {
      case 'publish':
        return this.#onPublish(packet)
      case 'puback':
      case 'pubcomp':
        return this.flow.acknowledged(packet)
      case 'pubrec':
        return this.flow.received(packet)
      case 'pubrel':
        return this.write(this.#incoming.release(packet.packetId, this.#level))
      case 'suback':
      case 'unsuback':
        return this.requests.answer(packet.packetId, packet.type === 'suback' ? packet : { type: 'suback', packetId: packet.packetId, reasonCodes: [] })
      case 'pingresp':
        return
      case 'connack':
        return this.#onConnack(packet)
      case 'disconnect':
        this.#events.failed({ type: 'disconnect', code: packet.reasonCode, reason: packet.properties?.reasonString })
        this.#transport?.destroy()
        return
      case 'auth':
        // No enhanced authentication is asked for, so the broker may not start one.
        return this.#protocolError('AUTH without an authentication method')
      default:
        return this.#protocolError(`a ${packet.type.toUpperCase()} from the broker`)
    }
  }

  #onConnack(connack: ConnackPacket): void {
    if (this.#accepted) return this.#protocolError('a second CONNACK')
    clearTimeout(this.#connectTimer)
    if (connack.reasonCode !== 0) {
      const code = connack.reasonCode
      this.#events.failed({ type: 'refused', code, message: `Connection refused: ${reasonText(code)}` })
      this.#transport?.destroy()
      return
    }
    this.#accepted = true
    const properties = connack.properties
    if (!connack.sessionPresent) this.#incoming.forget()
    // MQTT 5: the server's keepalive is binding.
    this.#keepalive.start(properties?.serverKeepAlive ?? this.#settings.keepalive)
    this.flow.restart(this.#attempt, properties?.receiveMaximum ?? 65_535)
    this.#events.connected({
      sessionPresent: connack.sessionPresent,
      maximumQoS: properties?.maximumQoS,
      maximumPacketSize: properties?.maximumPacketSize,
      subscriptionIdentifiersAvailable: properties?.subscriptionIdentifiersAvailable !== false,
      properties: properties as Readonly<Record<string, unknown>> | undefined,
    })
    if (this.#accepted) this.#events.ready()
  }

  #onPublish(packet: PublishPacket): void {
    if (packet.topic === '' || packet.properties?.topicAlias !== undefined) {
      // The CONNECT allowed no topic aliases (topic alias maximum 0).
      return this.#protocolError('a PUBLISH with a topic alias, which the client did not allow')
    }
    // Delivered already: the broker resent it before it saw the PUBREC, which goes again.
    if (this.#incoming.delivered(packet)) return this.write(this.#incoming.handled(packet, this.#level) as Uint8Array)
    this.#busy = true
    let synchronous = true
    const attempt = this.#attempt
    let called = false
    this.#events.message(packet as IncomingMessage, () => {
      if (called) return
      called = true
      if (attempt !== this.#attempt) return // the connection is gone; the broker resends what it did not get acknowledged
      const ack = this.#incoming.handled(packet, this.#level)
      if (ack) this.write(ack)
      this.#busy = false
      if (!synchronous) this.#read()
    })
    synchronous = false
  }

  #request(packet: (packetId: number) => Packet, answer: (ack: SubackPacket | undefined) => void): void {
    const packetId = this.#accepted ? this.#ids.allocate() : null
    if (packetId === null) {
      // Not connected: answered as lost, later, as an acknowledgement would be.
      queueMicrotask(() => answer(undefined))
      return
    }
    this.requests.add(packetId, answer)
    this.write(encode(packet(packetId), this.#level))
  }

  private write(bytes: Uint8Array): void {
    this.#transport?.write(bytes)
    this.#keepalive.wrote()
  }

  #protocolError(message: string): void {
    this.#reader = undefined
    this.#events.failed({ type: 'malformed', message: `protocol error: ${message}`, ack: undefined })
    this.#transport?.destroy()
  }

  #onClosed(): void {
    if (this.#closeReported) return
    this.#closeReported = true
    clearTimeout(this.#connectTimer)
    this.#keepalive.stop()
    this.#accepted = false
    this.#reader = undefined
    this.#transport = undefined
    this.#probes.answerAll(false)
    // Requests are not resent: the engine subscribes again on the next connection.
    this.requests.loseAll()
    // A new attempt number: a `done` of a message handled on this connection writes nothing.
    this.#attempt += 1
    this.#events.closed()
    const closing = this.#closing
    this.#closing = undefined
    closing?.()
  }
}

/**
 * Makes lean links over `transports`. `intervals` makes each link's keepalive timers (the thread's own by
 * default; a browser's entry gives Worker timers), ended with the link's final close.
 *
 * @example
 * ```ts
 * const runtime = { ...rest, links: leanLinks(openNodeTransport) }
 * ```
 */
export function leanLinks(transports: OpenTransport, intervals: () => Intervals = () => threadIntervals) {
  return (settings: LinkSettings, events: LinkEvents): Link => new LeanLink(settings, events, transports, intervals())
}
