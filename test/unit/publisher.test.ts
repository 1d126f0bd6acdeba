// The publisher against a FakeLink and a hand-driven connection: queue, limits, timeouts, ending, poison policy.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ClientClosedError, InvalidTopicError, MessageExpiredError, MessageReplacedError, PayloadTooLargeError, PublishError, PublishOutcomeUnknownError, PublishTimeoutError, QueueFullError, UnsupportedOptionError } from '../../lib/errors.js'
import type { LinkFailure } from '../../lib/link/link.js'
import type { MQTTClientOptions, PublishOptions } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import { POISON_WINDOW_MS } from '../../lib/publish/poison.js'
import { Publisher } from '../../lib/publish/publisher.js'
import { QOS2_IN_FLIGHT_311 } from '../../lib/publish/send-window.js'
import { CONNACK, FakeLink } from '../support/fake-link.js'

function setup(options: Partial<MQTTClientOptions> = {}) {
  const link = new FakeLink({ connected: () => undefined, drained: () => undefined, message: () => undefined, failed: () => undefined, closed: () => undefined })
  const connection = { writable: false, stopped: false, epoch: 1 }
  const publisher = new Publisher(resolveOptions({ url: 'mqtt://a', ...options }, nodePlatform), link, connection, () => Date.now())
  /** Publishes and records how the promise settles. */
  const publish = (topic: string, payload: unknown, opts: PublishOptions<unknown> = {}) => track(publisher.publish(topic, payload, opts))
  const online = (): void => {
    connection.writable = true
    publisher.ready()
  }
  return { publisher, link, connection, publish, online }
}

interface Tracked {
  state: 'pending' | 'resolved' | 'rejected'
  error: unknown
}
function track(promise: Promise<void>): Tracked {
  const t: Tracked = { state: 'pending', error: undefined }
  promise.then(() => (t.state = 'resolved'), (error: unknown) => Object.assign(t, { state: 'rejected', error }))
  return t
}
/** Lets the promise callbacks run (settling is synchronous; the callbacks are microtasks). */
const flush = (): Promise<void> => vi.advanceTimersByTimeAsync(0).then(() => undefined)
const reasonCode = (t: Tracked): unknown => (t.error instanceof PublishError ? t.error.reasonCode : 'not a PublishError')

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

describe('Publisher: offline queue', () => {
  it('queues while not writable and sends in order on ready()', async () => {
    const { link, publish, online } = setup()
    const a = publish('t/a', 'a', { qos: 1 })
    const b = publish('t/b', 'b', { qos: 0 })
    const c = publish('t/c', 'c', { qos: 2 })
    expect(link.publishes).toHaveLength(0)
    online()
    expect(link.publishes.map((p) => [p.topic, p.options.qos])).toEqual([['t/a', 1], ['t/b', 0], ['t/c', 2]])
    link.ack(1)
    await flush()
    expect([a.state, b.state, c.state]).toEqual(['resolved', 'resolved', 'pending'])
    publish('t/d', 'd')
    expect(link.publishes.at(-1)?.topic).toBe('t/d') // writable: straight out
  })

  it('refuses beyond maxMessages and maxBytes with QueueFullError', async () => {
    const { publish } = setup({ offlineQueue: { maxMessages: 2, maxBytes: 5 } })
    const results = [publish('t', 'ab', { qos: 1 }), publish('t', 'abcd', { qos: 1 }), publish('t', 'abc', { qos: 1 }), publish('t', 'x', { qos: 1 }), publish('t', 'y', { qos: 1 })]
    await flush()
    expect(results.map((r) => r.state)).toEqual(['pending', 'rejected', 'pending', 'rejected', 'rejected'])
    expect(results[1]?.error).toBeInstanceOf(QueueFullError) // bytes: 2 + 4 > 5
    expect(results[4]?.error).toBeInstanceOf(QueueFullError) // messages: 3 > 2
  })

  it("qos0: 'reject' refuses QoS 0 offline, and still queues QoS 1", async () => {
    const { publish, link, online } = setup({ offlineQueue: { qos0: 'reject' } })
    const zero = publish('t', 'a')
    const one = publish('t', 'b', { qos: 1 })
    await flush()
    expect(zero.state).toBe('rejected')
    expect(zero.error).toBeInstanceOf(PublishError)
    expect(zero.error).not.toBeInstanceOf(QueueFullError)
    expect(one.state).toBe('pending')
    online()
    expect(link.publishes.map((p) => p.payload)).toEqual(['b'])
  })
})

describe('Publisher: timeouts and aborts take the message back', () => {
  it('a sent publish that times out is withdrawn and rejects with PublishTimeoutError', async () => {
    const { publish, link, online } = setup()
    online()
    const p = publish('t', 'x', { qos: 1, timeout: 1_000 })
    vi.advanceTimersByTime(999)
    await flush()
    expect(p.state).toBe('pending')
    vi.advanceTimersByTime(1)
    await flush()
    expect(p.error).toBeInstanceOf(PublishTimeoutError)
    expect(link.withdraws).toEqual([1])
    link.ack(1) // a late PUBACK changes nothing
    await flush()
    expect(p.state).toBe('rejected')
  })

  it('a queued publish that times out is never sent', async () => {
    const { publish, link, online } = setup()
    const p = publish('t', 'x', { qos: 1, timeout: 100 })
    vi.advanceTimersByTime(100)
    online()
    await flush()
    expect(p.error).toBeInstanceOf(PublishTimeoutError)
    expect(link.publishes).toHaveLength(0)
  })

  // Regression: expired() once settled before withdraw() looked at the state, so a timed-out publish kept its
  // slot and bytes in the offline queue until the next ready().
  it('a queued publish that times out frees its place in the queue', async () => {
    const { publish } = setup({ offlineQueue: { maxMessages: 1 } })
    const first = publish('t', 'x', { qos: 1, timeout: 100 })
    vi.advanceTimersByTime(100)
    const second = publish('t', 'y', { qos: 1 })
    await flush()
    expect(first.error).toBeInstanceOf(PublishTimeoutError)
    expect(second.error).toBeUndefined()
    expect(second.state).toBe('pending')
  })

  it('abort: withdraws a sent publish; an already aborted signal rejects at once, sending nothing', async () => {
    const { publish, link, online } = setup()
    online()
    const controller = new AbortController()
    const p = publish('t', 'x', { qos: 2, signal: controller.signal })
    controller.abort(new Error('user'))
    const early = publish('t', 'y', { qos: 1, signal: AbortSignal.abort() })
    await flush()
    expect(p.error).toBeInstanceOf(PublishTimeoutError)
    expect(link.withdraws).toEqual([1])
    expect(early.error).toBeInstanceOf(PublishTimeoutError)
    expect(link.publishes).toHaveLength(1)
  })
})

describe('Publisher: every failure is a rejection, not a throw', () => {
  it.each<[string, string, unknown, PublishOptions<unknown>, new (...args: never[]) => Error, number | undefined]>([
    ['a wildcard in the topic', 'a/+', 'x', {}, InvalidTopicError, undefined],
    ['an empty topic', '', 'x', {}, InvalidTopicError, undefined],
    ['QoS 3', 't', 'x', { qos: 3 as 0 }, UnsupportedOptionError, undefined],
    ['a codec that throws', 't', 1, { codec: { encode: () => { throw new Error('nope') }, decode: () => 0 } }, PublishError, undefined],
    ['an undefined payload', 't', undefined, {}, PublishError, undefined],
  ])('%s', async (_, topic, payload, options, type, code) => {
    const { publish, link } = setup()
    const p = publish(topic, payload, options)
    await flush()
    expect(p.error).toBeInstanceOf(type)
    if (code !== undefined) expect(reasonCode(p)).toBe(code)
    expect(link.publishes).toHaveLength(0)
  })

  it('QoS above maxQos, or above the CONNACK maximum, rejects with reason code 155', async () => {
    const { publisher, publish } = setup({ maxQos: 1 })
    const two = publish('t', 'x', { qos: 2 })
    publisher.connected({ ...CONNACK, maximumQoS: 0 }, 5)
    const one = publish('t', 'x', { qos: 1 })
    const zero = publish('t', 'x', { qos: 0 })
    await flush()
    expect([reasonCode(two), reasonCode(one)]).toEqual([155, 155])
    expect(zero.state).toBe('pending') // queued
  })

  it('a packet over maxPacketSize rejects with PayloadTooLargeError', async () => {
    const { publish } = setup({ maxPacketSize: 64 })
    const p = publish('t', 'x'.repeat(100), { qos: 1 })
    await flush()
    expect(p.error).toBeInstanceOf(PayloadTooLargeError)
  })
})

describe('Publisher: ending', () => {
  it('drain(deadline) resolves at the deadline, or as soon as nothing is pending', async () => {
    const { publisher, publish, link, online } = setup()
    online()
    publish('t', 'x', { qos: 1 })
    const atDeadline = track(publisher.drain(Date.now() + 1_000))
    await vi.advanceTimersByTimeAsync(999)
    expect(atDeadline.state).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(atDeadline.state).toBe('resolved')
    const early = track(publisher.drain(Date.now() + 60_000))
    link.ack(1)
    await flush()
    expect(early.state).toBe('resolved')
    const late = publish('t', 'y', { qos: 1 })
    await flush()
    expect(late.error).toBeInstanceOf(ClientClosedError)
  })

  it('stop() rejects queued and in-flight publishes with ClientClosedError', async () => {
    const { publisher, publish, online, connection } = setup()
    const queued = publish('t', 'q', { qos: 1 })
    online()
    const sent = publish('t', 's', { qos: 2 })
    connection.writable = false
    const queuedAgain = publish('t', 'r', { qos: 0 })
    publisher.stop(undefined)
    await flush()
    for (const p of [queued, sent, queuedAgain]) expect(p.error).toBeInstanceOf(ClientClosedError)
    expect(publisher.size).toBe(0)
  })
})

describe('Publisher: the poison policy (blamePublish)', () => {
  const disconnect = (code: number): LinkFailure => ({ type: 'disconnect', code, reason: undefined })

  it('a malformed PUBACK naming a packet id and code rejects that publish and withdraws it', async () => {
    const { publisher, publish, link, online } = setup()
    online()
    const first = publish('t/1', 'a', { qos: 1 })
    const second = publish('t/2', 'b', { qos: 1 })
    const ack = { cmd: 'puback' as const, packetId: 2, reasonCode: 149 }
    expect(publisher.blamePublish([{ type: 'malformed', message: 'Invalid puback reason code', ack }], true)).toBe(true)
    await flush()
    expect(second.error).toBeInstanceOf(PublishError)
    expect(reasonCode(second)).toBe(149)
    expect(link.withdraws).toEqual([2])
    expect(first.state).toBe('pending')
  })

  it.each([149, 155])('DISCONNECT %i rejects the oldest publish in flight', async (code) => {
    const { publisher, publish, link, online } = setup()
    online()
    const oldest = publish('t/1', 'a', { qos: 1 })
    const newer = publish('t/2', 'b', { qos: 1 })
    expect(publisher.blamePublish([disconnect(code)], true)).toBe(true)
    await flush()
    expect(reasonCode(oldest)).toBe(code)
    expect(newer.state).toBe('pending')
    expect(link.withdraws).toEqual([1])
    const again = publish('t/3', 'c', { qos: 1 })
    await flush()
    expect(again.state).toBe(code === 155 ? 'rejected' : 'pending') // 155 on a QoS 1 publish: QoS 0 at most
  })

  it('3.1.1, QoS 2: a silent close right after the send is a strike; the second rejects with 155, for good', async () => {
    const { publisher, publish, link, online, connection } = setup()
    publisher.connected(CONNACK, 4)
    online()
    const p = publish('t', 'x', { qos: 2 })
    vi.advanceTimersByTime(100)
    expect(publisher.blamePublish([], true)).toBe(true)
    await flush()
    expect(p.state).toBe('pending')
    expect(link.withdraws).toEqual([])
    connection.epoch = 3 // lost, then accepted again: MQTT.js resends it first
    publisher.connected(CONNACK, 4)
    vi.advanceTimersByTime(100)
    expect(publisher.blamePublish([{ type: 'socket', code: 'ECONNRESET', message: 'reset' }], true)).toBe(true)
    await flush()
    expect(reasonCode(p)).toBe(155)
    expect(link.withdraws).toEqual([1])
    const later = publish('t', 'y', { qos: 2 })
    const one = publish('t', 'z', { qos: 1 })
    await flush()
    expect(reasonCode(later)).toBe(155)
    expect(one.state).toBe('pending')
    expect(link.publishes.map((s) => s.payload)).toEqual(['x', 'z'])
  })

  it.each<[string, 4 | 5, 1 | 2]>([
    ['MQTT 5, QoS 2', 5, 2],
    ['MQTT 3.1.1, QoS 1', 4, 1],
  ])('%s: a silent close right after the send blames nothing', async (_, protocol, qos) => {
    const { publisher, publish, online } = setup()
    publisher.connected(CONNACK, protocol)
    online()
    const p = publish('t', 'x', { qos })
    vi.advanceTimersByTime(100)
    expect(publisher.blamePublish([], true)).toBe(false)
    expect(publisher.blamePublish([], true)).toBe(false)
    await flush()
    expect(p.state).toBe('pending')
  })

  it('a close long after the send blames nothing', async () => {
    const { publisher, publish, online } = setup()
    publisher.connected(CONNACK, 4)
    online()
    const p = publish('t', 'x', { qos: 2 })
    vi.advanceTimersByTime(POISON_WINDOW_MS + 1)
    expect(publisher.blamePublish([], true)).toBe(false)
    expect(publisher.blamePublish([], true)).toBe(false)
    await flush()
    expect(p.state).toBe('pending')
  })

  it('a keepalive failure, or a close before CONNACK, blames nothing', async () => {
    const { publisher, publish, online } = setup()
    publisher.connected(CONNACK, 4)
    online()
    const p = publish('t', 'x', { qos: 2 })
    expect(publisher.blamePublish([{ type: 'keepalive' }], true)).toBe(false)
    expect(publisher.blamePublish([disconnect(149)], false)).toBe(false)
    await flush()
    expect(p.state).toBe('pending')
  })
})

describe('Publisher: a lost session and a given-up publish (the link decides what the broker may hold)', () => {
  it('a publish the link answers as outcome unknown (its session lost) rejects with PublishOutcomeUnknownError', async () => {
    const { publish, link, online } = setup()
    online()
    const p = publish('t/q2', 'x', { qos: 2 })
    link.ack(1, { message: 'session lost', outcomeUnknown: true })
    await flush()
    expect(p.error).toBeInstanceOf(PublishOutcomeUnknownError)
    expect(p.error).toBeInstanceOf(PublishError) // caught by code that handles every publish failure
    expect((p.error as Error).message).toMatch(/may or may not have delivered.*persistent session/)
    expect(link.withdraws).toEqual([]) // nothing to take back: the link has freed it already
  })

  it('a sent publish that times out says the broker may still have it, and only the link frees its identifier', async () => {
    const { publish, link, online } = setup()
    online()
    const p = publish('t', 'x', { qos: 2, timeout: 100 })
    vi.advanceTimersByTime(100)
    await flush()
    expect(p.error).toBeInstanceOf(PublishTimeoutError)
    expect((p.error as Error).message).toMatch(/it was sent, so the broker may still have it/)
    expect(link.withdraws).toEqual([1])
    link.ack(1, { message: 'session lost', outcomeUnknown: true }) // a late answer changes nothing
    await flush()
    expect(p.error).toBeInstanceOf(PublishTimeoutError)
  })

  /** A QoS 2 publish the broker closes on right after the send (a strike), then lost with the session. */
  const closedAndLost = async (s: ReturnType<typeof setup>, payload: string): Promise<Tracked> => {
    const p = s.publish('t', payload, { qos: 2 })
    const packetId = s.link.publishes.at(-1)?.packetId as number
    vi.advanceTimersByTime(100)
    expect(s.publisher.blamePublish([], true)).toBe(true) // blamed: the reconnect costs no backoff
    await flush()
    expect(p.state).toBe('pending') // decided when the reconnect says whether the session survived
    s.connection.epoch += 1
    s.link.ack(packetId, { message: 'session lost', outcomeUnknown: true }) // the reconnect found no session
    s.publisher.connected(CONNACK, 4)
    await flush()
    return p
  }

  it('3.1.1, QoS 2: one closed on right after the send, then lost with the session, is outcome unknown (a network cut looks the same); the second in a row is refused with 155, for good', async () => {
    const s = setup()
    s.publisher.connected(CONNACK, 4)
    s.online()
    const first = await closedAndLost(s, 'x')
    expect(first.error).toBeInstanceOf(PublishOutcomeUnknownError)
    const second = await closedAndLost(s, 'y') // QoS 2 still allowed
    expect(second.error).toBeInstanceOf(PublishError)
    expect(second.error).not.toBeInstanceOf(PublishOutcomeUnknownError)
    expect(reasonCode(second)).toBe(155)
    const third = s.publish('t', 'z', { qos: 2 })
    await flush()
    expect(reasonCode(third)).toBe(155) // learnt: the broker's maximum is 1, refused without a send
    expect(s.link.publishes.map((p) => p.payload)).toEqual(['x', 'y'])
  })

  it('3.1.1, QoS 2: a QoS 2 the broker took (PUBCOMP, or PUBREC before a lost session) between two such closes resets the strikes', async () => {
    const s = setup()
    s.publisher.connected(CONNACK, 4)
    s.online()
    expect((await closedAndLost(s, 'a')).error).toBeInstanceOf(PublishOutcomeUnknownError)
    s.publish('t', 'ok', { qos: 2 })
    s.link.ack(s.link.publishes.at(-1)?.packetId as number) // PUBCOMP
    expect((await closedAndLost(s, 'b')).error).toBeInstanceOf(PublishOutcomeUnknownError)
    s.publish('t', 'received', { qos: 2 })
    s.link.ack(s.link.publishes.at(-1)?.packetId as number, { message: 'session lost', outcomeUnknown: true, received: true })
    expect((await closedAndLost(s, 'c')).error).toBeInstanceOf(PublishOutcomeUnknownError)
    const later = s.publish('t', 'd', { qos: 2 })
    await flush()
    expect(later.state).toBe('pending') // QoS 2 still allowed
  })

  it('3.1.1, QoS 2: a close after the PUBREC is no refusal: lost with the session, the publish rejects as outcome unknown', async () => {
    const { publisher, publish, link, online } = setup()
    publisher.connected(CONNACK, 4)
    online()
    const p = publish('t', 'x', { qos: 2 })
    vi.advanceTimersByTime(100)
    expect(publisher.blamePublish([{ type: 'socket', code: 'ECONNRESET', message: 'reset' }], true)).toBe(true)
    link.ack(1, { message: 'session lost', outcomeUnknown: true, received: true })
    await flush()
    expect(p.error).toBeInstanceOf(PublishOutcomeUnknownError)
    const later = publish('t', 'y', { qos: 2 })
    await flush()
    expect(later.state).toBe('pending') // QoS 2 still allowed
  })
})

describe("Publisher: flow control (the broker's Receive Maximum and the link's socket)", () => {
  it('keeps at most receiveMaximum QoS 1/2 publishes handed to the link unacknowledged; the rest go in order as acknowledgements come', async () => {
    const { link, connection, publisher, publish } = setup()
    publisher.connected({ ...CONNACK, receiveMaximum: 2 }, 5)
    connection.writable = true
    publisher.ready()
    const results = [1, 2, 1, 0, 2].map((qos, i) => publish(`t/${i}`, `m${i}`, { qos: qos as 0 | 1 | 2 }))
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/0', 't/1'])
    link.ack(1)
    // The QoS 0 one behind it goes too: the order of publish() is kept.
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/0', 't/1', 't/2', 't/3'])
    link.ack(2, { code: 0x80, message: 'refused' }) // a refusal frees its place too
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/0', 't/1', 't/2', 't/3', 't/4'])
    link.ack(3)
    link.ack(4)
    await flush()
    expect(results.map((r) => r.state)).toEqual(['resolved', 'rejected', 'resolved', 'resolved', 'resolved'])
  })

  it('under MQTT 3.1.1 keeps at most QOS2_IN_FLIGHT_311 QoS 2 publishes in flight (no Receive Maximum there); QoS 1 is not held by it', async () => {
    const { link, connection, publisher, publish } = setup()
    publisher.connected({ ...CONNACK }, 4)
    connection.writable = true
    publisher.ready()
    const results = Array.from({ length: QOS2_IN_FLIGHT_311 + 5 }, (_, i) => publish(`t/${i}`, `m${i}`, { qos: 2 }))
    expect(link.publishes).toHaveLength(QOS2_IN_FLIGHT_311)
    link.ack(1)
    expect(link.publishes).toHaveLength(QOS2_IN_FLIGHT_311 + 1)
    for (let id = 2; id <= QOS2_IN_FLIGHT_311 + 5; id++) link.ack(id)
    expect(link.publishes).toHaveLength(QOS2_IN_FLIGHT_311 + 5)
    await flush()
    expect(results.every((r) => r.state === 'resolved')).toBe(true)
    // Under MQTT 5 the broker's Receive Maximum alone decides.
    const v5 = setup()
    v5.publisher.connected({ ...CONNACK }, 5)
    v5.connection.writable = true
    v5.publisher.ready()
    for (let i = 0; i < QOS2_IN_FLIGHT_311 + 5; i++) void v5.publish(`t/${i}`, 'x', { qos: 2 })
    expect(v5.link.publishes).toHaveLength(QOS2_IN_FLIGHT_311 + 5)
  })

  it('a timed-out publish waiting for the window leaves the queue; a timed-out one in the window frees its place', async () => {
    const { link, connection, publisher, publish } = setup()
    publisher.connected({ ...CONNACK, receiveMaximum: 1 }, 5)
    connection.writable = true
    publisher.ready()
    const first = publish('t/0', 'a', { qos: 1, timeout: 1_000 })
    const second = publish('t/1', 'b', { qos: 1, timeout: 500 })
    const third = publish('t/2', 'c', { qos: 1 })
    await vi.advanceTimersByTimeAsync(600)
    expect(second.state).toBe('rejected')
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/0'])
    await vi.advanceTimersByTimeAsync(500)
    expect(first.state).toBe('rejected')
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/0', 't/2'])
    link.ack(2)
    await flush()
    expect(third.state).toBe('resolved')
  })

  it('while the link is not writable, publishes wait in order (QoS 0 too, even with qos0: reject) and go on `drained`', async () => {
    const { link, connection, publisher, publish } = setup({ offlineQueue: { qos0: 'reject' } })
    connection.writable = true
    publisher.ready()
    link.writable = false
    const results = [publish('t/a', 'a'), publish('t/b', 'b', { qos: 1 }), publish('t/c', 'c')]
    await flush()
    expect(link.publishes).toEqual([])
    expect(results.map((r) => r.state)).toEqual(['pending', 'pending', 'pending'])
    link.drain()
    publisher.drained()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/b', 't/c'])
    await flush()
    expect(results.map((r) => r.state)).toEqual(['resolved', 'pending', 'resolved'])
  })

  it('stops sending when the link turns unwritable mid-way, and waits within the offline queue limits (QueueFullError past them)', async () => {
    const { link, connection, publisher, publish } = setup({ offlineQueue: { maxMessages: 2, maxBytes: 100 } })
    connection.writable = true
    publisher.ready()
    const original = link.publish.bind(link)
    // The second write takes the socket over its mark.
    link.publish = (...args) => {
      const id = original(...args)
      if (link.publishes.length === 2) link.writable = false
      return id
    }
    const results = ['a', 'b', 'c', 'd', 'e'].map((m) => publish(`t/${m}`, m))
    await flush()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/b'])
    expect(results.map((r) => r.state)).toEqual(['resolved', 'resolved', 'pending', 'pending', 'rejected'])
    expect(results[4]?.error).toBeInstanceOf(QueueFullError)
    expect((results[4]?.error as Error).message).toMatch(/waiting for the connection/)
    link.drain()
    publisher.drained()
    await flush()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/b', 't/c', 't/d'])
    expect(results.map((r) => r.state)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'rejected'])
  })

  it('after a reconnect, ready() sends what waited only as far as the link can take it', async () => {
    const { link, connection, publisher, publish } = setup()
    publish('t/a', 'a')
    publish('t/b', 'b')
    link.writable = false
    connection.writable = true
    publisher.ready()
    expect(link.publishes).toEqual([])
    link.drain()
    publisher.drained()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a', 't/b'])
  })
})

describe('Publisher: the outbox (id, expiry, collapse, outbox$)', () => {
  const events = (publisher: Publisher) => {
    const seen: string[] = []
    publisher.outbox$.subscribe((e) => seen.push(`${e.id}:${e.topic}:${e.state}`))
    return seen
  }

  it('reports each QoS 1/2 message queued, sent, acknowledged; QoS 0 not at all', async () => {
    const { publisher, publish, link, online } = setup()
    const seen = events(publisher)
    publish('t/a', 'a', { qos: 1, id: 'a' })
    publish('t/z', 'z', { qos: 0 })
    expect(seen).toEqual(['a:t/a:queued'])
    online()
    expect(seen).toEqual(['a:t/a:queued', 'a:t/a:sent'])
    link.ack(1)
    await flush()
    expect(seen).toEqual(['a:t/a:queued', 'a:t/a:sent', 'a:t/a:acknowledged'])
  })

  it('replays queued (and sent) for what it holds to a new subscriber, with generated ids when none was given', () => {
    const { publisher, publish, online } = setup()
    publish('t/a', 'a', { qos: 1 })
    online()
    publish('t/b', 'b', { qos: 2, id: 'b' })
    const seen = events(publisher)
    expect(seen).toHaveLength(4)
    expect(seen[0]).toMatch(/^[a-z0-9]+-1:t\/a:queued$/)
    expect(seen.slice(1)).toEqual([seen[0]?.replace('queued', 'sent'), 'b:t/b:queued', 'b:t/b:sent'])
  })

  it('a publish with the id of a held message is that message: not sent twice, settled with it', async () => {
    const { publish, link, online } = setup()
    const first = publish('t/a', 'a', { qos: 1, id: 'same' })
    const again = publish('t/a', 'a', { qos: 1, id: 'same' })
    online()
    expect(link.publishes).toHaveLength(1)
    link.ack(1)
    await flush()
    expect([first.state, again.state]).toEqual(['resolved', 'resolved'])
  })

  it('expiry: a queued message past it rejects at that moment with MessageExpiredError, never sent', async () => {
    const { publisher, publish, link, online } = setup()
    const seen = events(publisher)
    const soon = publish('t/a', 'a', { qos: 1, id: 'a', expiry: 2 })
    const later = publish('t/b', 'b', { qos: 1, id: 'b', expiry: 5 })
    await vi.advanceTimersByTimeAsync(1_999)
    expect(soon.state).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(soon.state).toBe('rejected')
    expect(soon.error).toBeInstanceOf(MessageExpiredError)
    expect(soon.error).toBeInstanceOf(PublishError)
    expect(seen).toContain('a:t/a:expired')
    expect(later.state).toBe('pending')
    online()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/b'])
    // MQTT 5 §3.3.2.3.3: the interval on the wire is the time left (5 s − 2 s).
    expect(link.publishes[0]?.options.properties?.messageExpiryInterval).toBe(3)
  })

  it('expiry runs one timer for the queue, however many messages wait', () => {
    const { publish } = setup()
    const before = vi.getTimerCount()
    for (let i = 0; i < 100; i++) publish('t', String(i), { qos: 1, expiry: 10 + i })
    expect(vi.getTimerCount() - before).toBe(1)
  })

  it('collapse: a newer message replaces the queued one (MessageReplacedError), never one on the wire', async () => {
    const { publisher, publish, link, online } = setup()
    const seen = events(publisher)
    const v1 = publish('t/level', '1', { qos: 1, id: 'v1', collapse: true })
    const v2 = publish('t/level', '2', { qos: 1, id: 'v2', collapse: true })
    const other = publish('t/level', 'x', { qos: 1, id: 'x' }) // without collapse: kept, and not replaceable
    await flush()
    expect(v1.error).toBeInstanceOf(MessageReplacedError)
    expect(seen).toContain('v1:t/level:replaced')
    online()
    expect(link.publishes.map((p) => p.payload)).toEqual(['2', 'x'])
    const v3 = publish('t/level', '3', { qos: 1, id: 'v3', collapse: true })
    await flush()
    expect(v2.state).toBe('pending') // on the wire: never replaced
    expect(link.publishes.map((p) => p.payload)).toEqual(['2', 'x', '3'])
    expect([other.state, v3.state]).toEqual(['pending', 'pending'])
  })

  it('collapse keeps an offline outbox to one message per topic, within the queue limits', async () => {
    const { publish } = setup({ offlineQueue: { maxMessages: 3 } })
    const results = Array.from({ length: 50 }, (_, i) => publish(`t/${i % 3}`, String(i), { qos: 1, collapse: true }))
    const extra = publish('t/other', 'o', { qos: 1 })
    await flush()
    expect(results.filter((r) => r.state === 'pending')).toHaveLength(3)
    expect(results.filter((r) => r.error instanceof MessageReplacedError)).toHaveLength(47)
    expect(extra.error).toBeInstanceOf(QueueFullError) // the limits still apply
  })

  it('refuses bad id, expiry and collapse values with UnsupportedOptionError', async () => {
    const { publish } = setup()
    const bad = [
      publish('t', 'x', { qos: 1, id: '' }),
      publish('t', 'x', { qos: 1, id: 7 as unknown as string }),
      publish('t', 'x', { qos: 1, expiry: 0 }),
      publish('t', 'x', { qos: 1, expiry: -1 }),
      publish('t', 'x', { qos: 1, expiry: 2 ** 32 }),
      publish('t', 'x', { qos: 1, expiry: 5, properties: { messageExpiryInterval: 5 } }),
      publish('t', 'x', { qos: 1, collapse: 'yes' as unknown as boolean }),
    ]
    await flush()
    for (const b of bad) expect(b.error).toBeInstanceOf(UnsupportedOptionError)
  })

  it('completes outbox$ when the client stops; a held message without a store ends failed', async () => {
    const { publisher, publish } = setup()
    const seen = events(publisher)
    let completed = false
    publisher.outbox$.subscribe({ complete: () => (completed = true) })
    const a = publish('t/a', 'a', { qos: 1, id: 'a' })
    publisher.stop(undefined)
    await flush()
    expect(a.error).toBeInstanceOf(ClientClosedError)
    expect(seen).toEqual(['a:t/a:queued', 'a:t/a:failed'])
    expect(completed).toBe(true)
  })
})
