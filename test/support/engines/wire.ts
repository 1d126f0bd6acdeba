import type { MqttClient } from 'mqtt'
import { connect, type ClientOptions, type MQTTClient } from '../../../lib/node.js'
import { PacketReader } from '../../../lib/wire/packet-reader.js'
import type { Packet } from '../../../lib/wire/packets.js'
import { waitForStatus } from '../clients.js'
import { waitFor } from '../wait.js'

interface WirePacket {
  readonly cmd: string
  readonly messageId?: number
  readonly topic?: string
  readonly qos?: number
  readonly subscriptions?: ReadonlyArray<{ topic: string; qos: number }>
  readonly unsubscriptions?: readonly string[]
  readonly granted?: ReadonlyArray<number | { qos: number }>
  readonly payload?: Uint8Array | string
}

/** The lean link's private methods the tap wraps. */
interface LeanInternals {
  write(bytes: Uint8Array): void
  handle(packet: Packet): void
}

interface WireEvent {
  readonly direction: 'sent' | 'received'
  readonly packet: WirePacket
}

/**
 * What a client put on the wire and got back: the engine-neutral way to count SUBSCRIBE/UNSUBSCRIBE packets
 * and to know when the broker acknowledged a subscription, for engines that have no log to read. Over the
 * MQTT.js link it listens to MQTT.js's `packetsend`/`packetreceive` events (the SDK's private MQTT.js instance,
 * the same across reconnects); over the lean link it wraps the link's private `write` and `handle`. Either way it must be attached right after the client is made.
 */
export class Wire {
  readonly events: WireEvent[] = []

  constructor(client: MQTTClient) {
    const link = (client as unknown as { link?: { mqtt?: MqttClient } & Partial<LeanInternals> }).link
    if (link && typeof link.handle === 'function' && typeof link.write === 'function') {
      this.tap(link as LeanInternals)
      return
    }
    const mqtt = link?.mqtt
    if (!mqtt || typeof mqtt.on !== 'function') throw new Error('the SDK client keeps neither an MQTT.js instance in `link.mqtt` nor a lean link\'s `openTransport`: update test/support/engines/wire.ts')
    // Copied when seen: MQTT.js rewrites a SUBSCRIBE's entries in place once the SUBACK comes.
    mqtt.on('packetsend', (packet) => this.events.push({ direction: 'sent', packet: snapshot(packet as unknown as WirePacket) }))
    mqtt.on('packetreceive', (packet) => this.events.push({ direction: 'received', packet: snapshot(packet as unknown as WirePacket) }))
  }

  /**
   * Wraps the lean link's (private) `write` and `handle`: the bytes it writes, decoded with the SDK's own
   * reader, and each packet it handles. Instance methods, so the attempt already opening is recorded too.
   */
  private tap(link: LeanInternals): void {
    const write = link.write.bind(link)
    const handle = link.handle.bind(link)
    let sent = new PacketReader({ maximumPacketSize: 268_435_460 })
    link.write = (bytes) => {
      // A CONNECT starts a new connection: the reader starts over at its level.
      if (bytes[0] === 0x10) sent = new PacketReader({ maximumPacketSize: 268_435_460 })
      sent.push(bytes.slice())
      try {
        for (let packet = sent.next(); packet; packet = sent.next()) {
          if (packet.type === 'connect') sent.level = packet.protocolVersion
          this.events.push({ direction: 'sent', packet: fromLean(packet) })
        }
      } catch {
        // Not a packet the reader takes: the record stops there; the broker's verdict is the test's business.
      }
      write(bytes)
    }
    link.handle = (packet) => {
      this.events.push({ direction: 'received', packet: fromLean(packet) })
      handle(packet)
    }
  }

  /** How many `cmd` packets went out (`subscribe`, `unsubscribe`, `publish`, `disconnect`, ...), optionally for one filter or topic. */
  sent(cmd: string, filterOrTopic?: string): number {
    return this.events.filter((e) => e.direction === 'sent' && e.packet.cmd === cmd && (filterOrTopic === undefined || names(e.packet).includes(filterOrTopic))).length
  }

  /** How many `cmd` packets came in, optionally for one topic (publish). */
  received(cmd: string, topic?: string): number {
    return this.receivedPackets(cmd, topic).length
  }

  /** The QoS of each PUBLISH received on `topic`, in order. */
  receivedQos(topic: string): number[] {
    return this.receivedPackets('publish', topic).map((p) => p.qos ?? 0)
  }

  /** The text of each PUBLISH received on `topic`, in order. */
  receivedPayloads(topic: string): string[] {
    return this.receivedPackets('publish', topic).map((p) => String(p.payload ?? ''))
  }

  private receivedPackets(cmd: string, topic?: string): WirePacket[] {
    return this.events.filter((e) => e.direction === 'received' && e.packet.cmd === cmd && (topic === undefined || e.packet.topic === topic)).map((e) => e.packet)
  }

  /**
   * Resolves with the QoS the broker granted once the latest SUBSCRIBE for `filter` (asking `qos`, when
   * given) has its SUBACK.
   */
  async subacked(filter: string, qos?: number, ms = 10_000): Promise<number> {
    return waitFor(() => this.ack('subscribe', 'suback', filter, qos), `the SUBACK for ${filter}${qos === undefined ? '' : ` at QoS ${qos}`}`, ms).then((granted) => granted - 1)
  }

  /** Resolves once the latest UNSUBSCRIBE for `filter` has its UNSUBACK. */
  async unsubacked(filter: string, ms = 10_000): Promise<void> {
    await waitFor(() => this.ack('unsubscribe', 'unsuback', filter), `the UNSUBACK for ${filter}`, ms)
  }

  /** The latest request for `filter` and its acknowledgement: granted QoS + 1 (so that 0 is truthy), or 0 while unanswered. */
  private ack(request: string, answer: string, filter: string, qos?: number): number {
    let index = -1
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i] as WireEvent
      if (e.direction !== 'sent' || e.packet.cmd !== request) continue
      const entry = e.packet.subscriptions?.find((s) => s.topic === filter)
      if (request === 'subscribe' ? entry !== undefined && (qos === undefined || entry.qos === qos) : names(e.packet).includes(filter)) {
        index = i
        break
      }
    }
    if (index < 0) return 0
    const requestPacket = (this.events[index] as WireEvent).packet
    for (let i = index + 1; i < this.events.length; i++) {
      const e = this.events[i] as WireEvent
      if (e.direction === 'received' && e.packet.cmd === answer && e.packet.messageId === requestPacket.messageId) {
        const position = requestPacket.subscriptions?.findIndex((s) => s.topic === filter) ?? 0
        const granted = e.packet.granted?.[Math.max(position, 0)]
        const code = typeof granted === 'object' ? granted.qos : (granted ?? 0)
        return code + 1
      }
    }
    return 0
  }
}

/** A lean-link packet as the record MQTT.js's events give (its command names and fields). */
function fromLean(packet: Packet): WirePacket {
  const record: { -readonly [K in keyof WirePacket]: WirePacket[K] } = { cmd: packet.type }
  if ('packetId' in packet && packet.packetId !== undefined) record.messageId = packet.packetId
  if (packet.type === 'publish') {
    record.topic = packet.topic
    record.qos = packet.qos
    record.payload = new TextDecoder().decode(packet.payload)
  }
  if (packet.type === 'subscribe') record.subscriptions = packet.subscriptions.map((s) => ({ topic: s.filter, qos: s.qos }))
  if (packet.type === 'unsubscribe') record.unsubscriptions = [...packet.filters]
  if (packet.type === 'suback') record.granted = [...packet.reasonCodes]
  return record
}

function snapshot(packet: WirePacket): WirePacket {
  const copy: { -readonly [K in keyof WirePacket]: WirePacket[K] } = { cmd: packet.cmd }
  if (packet.messageId !== undefined) copy.messageId = packet.messageId
  if (typeof packet.topic === 'string') copy.topic = packet.topic
  if (packet.qos !== undefined) copy.qos = packet.qos
  if (packet.subscriptions) copy.subscriptions = packet.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos }))
  if (packet.unsubscriptions) copy.unsubscriptions = [...packet.unsubscriptions]
  if (packet.cmd === 'publish' && packet.payload !== undefined) copy.payload = typeof packet.payload === 'string' ? packet.payload : new TextDecoder().decode(packet.payload)
  if (packet.granted) copy.granted = packet.granted.map((g) => (typeof g === 'object' ? { qos: g.qos } : g))
  return copy
}

function names(packet: WirePacket): string[] {
  if (packet.subscriptions) return packet.subscriptions.map((s) => s.topic)
  if (packet.unsubscriptions) return [...packet.unsubscriptions]
  return packet.topic === undefined ? [] : [packet.topic]
}

const wires = new WeakMap<MQTTClient, Wire>()

/** The `Wire` of a client made by an `EnginePool`. */
export function wireOf(client: MQTTClient): Wire {
  const wire = wires.get(client)
  if (!wire) throw new Error(`client ${client.clientId} was not made by an EnginePool: its packets were not recorded`)
  return wire
}

/** Clients made by one test file, each with its `Wire`; `endAll()` in afterEach ends every one of them. */
export class EnginePool {
  private readonly clients = new Set<MQTTClient>()
  private counter = 0

  /** `defaults` are the engine's declared client options (`traits.clientOptions`). */
  constructor(
    private readonly prefix: string,
    private readonly defaults: () => ClientOptions = () => ({}),
  ) {}

  /** Connects with a unique client id and the engine's declared options, and waits for the CONNACK. */
  async connected(url: string | readonly string[], options: ClientOptions = {}): Promise<MQTTClient> {
    const client = this.connect(url, options)
    await waitForStatus(client, 'connected', 30_000)
    return client
  }

  connect(url: string | readonly string[], options: ClientOptions = {}): MQTTClient {
    this.counter += 1
    const client = connect(url, { clientId: `${this.prefix}-${process.pid}-${this.counter}`, ...this.defaults(), ...options })
    this.clients.add(client)
    wires.set(client, new Wire(client))
    return client
  }

  wire(client: MQTTClient): Wire {
    return wireOf(client)
  }

  async endAll(): Promise<void> {
    const clients = [...this.clients]
    this.clients.clear()
    await Promise.all(clients.map((c) => c.end({ force: true })))
  }
}
