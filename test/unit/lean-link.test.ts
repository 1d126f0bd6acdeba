// The lean link's protocol logic over a fake transport, with the real codec on both sides: flow control,
// resends, QoS 2 deduplication, backpressure towards the engine, what the broker may get wrong (and the
// DISCONNECT that says so), and failures of its own or the engine's code that must never escape an event. The
// same link against real brokers is every integration suite (IOTPUBSUB_LINK=lean).
import { describe, expect, it } from 'vitest'
import { RECEIVE_MAXIMUM } from '../../lib/link/lean/connect-packet.js'
import { LeanLink } from '../../lib/link/lean/lean-link.js'
import type { Connack, LinkEvents, LinkFailure, LinkSettings, MessageDone } from '../../lib/link/link.js'
import type { Intervals } from '../../lib/link/sign-of-life.js'
import type { IncomingMessage } from '../../lib/subscriptions/broker-subscription.js'
import type { OpenTransport, TransportEvents } from '../../lib/transport/transport.js'
import { encode } from '../../lib/wire/encode.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet, ProtocolLevel } from '../../lib/wire/packets.js'

const settings: LinkSettings = {
  clientId: 'lean-1', clean: true, keepalive: 10, connectTimeout: 30_000, sessionExpiryInterval: undefined, will: undefined, tls: {}, maxIncomingPacketSize: undefined, link: 'lean',
}
const endpoint = { url: 'mqtt://broker.test:1883', protocol: 'mqtt', hostname: 'broker.test', port: 1883, path: '' } as const

/** A broker's side of the fake transport: what the link wrote, decoded, and a way to answer. */
class FakeBroker {
  readonly written: Packet[] = []
  events: TransportEvents | undefined
  state: 'open' | 'ended' | 'destroyed' = 'open'
  paused = false
  transports = 0
  private reader = new PacketReader({ maximumPacketSize: 268_435_460 })

  constructor(private readonly level: ProtocolLevel = 5) {
    this.reader.level = level
  }

  readonly open: OpenTransport = (_endpoint, _tls, events) => {
    this.events = events
    this.state = 'open'
    this.transports += 1
    this.reader = new PacketReader({ maximumPacketSize: 268_435_460 })
    this.reader.level = this.level
    const mine = events
    queueMicrotask(() => mine.open())
    return {
      write: (bytes) => {
        if (this.events !== mine || this.state !== 'open') return
        this.reader.push(bytes.slice())
        for (let packet = this.reader.next(); packet; packet = this.reader.next()) this.written.push(packet)
      },
      buffered: 0,
      pause: () => (this.paused = true),
      resume: () => (this.paused = false),
      end: () => this.close(mine, 'ended'),
      destroy: () => this.close(mine, 'destroyed'),
    }
  }

  send(...packets: Packet[]): void {
    const bytes = packets.map((p) => encode(p, this.level))
    const chunk = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0))
    let at = 0
    for (const b of bytes) {
      chunk.set(b, at)
      at += b.length
    }
    this.events?.data(chunk)
  }

  sendBytes(bytes: Uint8Array): void {
    this.events?.data(bytes)
  }

  /** The peer closes the socket. */
  hangUp(): void {
    if (this.events) this.close(this.events, 'destroyed')
  }

  of<T extends Packet['type']>(type: T): Array<Extract<Packet, { type: T }> | (Packet & { type: T } & { packetId: number })> {
    return this.written.filter((p) => p.type === type) as Array<Packet & { type: T } & { packetId: number }>
  }

  private close(events: TransportEvents, how: 'ended' | 'destroyed'): void {
    if (this.events !== events) return
    this.state = how
    this.events = undefined
    queueMicrotask(() => events.closed())
  }
}

/** Interval timers the test ticks by hand. */
class ManualIntervals implements Intervals {
  callbacks = new Map<number, () => void>()
  private next = 1
  set(callback: () => void): unknown {
    const id = this.next++
    this.callbacks.set(id, callback)
    return id
  }
  clear(id: unknown): void {
    this.callbacks.delete(id as number)
  }
  dispose(): void {}
  tick(): void {
    for (const callback of [...this.callbacks.values()]) callback()
  }
}

function setup(options: { level?: ProtocolLevel; settings?: Partial<LinkSettings>; manualAcks?: boolean; onMessage?: (message: IncomingMessage) => void; done?: (done: MessageDone) => void } = {}) {
  const level = options.level ?? 5
  const broker = new FakeBroker(level)
  const intervals = new ManualIntervals()
  const log: string[] = []
  const failures: LinkFailure[] = []
  const messages: Array<{ message: IncomingMessage; done: MessageDone }> = []
  const connacks: Connack[] = []
  const events: LinkEvents = {
    connected: (connack) => {
      connacks.push(connack)
      log.push('connected')
    },
    drained: () => log.push('drained'),
    message: (message, done) => {
      messages.push({ message, done })
      options.onMessage?.(message)
      if (options.done) options.done(done)
      else if (!options.manualAcks) done()
    },
    failed: (failure) => failures.push(failure),
    closed: () => log.push('closed'),
  }
  const link = new LeanLink({ ...settings, ...options.settings }, events, broker.open, intervals)
  // Each attempt's epoch is new, as the connection gives it.
  let epoch = 0
  const open = async (connack: Partial<Extract<Packet, { type: 'connack' }>> = {}) => {
    link.open({ endpoint, protocolVersion: level, username: undefined, password: undefined, epoch: ++epoch })
    await until(() => broker.of('connect').length >= broker.transports)
    broker.send({ type: 'connack', sessionPresent: false, reasonCode: 0, ...connack })
  }
  return { link, broker, intervals, log, failures, messages, connacks, open }
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await Promise.resolve()
  if (!condition()) throw new Error('condition not reached')
}

const payload = new TextEncoder().encode('x')

describe('lean link', () => {
  it('sends CONNECT with the session settings, then reports connected and ready on CONNACK', async () => {
    const { broker, log, connacks, open } = setup({ settings: { sessionExpiryInterval: 60, clean: false } })
    await open({ sessionPresent: true, properties: { maximumQoS: 1, receiveMaximum: 5, subscriptionIdentifiersAvailable: false } })
    const [connect] = broker.of('connect')
    expect(connect).toMatchObject({ clientId: 'lean-1', clean: false, keepalive: 10, protocolVersion: 5, properties: { sessionExpiryInterval: 60, receiveMaximum: RECEIVE_MAXIMUM } })
    expect(log).toEqual(['connected'])
    expect(connacks[0]).toMatchObject({ sessionPresent: true, maximumQoS: 1, subscriptionIdentifiersAvailable: false })
  })

  it('keeps no more QoS 1 publishes in flight than the broker\'s receive maximum, in order', async () => {
    const { link, broker, open } = setup()
    await open({ properties: { receiveMaximum: 2 } })
    const acked: number[] = []
    const ids = [1, 2, 3, 4, 5].map((n) => link.publish(`t/${n}`, payload, { qos: 1, retain: false }, () => acked.push(n)) as number)
    expect(broker.of('publish').map((p) => p.topic)).toEqual(['t/1', 't/2'])
    broker.send({ type: 'puback', packetId: ids[0] as number, reasonCode: 0 })
    expect(broker.of('publish').map((p) => p.topic)).toEqual(['t/1', 't/2', 't/3'])
    link.withdraw(ids[3] as number) // t/4 never goes out
    broker.send({ type: 'puback', packetId: ids[1] as number, reasonCode: 0 }, { type: 'puback', packetId: ids[2] as number, reasonCode: 0 })
    expect(broker.of('publish').map((p) => p.topic)).toEqual(['t/1', 't/2', 't/3', 't/5'])
    expect(acked).toEqual([1, 2, 3])
  })

  it('resends unacknowledged publishes on the next connection with DUP, and a released QoS 2 as its PUBREL', async () => {
    const { link, broker, log, open } = setup({ settings: { clean: false } })
    await open()
    const one = link.publish('t/one', payload, { qos: 1, retain: false }, () => undefined) as number
    const two = link.publish('t/two', payload, { qos: 2, retain: false }, () => undefined) as number
    broker.send({ type: 'pubrec', packetId: two, reasonCode: 0 })
    expect(broker.of('pubrel')).toEqual([expect.objectContaining({ packetId: two })])
    broker.hangUp()
    await until(() => log.includes('closed'))
    const before = broker.written.length
    await open({ sessionPresent: true })
    const again = broker.written.slice(before)
    expect(again.map((p) => p.type)).toEqual(['connect', 'publish', 'pubrel'])
    expect(again[1]).toMatchObject({ topic: 't/one', packetId: one, dup: true })
    expect(again[2]).toMatchObject({ packetId: two })
  })

  it("a `done` of a message from an earlier connection writes nothing on the next (the connection's epoch tells them apart)", async () => {
    const { broker, log, messages, open } = setup({ manualAcks: true, settings: { clean: false } })
    await open()
    broker.send({ type: 'publish', topic: 'q/1', payload, qos: 1, retain: false, dup: false, packetId: 4 })
    expect(messages).toHaveLength(1)
    broker.hangUp()
    await until(() => log.includes('closed'))
    await open({ sessionPresent: true })
    messages[0]?.done()
    // The broker resends the message on the resumed session; the late done must not acknowledge that one.
    expect(broker.of('puback')).toEqual([])
    broker.send({ type: 'publish', topic: 'q/1', payload, qos: 1, retain: false, dup: true, packetId: 4 })
    messages[1]?.done()
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([4])
  })

  it('delivers a resent QoS 2 message once, and answers PUBREL with PUBCOMP', async () => {
    const { broker, messages, open } = setup()
    await open()
    const publish = { type: 'publish', topic: 'q/2', payload, qos: 2, retain: false, dup: false, packetId: 9 } as const
    broker.send(publish, { ...publish, dup: true })
    expect(messages).toHaveLength(1)
    expect(broker.of('pubrec').map((p) => p.packetId)).toEqual([9, 9])
    broker.send({ type: 'pubrel', packetId: 9, reasonCode: 0 })
    expect(broker.of('pubcomp').map((p) => p.packetId)).toEqual([9])
    broker.send({ ...publish, dup: false }) // after PUBCOMP the identifier is free: a new message
    expect(messages).toHaveLength(2)
  })

  it('delivers no further message, and sends no PUBACK, until the engine has handled the message', async () => {
    const { broker, messages, open } = setup({ manualAcks: true })
    await open()
    const message = (n: number) => ({ type: 'publish', topic: `m/${n}`, payload, qos: 1, retain: false, dup: false, packetId: n }) as const
    broker.send(message(1), message(2), message(3))
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1'])
    expect(broker.of('puback')).toEqual([])
    messages[0]?.done()
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2'])
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1])
    messages[1]?.done()
    messages[2]?.done()
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1, 2, 3])
  })

  it('reads and handles PINGRESP and PUBACK that come behind a message the engine still holds; a SUBACK keeps its place behind the messages before it', async () => {
    const { link, broker, intervals, failures, messages, open } = setup({ manualAcks: true })
    await open()
    let acked = false
    const id = link.publish('out', payload, { qos: 1, retain: false }, () => (acked = true)) as number
    let granted: unknown
    link.subscribe('s/#', { qos: 1 }, (result) => (granted = result))
    const subscribe = broker.of('subscribe')[0] as { packetId: number }
    const message = (n: number) => ({ type: 'publish', topic: `m/${n}`, payload, qos: 1, retain: false, dup: false, packetId: n }) as const
    intervals.tick() // half a keepalive: a ping goes out
    broker.send(message(1), message(2), { type: 'puback', packetId: id, reasonCode: 0 }, { type: 'suback', packetId: subscribe.packetId, reasonCodes: [1] }, { type: 'pingresp' })
    expect(acked).toBe(true)
    // m/2 came before the SUBACK: the engine takes it as sent before the subscription (a retained re-ask relies on it).
    expect(granted).toBeUndefined()
    // The engine holds m/1 through many keepalives; the broker answers every PINGREQ, and the link hears it.
    for (let i = 0; i < 6; i++) {
      intervals.tick()
      broker.send({ type: 'pingresp' })
    }
    expect(failures).toEqual([])
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1'])
    messages[0]?.done()
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2'])
    expect(granted).toBeUndefined()
    messages[1]?.done()
    expect(granted).toEqual({ granted: 1 })
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1, 2])
  })

  it('acknowledges a message done with a turn of the event loop at once, and reads nothing more until the turn is over', async () => {
    const turns: Array<() => void> = []
    const { link, broker, failures, messages, open } = setup({ done: (done) => done((resume) => turns.push(resume)) })
    await open()
    let acked = false
    const id = link.publish('out', payload, { qos: 1, retain: false }, () => (acked = true)) as number
    const message = (n: number) => ({ type: 'publish', topic: `m/${n}`, payload, qos: 1, retain: false, dup: false, packetId: n }) as const
    broker.send(message(1), { type: 'puback', packetId: id, reasonCode: 0 }, message(2), message(3))
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1'])
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1])
    // A turn is short: what came behind m/1 waits unread, undecoded, instead of being held.
    expect(acked).toBe(false)
    turns.shift()?.()
    expect(acked).toBe(true)
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2'])
    turns.shift()?.()
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2', 'm/3'])
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1, 2, 3])
    turns.shift()?.()
    broker.send(message(4))
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2', 'm/3', 'm/4'])
    expect(failures).toEqual([])
  })

  it('after a held message done with a turn, delivers the messages held behind it, then reads on, in order, the SUBACK in its place', async () => {
    const { link, broker, log, messages, open } = setup({ manualAcks: true })
    await open()
    let granted: unknown
    link.subscribe('s/#', { qos: 1 }, (result) => (granted = result))
    const subscribe = broker.of('subscribe')[0] as { packetId: number }
    const message = (n: number) => ({ type: 'publish', topic: `m/${n}`, payload, qos: 1, retain: false, dup: false, packetId: n }) as const
    broker.send(message(1), message(2), { type: 'suback', packetId: subscribe.packetId, reasonCodes: [1] })
    const turns: Array<() => void> = []
    messages[0]?.done((resume) => turns.push(resume))
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1])
    broker.send(message(3))
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1'])
    turns.shift()?.()
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2'])
    expect(granted).toBeUndefined()
    messages[1]?.done()
    expect(granted).toEqual({ granted: 1 })
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2', 'm/3'])
    // A turn that ends after the connection did delivers nothing of the next one.
    messages[2]?.done((resume) => turns.push(resume))
    broker.send(message(4))
    broker.hangUp()
    await until(() => log.includes('closed'))
    turns.shift()?.()
    expect(messages.map((m) => m.message.topic)).toEqual(['m/1', 'm/2', 'm/3'])
    expect(broker.of('puback').map((p) => p.packetId)).toEqual([1, 2, 3])
  })

  it('pauses the socket while more than 1 MiB of messages wait for a busy engine, keeps pinging without expiring, and resumes when it catches up', async () => {
    const { broker, intervals, failures, messages, open } = setup({ manualAcks: true })
    await open()
    const big = new Uint8Array(300_000)
    for (let n = 1; n <= 5; n++) broker.send({ type: 'publish', topic: 'big', payload: big, qos: 0, retain: false, dup: false })
    expect(messages).toHaveLength(1)
    expect(broker.paused).toBe(true)
    // The broker's answers wait unread in the paused socket: that silence is the client's, not the broker's.
    for (let i = 0; i < 6; i++) intervals.tick()
    expect(failures).toEqual([])
    expect(broker.of('pingreq').length).toBeGreaterThanOrEqual(3)
    for (let i = 0; i < 5; i++) messages[i]?.done()
    expect(messages).toHaveLength(5)
    expect(broker.paused).toBe(false)
    // Resumed: the keepalive counts again, and a broker silent for 1.5 keepalives is dead.
    for (let i = 0; i < 3; i++) intervals.tick()
    expect(failures).toEqual([{ type: 'keepalive' }])
  })

  it('takes a broker past the receive maximum it announced (Mosquitto 2.0.11 sends past it) without closing, in order', async () => {
    const { broker, failures, messages, open } = setup({ manualAcks: true })
    await open()
    const message = (n: number) => ({ type: 'publish', topic: `m/${n}`, payload, qos: 1, retain: false, dup: false, packetId: n }) as const
    for (let n = 1; n <= RECEIVE_MAXIMUM + 2; n++) broker.send(message(n))
    for (let i = 0; i < RECEIVE_MAXIMUM + 2; i++) messages[i]?.done()
    expect(failures).toEqual([])
    expect(messages.map((m) => m.message.topic)).toEqual(Array.from({ length: RECEIVE_MAXIMUM + 2 }, (_, i) => `m/${i + 1}`))
    expect(broker.of('puback')).toHaveLength(RECEIVE_MAXIMUM + 2)
  })

  it('a malformed packet is a `malformed` failure, a DISCONNECT 0x81 under MQTT 5 and a closed connection, never an exception', async () => {
    const { broker, failures, log, open } = setup()
    await open()
    broker.sendBytes(new Uint8Array([0x30, 0x03, 0x00, 0x09, 0x61])) // a topic length past the packet
    expect(failures).toEqual([expect.objectContaining({ type: 'malformed' })])
    expect(broker.written.at(-1)).toEqual({ type: 'disconnect', reasonCode: 0x81 })
    await until(() => log.includes('closed'))
    expect(broker.state).toBe('ended')
  })

  it('under MQTT 3.1.1 a malformed packet just closes the connection (3.1.1 has no DISCONNECT from the client for it)', async () => {
    const { broker, failures, log, open } = setup({ level: 4 })
    await open()
    broker.sendBytes(new Uint8Array([0x30, 0x03, 0x00, 0x09, 0x61]))
    expect(failures).toEqual([expect.objectContaining({ type: 'malformed' })])
    expect(broker.of('disconnect')).toEqual([])
    await until(() => log.includes('closed'))
    expect(broker.state).toBe('destroyed')
  })

  it('a CONNECT that cannot be encoded is a failed attempt, not an exception out of the socket event', async () => {
    const will = { topic: 'w', payload: new Uint8Array(70_000), qos: 0, retain: false } as const // over a will's 65,535 bytes
    const { link, broker, failures, log } = setup({ settings: { will } })
    link.open({ endpoint, protocolVersion: 5, username: undefined, password: undefined, epoch: 1 })
    await until(() => log.includes('closed'))
    expect(failures).toEqual([{ type: 'protocol', message: expect.stringContaining('the CONNECT could not be sent') }])
    expect(broker.written).toEqual([])
    expect(broker.state).toBe('destroyed')
  })

  it('an engine whose message handler throws fails the connection; nothing escapes the socket event or a `done`', async () => {
    const first = setup({ onMessage: () => { throw new Error('engine bug') } })
    await first.open()
    expect(() => first.broker.send({ type: 'publish', topic: 'a', payload, qos: 1, retain: false, dup: false, packetId: 1 })).not.toThrow()
    expect(first.failures).toEqual([{ type: 'protocol', message: expect.stringContaining('engine bug') }])
    expect(first.broker.of('puback')).toEqual([]) // unacknowledged: the broker delivers it again
    await until(() => first.log.includes('closed'))

    // The second message throws when a `done` (here the app's acknowledgement) delivers it.
    let count = 0
    const second = setup({ manualAcks: true, onMessage: () => { if (++count === 2) throw new Error('engine bug 2') } })
    await second.open()
    second.broker.send({ type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false }, { type: 'publish', topic: 'b', payload, qos: 0, retain: false, dup: false })
    expect(() => second.messages[0]?.done()).not.toThrow()
    expect(second.failures).toEqual([{ type: 'protocol', message: expect.stringContaining('engine bug 2') }])
    await until(() => second.log.includes('closed'))
  })

  it('a PUBACK with a failure code rejects that publish with the code, and the others go on', async () => {
    const { link, broker, open } = setup()
    await open()
    const results: Array<unknown> = []
    const a = link.publish('big', payload, { qos: 1, retain: false }, (error) => results.push(error?.code ?? 'ok')) as number
    const b = link.publish('small', payload, { qos: 1, retain: false }, (error) => results.push(error?.code ?? 'ok')) as number
    broker.send({ type: 'puback', packetId: a, reasonCode: 149 }, { type: 'puback', packetId: b, reasonCode: 0 })
    expect(results).toEqual([149, 'ok'])
  })

  it('answers SUBSCRIBE per filter from the SUBACK, and as lost when the connection closes first', async () => {
    const { link, broker, log, open } = setup()
    await open()
    let answer: unknown
    link.subscribeMany(
      [{ filter: 'a/#', options: { qos: 1 } }, { filter: 'b/#', options: { qos: 2 } }],
      (results) => (answer = results),
    )
    const [subscribe] = broker.of('subscribe')
    broker.send({ type: 'suback', packetId: subscribe?.packetId as number, reasonCodes: [1, 0x87] })
    expect(answer).toEqual([{ granted: 1 }, { refused: 0x87 }])
    let lost: unknown
    link.subscribe('c/#', { qos: 0, id: 7 }, (result) => (lost = result))
    expect(broker.of('subscribe')[1]?.properties).toEqual({ subscriptionIdentifier: 7 })
    broker.hangUp()
    await until(() => log.includes('closed'))
    expect(lost).toEqual({ lost: true })
  })

  it('pings when idle and gives up after 1.5 keepalives of silence', async () => {
    const { broker, intervals, failures, open } = setup()
    await open()
    intervals.tick() // half a keepalive with nothing written since CONNECT: a ping
    expect(broker.of('pingreq')).toHaveLength(1)
    broker.send({ type: 'pingresp' })
    intervals.tick() // heard the PINGRESP: not silent
    intervals.tick()
    intervals.tick()
    expect(failures).toEqual([])
    intervals.tick() // the third silent tick in a row
    expect(failures).toEqual([{ type: 'keepalive' }])
    expect(broker.state).toBe('destroyed')
  })

  it('refuses a topic alias it did not allow, and a packet before CONNACK', async () => {
    const first = setup()
    await first.open()
    first.broker.send({ type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } })
    expect(first.failures[0]).toMatchObject({ type: 'malformed' })
    expect(first.broker.written.at(-1)).toEqual({ type: 'disconnect', reasonCode: 0x94 })
    const second = setup()
    second.link.open({ endpoint, protocolVersion: 5, username: undefined, password: undefined, epoch: 1 })
    await until(() => second.broker.of('connect').length === 1)
    second.broker.send({ type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false })
    expect(second.failures[0]).toMatchObject({ type: 'malformed', message: expect.stringContaining('before CONNACK') })
    expect(second.broker.written.at(-1)).toEqual({ type: 'disconnect', reasonCode: 0x82 })
  })

  it('a graceful close sends DISCONNECT and gives up what is unacknowledged', async () => {
    const { link, broker, open } = setup()
    await open()
    link.publish('never/acked', payload, { qos: 1, retain: false }, () => undefined)
    await link.close({ force: false, timeout: 1_000 })
    expect(broker.written.at(-1)).toMatchObject({ type: 'disconnect', reasonCode: 0 })
    expect(broker.state).toBe('ended')
  })

  it('announces maxIncomingPacketSize in CONNECT and drops a connection whose broker sends a larger packet, before reading it', async () => {
    const { broker, failures, log, open } = setup({ settings: { maxIncomingPacketSize: 100 } })
    await open()
    expect(broker.of('connect')[0]?.properties).toEqual({ receiveMaximum: RECEIVE_MAXIMUM, maximumPacketSize: 100 })
    broker.send({ type: 'publish', topic: 'big', payload: new Uint8Array(200), qos: 0, retain: false, dup: false })
    expect(failures).toEqual([{ type: 'malformed', message: expect.stringContaining('maxIncomingPacketSize'), ack: undefined }])
    expect(broker.written.at(-1)).toEqual({ type: 'disconnect', reasonCode: 0x95 })
    await until(() => log.includes('closed'))
  })

  it('a QoS 2 publish a broker answers with PUBACK (RabbitMQ downgrades to 1) settles; a PUBCOMP before PUBREC does not', async () => {
    const { link, broker, open } = setup()
    await open()
    const settled: string[] = []
    const a = link.publish('a', payload, { qos: 2, retain: false }, () => settled.push('a')) as number
    const b = link.publish('b', payload, { qos: 2, retain: false }, () => settled.push('b')) as number
    broker.send({ type: 'puback', packetId: a, reasonCode: 0 }, { type: 'pubcomp', packetId: b, reasonCode: 0 })
    expect(settled).toEqual(['a'])
    broker.send({ type: 'pubrec', packetId: b, reasonCode: 0 }, { type: 'pubcomp', packetId: b, reasonCode: 0 })
    expect(settled).toEqual(['a', 'b'])
  })

  it('speaks MQTT 3.1.1 too', async () => {
    const { link, broker, log, open } = setup({ level: 4 })
    await open()
    expect(broker.of('connect')[0]).toMatchObject({ protocolVersion: 4 })
    expect(log).toEqual(['connected'])
    let acked = false
    const id = link.publish('v4', payload, { qos: 1, retain: true }, () => (acked = true)) as number
    broker.send({ type: 'puback', packetId: id, reasonCode: 0 })
    expect(acked).toBe(true)
  })
})
