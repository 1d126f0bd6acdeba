// The fault matrix: every cut point of every MQTT flow (publish QoS 1 and 2 out and in, subscribe,
// unsubscribe) × session kept or lost × MQTT 5 and 3.1.1, over the link under test, through MqttFaultProxy
// in front of a real Mosquitto. Each case asserts the outcome declared in test/support/fault-matrix.ts
// (rendered into test/reliability/FAULT-MATRIX.md and the tables of docs/guide/delivery.md) and the invariants that
// hold everywhere: a publish resolves only if the broker accepted the message (a subscriber connected
// straight to the broker receives it), every promise settles within its deadline, one cut makes exactly one
// reconnect, nothing throws out of the client. Each case waits for protocol events seen by the proxy or
// messages received, never for the clock.
//
// Then the faults that do not cut the connection themselves (stallCases): the broker stops reading (the
// client's writes back up past the link's 1 MiB high-water mark), one acknowledgement is withheld for good or
// held until after the publish's timeout, the broker's PINGRESPs are withheld, and the client stops reading
// behind a manually acknowledged message. The same invariants hold there, and a packet identifier is free
// only once its flow has ended (read from the link, test/support/link-internals.ts).
import { readFileSync } from 'node:fs'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { QueueFullError, type ClientOptions, type Message, type MQTTClient } from '../../lib/node.js'
import { HIGH_WATER_MARK } from '../../lib/transport/transport.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { caseName, faultCases, faultMatrixFile, renderFaultMatrix, renderFaultMatrixTable, stallCaseName, stallCases, type FaultCase, type Session, type StallExpected, type Times } from '../support/fault-matrix.js'
import { packetIdInUse, measuredClient } from '../support/link-internals.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { MqttFaultProxy, type Direction, type SeenPacket } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** How long a publish may take (its `timeout`), and how long any awaited event may take. */
const DEADLINE = 4_000
const WAIT = 4_000
/** The withheld and delayed acknowledgements' publish timeout: short, the cases wait for it. */
const ACK_TIMEOUT = 300
/** The stalled-broker cases: 64 KiB publishes, so many a turn, and their timeout (longer than the stall). */
const STALL_PAYLOAD = 64 * 1024
const STALL_RUN = 50
const STALL_DEADLINE = 10_000

function clientOptions(session: Session, version: 4 | 5): ClientOptions {
  return {
    protocolVersion: version,
    keepalive: 10,
    connectTimeout: 2_000,
    reconnect: { initialDelay: 20, maxDelay: 100 },
    ...(session === 'kept' ? { clean: false, ...(version === 5 ? { sessionExpiryInterval: 60 } : {}) } : {}),
  }
}

it('FAULT-MATRIX.md is rendered from the case declarations (npx tsx test/support/fault-matrix.ts --write)', () => {
  expect(readFileSync(faultMatrixFile, 'utf8')).toBe(renderFaultMatrix())
})

it("the Delivery guarantees page's tables are the fault matrix", () => {
  const page = readFileSync(new URL('../../docs/guide/delivery.md', import.meta.url), 'utf8')
  expect(page.includes(renderFaultMatrixTable()), 'paste test/reliability/FAULT-MATRIX.md (without its comment) into docs/guide/delivery.md').toBe(true)
})

interface Settled {
  readonly state: 'resolved' | 'rejected' | 'never settled'
  readonly error?: unknown
  readonly ms: number
}

/** The promise's outcome, or `never settled` once `ms` have passed. Never rejects. */
function settle(promise: Promise<unknown>, ms: number): Promise<Settled> {
  const start = Date.now()
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ state: 'never settled', ms }), ms)
    promise.then(
      () => (clearTimeout(timer), resolve({ state: 'resolved', ms: Date.now() - start })),
      (error: unknown) => (clearTimeout(timer), resolve({ state: 'rejected', error, ms: Date.now() - start })),
    )
  })
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : String(error))

function within(times: Times, count: number): boolean {
  if (times === 'at least once') return count >= 1
  if (times === 'exactly once') return count === 1
  if (times === 'at most once') return count <= 1
  return count === 0
}

const opposite = (d: Direction): Direction => (d === 'out' ? 'in' : 'out')

/** A packet of the flow that `topic` started: the PUBLISH/SUBSCRIBE/UNSUBSCRIBE naming it, or an ack of one. */
function related(proxy: MqttFaultProxy, topic: string): (s: SeenPacket) => boolean {
  return (s) => {
    if (s.topics.length > 0) return s.topics.includes(topic)
    // PUBREL travels the way its PUBLISH did; every other ack the other way.
    const origin = s.type === 'PUBREL' ? s.direction : opposite(s.direction)
    return proxy.seen.some((q) => q.connection === s.connection && q.direction === origin && q.packetId === s.packetId && q.topics.includes(topic))
  }
}

/** Resolves once the client's SUBSCRIBE naming `filter` on `connection` has its SUBACK. */
async function subscribed(proxy: MqttFaultProxy, filter: string, connection: number): Promise<void> {
  const request = await proxy.waitForPacket((s) => s.connection === connection && s.direction === 'out' && s.type === 'SUBSCRIBE' && s.topics.includes(filter), `SUBSCRIBE ${filter} on connection ${connection}`, WAIT)
  await proxy.waitForPacket((s) => s.connection === connection && s.direction === 'in' && s.type === 'SUBACK' && s.packetId === request.packetId, `SUBACK ${filter} on connection ${connection}`, WAIT)
}

/** The client's UNSUBACK for `filter` on `connection`: the index in `proxy.seen` after which nothing may arrive. */
async function unsubscribed(proxy: MqttFaultProxy, filter: string, connection: number): Promise<number> {
  const request = await proxy.waitForPacket((s) => s.connection === connection && s.direction === 'out' && s.type === 'UNSUBSCRIBE' && s.topics.includes(filter), `UNSUBSCRIBE ${filter} on connection ${connection}`, WAIT)
  const answer = await proxy.waitForPacket((s) => s.connection === connection && s.direction === 'in' && s.type === 'UNSUBACK' && s.packetId === request.packetId, `UNSUBACK ${filter} on connection ${connection}`, WAIT)
  return proxy.seen.indexOf(answer)
}

/** Messages one client received, by topic, in order. */
function inbox(): { add(topic: string, payload: string): void; count(topic: string, payload: string): number; has(topic: string, payload: string): boolean } {
  const seen = new Map<string, string[]>()
  return {
    add: (topic, payload) => {
      const list = seen.get(topic)
      if (list) list.push(payload)
      else seen.set(topic, [payload])
    },
    count: (topic, payload) => (seen.get(topic) ?? []).filter((p) => p === payload).length,
    has: (topic, payload) => (seen.get(topic) ?? []).includes(payload),
  }
}

describe.skipIf(noMosquitto())(`the fault matrix over the ${linkUnderTest()} link`, () => {
  const pool = new ClientPool('fault-matrix')
  const proxies: MqttFaultProxy[] = []
  const { thrown, onThrown } = escapes()
  const observed: string[] = []
  let broker: Mosquitto
  /** Connected straight to the broker: publishes the inbound flows' messages and counts what arrives. */
  let direct: MqttClient
  const atBroker = inbox()
  /** Clients made outside the pool (measuredClient), ended after each case. */
  const measured: MQTTClient[] = []
  let made = 0

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    direct = await rawClient(broker.tcpUrl, { protocolVersion: 5, clientId: `fault-matrix-direct-${process.pid}` })
    // A large payload is counted, not kept: the stalled-broker cases publish megabytes.
    direct.on('message', (topic, payload) => atBroker.add(topic, payload.length > 256 ? 'big' : payload.toString()))
    await direct.subscribeAsync('#', { qos: 2 })
  })

  afterEach(async () => {
    await Promise.all(measured.splice(0).map((c) => c.end({ force: true })))
    await pool.endAll()
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })

  afterAll(async () => {
    await direct?.endAsync()
    await broker?.dispose()
    // The case count and each outcome, for the report (the assertions are in the cases).
    console.log(`fault matrix, ${linkUnderTest()} link: ${observed.length} cases\n${observed.join('\n')}`)
  })

  async function start(c: { readonly session: Session }, version: 4 | 5, extra: ClientOptions = {}): Promise<{ proxy: MqttFaultProxy; client: MQTTClient; p: string }> {
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    const client = await pool.connected(proxy.url, { ...clientOptions(c.session, version), ...extra })
    return { proxy, client, p: uniquePrefix('fault') }
  }

  /** The reconnect's CONNACK; the case is only meaningful if the broker kept or lost the session as declared. */
  async function reconnected(proxy: MqttFaultProxy, c: { readonly session: Session }): Promise<string[]> {
    const connack = await proxy.waitForPacket((s) => s.connection === 2 && s.type === 'CONNACK', 'the CONNACK of the reconnect', WAIT)
    return connack.sessionPresent === (c.session === 'kept') ? [] : [`session present ${String(connack.sessionPresent)} (the case is set up wrong)`]
  }

  async function publishOut(c: FaultCase, version: 4 | 5): Promise<string> {
    if (c.expected.flow !== 'publish-out') throw new Error('not a publish-out case')
    const { proxy, client, p } = await start(c, version)
    const topic = `${p}/out`
    proxy.inject({ direction: c.cut.direction, type: c.cut.type, action: { kind: c.cut.action }, where: related(proxy, topic) })
    const outcome = settle(client.publish(topic, 'm', { qos: c.qos, timeout: DEADLINE }), DEADLINE + 1_000)
    const problems = await reconnected(proxy, c)
    const result = await outcome
    // A sentinel published after the outcome: once it arrives, any resend of the message has arrived too.
    const sentinel = await settle(client.publish(`${p}/sentinel`, 's', { qos: c.qos, timeout: DEADLINE }), DEADLINE + 1_000)
    if (sentinel.state === 'resolved') await waitFor(() => atBroker.has(`${p}/sentinel`, 's'), 'the sentinel at the subscriber', WAIT).catch(() => problems.push('the sentinel never reached the subscriber'))
    else problems.push(`the sentinel publish ${sentinel.state} (${errorName(sentinel.error)})`)
    const delivered = atBroker.count(topic, 'm')
    const resends = proxy.packets((s) => s.connection >= 2 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic)
    const resent = resends.length > 0
    const expected = c.expected
    const state = result.state === 'rejected' ? `rejected ${errorName(result.error)}${errorName(result.error) === 'PublishOutcomeUnknownError' ? '' : ` (${String((result.error as Error).message)})`}` : result.state
    if (expected.promise === 'resolves' && result.state !== 'resolved') problems.push(`expected to resolve, ${state}`)
    if (expected.promise === 'PublishOutcomeUnknownError' && !(result.state === 'rejected' && errorName(result.error) === 'PublishOutcomeUnknownError')) problems.push(`expected PublishOutcomeUnknownError, ${state}`)
    if (result.state === 'resolved' && delivered === 0) problems.push('resolved but the broker never delivered it')
    if (!within(expected.delivered, delivered)) problems.push(`expected ${expected.delivered}, delivered ${delivered}×`)
    if (c.session === 'lost' && expected.resent !== resent) problems.push(expected.resent ? 'not published again' : 'resent after the session was lost')
    // The broker that lost the session never saw this message: it goes out as a new one, not as a duplicate.
    if (c.session === 'lost' && resends.some((s) => s.dup)) problems.push('published again with DUP set')
    // In the resumed session it is the same packet again: its identifier, DUP set (MQTT-3.3.1-1, MQTT-4.4.0-1).
    const original = proxy.packets((s) => s.connection === 1 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic)[0]
    if (c.session === 'kept' && resends.some((s) => !s.dup)) problems.push('resent without DUP')
    if (c.session === 'kept' && resends.some((s) => s.packetId !== original?.packetId)) problems.push('resent with another packet identifier')
    return finish(proxy, problems, `${state} in ${result.ms} ms; delivered ${delivered}×; ${resent ? `resent${resends.some((s) => s.dup) ? ' (DUP)' : ''}` : 'not resent'}`)
  }

  async function publishIn(c: FaultCase, version: 4 | 5): Promise<string> {
    if (c.expected.flow !== 'publish-in') throw new Error('not a publish-in case')
    const { proxy, client, p } = await start(c, version)
    const topic = `${p}/in`
    const got = inbox()
    client.observe(topic, { qos: c.qos, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    await subscribed(proxy, topic, 1)
    proxy.inject({ direction: c.cut.direction, type: c.cut.type, action: { kind: c.cut.action }, where: related(proxy, topic) })
    await direct.publishAsync(topic, 'm', { qos: c.qos })
    const problems = await reconnected(proxy, c)
    // A clean start has no subscription until the client makes it again; a kept session queues meanwhile.
    if (c.session === 'lost') await subscribed(proxy, topic, 2)
    await direct.publishAsync(topic, 's', { qos: c.qos })
    await waitFor(() => got.has(topic, 's'), 'the sentinel at the observer', WAIT).catch(() => problems.push('the sentinel never reached the observer'))
    const delivered = got.count(topic, 'm')
    if (!within(c.expected.delivered, delivered)) problems.push(`expected ${c.expected.delivered}, delivered ${delivered}×`)
    return finish(proxy, problems, `delivered ${delivered}×`)
  }

  async function subscribe(c: FaultCase, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start(c, version)
    const topic = `${p}/sub`
    const sentinel = `${p}/sentinel`
    const got = inbox()
    client.observe(sentinel, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    await subscribed(proxy, sentinel, 1)
    proxy.inject({ direction: c.cut.direction, type: c.cut.type, action: { kind: c.cut.action }, where: related(proxy, topic) })
    const observer = client.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    const problems = await reconnected(proxy, c)
    await subscribed(proxy, topic, 2)
    if (c.session === 'lost') await subscribed(proxy, sentinel, 2)
    await direct.publishAsync(topic, 'a', { qos: 1 })
    await waitFor(() => got.has(topic, 'a'), 'a message after the reconnect', WAIT).catch(() => problems.push('no message after the reconnect'))
    observer.unsubscribe()
    const after = await unsubscribed(proxy, topic, 2)
    await direct.publishAsync(topic, 'b', { qos: 1 })
    await direct.publishAsync(sentinel, 's', { qos: 1 })
    await waitFor(() => got.has(sentinel, 's'), 'the sentinel at the observer', WAIT).catch(() => problems.push('the sentinel never arrived'))
    const leaked = proxy.seen.slice(after).some((s) => s.direction === 'in' && s.type === 'PUBLISH' && s.topics[0] === topic)
    if (leaked || got.has(topic, 'b')) problems.push('delivered after unsubscribe')
    return finish(proxy, problems, `${got.has(topic, 'a') ? 'works after the reconnect' : 'no message after the reconnect'}; ${leaked ? 'delivered after unsubscribe' : 'unsubscribe ends delivery'}`)
  }

  async function unsubscribe(c: FaultCase, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start(c, version)
    const topic = `${p}/uns`
    const sentinel = `${p}/sentinel`
    const got = inbox()
    client.observe(sentinel, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    const observer = client.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    await subscribed(proxy, sentinel, 1)
    await subscribed(proxy, topic, 1)
    proxy.inject({ direction: c.cut.direction, type: c.cut.type, action: { kind: c.cut.action }, where: related(proxy, topic) })
    observer.unsubscribe()
    const problems = await reconnected(proxy, c)
    if (c.session === 'lost') await subscribed(proxy, sentinel, 2)
    // A SUBSCRIBE made now goes out after whatever the client owes the new connection (an UNSUBSCRIBE).
    const barrier = `${p}/barrier`
    client.observe(barrier, { qos: 1 }).subscribe({ error: onThrown })
    await subscribed(proxy, barrier, 2)
    const after = proxy.seen.length
    await direct.publishAsync(topic, 'x', { qos: 1 })
    await direct.publishAsync(sentinel, 's', { qos: 1 })
    await waitFor(() => got.has(sentinel, 's'), 'the sentinel at the observer', WAIT).catch(() => problems.push('the sentinel never arrived'))
    const leaked = proxy.seen.slice(after).some((s) => s.direction === 'in' && s.type === 'PUBLISH' && s.topics[0] === topic)
    if (leaked || got.has(topic, 'x')) problems.push('the broker still delivers to the released filter')
    return finish(proxy, problems, leaked ? 'still delivered after the reconnect' : 'nothing delivered after the reconnect')
  }

  /** The checks every case shares: one cut, one reconnect (or none, `connections` 1); nothing thrown out of the client. */
  function finish(proxy: MqttFaultProxy, problems: string[], outcome: string, connections = 2): string {
    if (proxy.connections !== connections) problems.push(`${proxy.connections} connections where ${connections} were due`)
    if (thrown.length > 0) problems.push(`thrown: ${thrown.splice(0).map(errorName).join(', ')}`)
    return problems.length > 0 ? `FAIL ${outcome}: ${problems.join('; ')}` : `ok ${outcome}`
  }


  // --- packets withheld, delayed or left unread ---------------------------------------------------------------

  /** Publishes of 64 KiB until a whole turn's run is refused; then the broker reads again and what waited goes. */
  async function brokerStopsReading(qos: 0 | 1 | 2, version: 4 | 5): Promise<string> {
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    // A long keepalive: the broker reads no PINGREQ while it is stalled.
    const { client, unsentBytes } = measuredClient({ url: proxy.url, clientId: `fault-matrix-stall-${process.pid}-${++made}`, ...clientOptions('lost', version), keepalive: 60 })
    measured.push(client)
    await waitForStatus(client, 'connected')
    const p = uniquePrefix('stall')
    const payload = new Uint8Array(STALL_PAYLOAD).fill(0x78)
    const packet = STALL_PAYLOAD + `${p}/m/0000`.length + 16
    const outcomes: Array<'resolved' | 'queue-full' | Error | undefined> = []
    const unsettled = (): number => outcomes.filter((o) => o === undefined).length
    const run = (): number => {
      const from = outcomes.length
      for (let i = from; i < from + STALL_RUN; i++) {
        outcomes.push(undefined)
        client.publish(`${p}/m/${i}`, payload, { qos, timeout: STALL_DEADLINE }).then(
          () => void (outcomes[i] = 'resolved'),
          (error: unknown) => void (outcomes[i] = error instanceof QueueFullError ? 'queue-full' : (error as Error)),
        )
      }
      return from
    }
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    const problems: string[] = []
    proxy.stopReading('client')
    let maxUnsent = 0
    let saturated = false
    // In runs of STALL_RUN a turn, as an app's loop that yields: the socket gets its turns to write and fill up.
    for (let runs = 0; runs < 200 && !saturated; runs++) {
      const from = run()
      await turn()
      maxUnsent = Math.max(maxUnsent, unsentBytes())
      saturated = outcomes.slice(from).every((o) => o === 'queue-full')
    }
    if (!saturated) problems.push('publishes were never refused')
    // Full: a further run is refused whole, and what the client holds does not grow.
    const before = { unsent: unsentBytes(), unsettled: unsettled() }
    const from = run()
    await turn()
    maxUnsent = Math.max(maxUnsent, unsentBytes())
    if (!outcomes.slice(from).every((o) => o === 'queue-full')) problems.push('a publish was taken past the limits')
    if (unsentBytes() > before.unsent || unsettled() > before.unsettled) problems.push(`grew from ${before.unsent} B unsent, ${before.unsettled} waiting to ${unsentBytes()} B, ${unsettled()}`)
    // One packet past the mark at most: the one written while still under it.
    if (maxUnsent > HIGH_WATER_MARK + packet) problems.push(`${maxUnsent} B unsent in the socket, over the 1 MiB mark`)
    const waiting = unsettled()
    // The offline queue's default 1 MiB of payload; MQTT.js calls a QoS 0 publish back only on its stream's
    // 'drain', so those it holds under the mark wait too; QoS 1/2 ones written wait for their acknowledgement.
    if (qos === 0 && waiting * STALL_PAYLOAD > (1 << 20) + (linkUnderTest() === 'lean' ? 0 : HIGH_WATER_MARK + packet)) problems.push(`${waiting} QoS 0 publishes waiting`)
    if (waiting === 0) problems.push('no publish waits for the broker')
    const resolvedWhileStalled = outcomes.filter((o) => o === 'resolved').length
    if (qos > 0 && resolvedWhileStalled > 0) problems.push(`${resolvedWhileStalled} resolved though the broker read none`)
    proxy.resumeReading('client')
    await waitFor(() => unsettled() === 0, 'every publish to settle', STALL_DEADLINE + 1_000).catch(() => problems.push(`${unsettled()} never settled`))
    const errors = outcomes.filter((o): o is Error => o instanceof Error)
    if (errors.length > 0) problems.push(`rejected: ${[...new Set(errors.map(errorName))].join(', ')}`)
    const resolved = outcomes.flatMap((o, i) => (o === 'resolved' ? [i] : []))
    const refused = outcomes.flatMap((o, i) => (o === 'queue-full' ? [i] : []))
    // The sentinel at the case's QoS (1 at least): the subscriber hands a QoS 2 message over on its PUBREL, so a
    // QoS 1 sentinel could arrive before the last QoS 2 message; at one QoS they arrive in order.
    await settle(client.publish(`${p}/sentinel`, 's', { qos: qos === 2 ? 2 : 1, timeout: DEADLINE }), DEADLINE + 1_000)
    await waitFor(() => atBroker.has(`${p}/sentinel`, 's'), 'the sentinel at the subscriber', WAIT).catch(() => problems.push('the sentinel never arrived'))
    const counts = resolved.map((i) => atBroker.count(`${p}/m/${i}`, 'big'))
    const times: Times = qos === 0 ? 'at least once' : qos === 1 ? 'at least once' : 'exactly once'
    const off = counts.filter((n) => !within(times, n)).length
    if (off > 0) problems.push(`${off} of ${resolved.length} resolved not delivered ${times} (${JSON.stringify(counts)})`)
    if (refused.some((i) => atBroker.has(`${p}/m/${i}`, 'big'))) problems.push('a refused publish was delivered')
    return finish(proxy, problems, `${resolvedWhileStalled} resolved while stalled, ${waiting} waited, ${refused.length} refused, at most ${maxUnsent} B unsent; ${resolved.length} resolved in all`, 1)
  }

  /** One acknowledgement withheld: the publish times out; the connection is cut, and the next one carries on. */
  async function withheldAck(e: Extract<StallExpected, { kind: 'withheld-ack' }>, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start(e, version)
    const topic = `${p}/out`
    proxy.inject({ direction: 'in', type: e.packet, action: { kind: 'drop' }, where: related(proxy, topic) })
    const result = await settle(client.publish(topic, 'm', { qos: e.qos, timeout: ACK_TIMEOUT }), ACK_TIMEOUT + 1_000)
    const problems: string[] = []
    if (!(result.state === 'rejected' && errorName(result.error) === 'PublishTimeoutError')) problems.push(`expected PublishTimeoutError, ${result.state} ${errorName(result.error)}`)
    const id = proxy.packets((s) => s.connection === 1 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic)[0]?.packetId ?? 0
    // The broker may hold it under that identifier: not free while its flow is open.
    if (!packetIdInUse(client, id)) problems.push('identifier free at the timeout')
    proxy.cut()
    problems.push(...(await reconnected(proxy, e)))
    await waitForStatus(client, 'connected', WAIT)
    const sentinel = await settle(client.publish(`${p}/sentinel`, 's', { qos: e.qos, timeout: DEADLINE }), DEADLINE + 1_000)
    if (sentinel.state !== 'resolved') problems.push(`the sentinel publish ${sentinel.state} (${errorName(sentinel.error)})`)
    await waitFor(() => atBroker.has(`${p}/sentinel`, 's'), 'the sentinel at the subscriber', WAIT).catch(() => problems.push('the sentinel never arrived'))
    const republished = proxy.packets((s) => s.connection >= 2 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic).length
    const pubrel = proxy.packets((s) => s.connection >= 2 && s.direction === 'out' && s.type === 'PUBREL' && s.packetId === id).length
    const resent = republished > 0 ? 'PUBLISH' : pubrel > 0 ? 'PUBREL' : 'nothing'
    if (resent !== e.resent) problems.push(`expected ${e.resent} resent, ${resent}`)
    // A resent PUBLISH goes with DUP and its first identifier.
    const resends = proxy.packets((s) => s.connection >= 2 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic)
    if (resends.some((s) => s.packetId !== id || !s.dup)) problems.push('a resent PUBLISH without DUP or with another identifier')
    // Its flow ends on the new connection: the identifier is freed then (the sentinel went after it).
    if (e.freed) await waitFor(() => !packetIdInUse(client, id), 'the identifier to be freed', WAIT).catch(() => undefined)
    const inUse = packetIdInUse(client, id)
    if (inUse === e.freed) problems.push(e.freed ? 'identifier still in use' : 'identifier freed while the broker may hold it')
    const delivered = atBroker.count(topic, 'm')
    if (!within(e.delivered, delivered)) problems.push(`expected ${e.delivered}, delivered ${delivered}×`)
    return finish(proxy, problems, `${result.state} ${errorName(result.error)} in ${result.ms} ms; ${resent} resent; identifier ${inUse ? 'reserved' : 'free'}; delivered ${delivered}×`)
  }

  /** One acknowledgement held until the publish has timed out, then let through: the flow completes late. */
  async function delayedAck(e: Extract<StallExpected, { kind: 'delayed-ack' }>, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start({ session: 'lost' }, version)
    const topic = `${p}/out`
    proxy.inject({ direction: 'in', type: e.packet, action: { kind: 'hold' }, where: related(proxy, topic) })
    let late = false
    const publish = client.publish(topic, 'm', { qos: e.qos, timeout: ACK_TIMEOUT })
    publish.then(() => (late = true), () => undefined)
    const result = await settle(publish, ACK_TIMEOUT + 1_000)
    const problems: string[] = []
    if (!(result.state === 'rejected' && errorName(result.error) === 'PublishTimeoutError')) problems.push(`expected PublishTimeoutError, ${result.state} ${errorName(result.error)}`)
    const id = proxy.packets((s) => s.connection === 1 && s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === topic)[0]?.packetId ?? 0
    await proxy.waitForPacket((s) => s.direction === 'in' && s.type === e.packet && s.packetId === id, `the ${e.packet}, held`, WAIT)
    if (!packetIdInUse(client, id)) problems.push('identifier free before the late acknowledgement')
    proxy.release()
    // The flow's last packet: PUBACK, or the PUBCOMP that answers the PUBREL a late PUBREC brings.
    const last = e.qos === 1 ? 'PUBACK' : 'PUBCOMP'
    await proxy.waitForPacket((s) => s.direction === 'in' && s.type === last && s.packetId === id, `the ${last}`, WAIT).catch(() => problems.push(`no ${last}`))
    await waitFor(() => !packetIdInUse(client, id), 'the identifier to be freed', WAIT).catch(() => problems.push('identifier still in use after the flow completed'))
    const sentinel = await settle(client.publish(`${p}/sentinel`, 's', { qos: e.qos, timeout: DEADLINE }), DEADLINE + 1_000)
    if (sentinel.state !== 'resolved') problems.push(`the sentinel publish ${sentinel.state} (${errorName(sentinel.error)})`)
    await waitFor(() => atBroker.has(`${p}/sentinel`, 's'), 'the sentinel at the subscriber', WAIT).catch(() => problems.push('the sentinel never arrived'))
    if (late) problems.push('resolved after it was rejected')
    const delivered = atBroker.count(topic, 'm')
    if (!within(e.qos === 1 ? 'at least once' : 'exactly once', delivered)) problems.push(`delivered ${delivered}×`)
    return finish(proxy, problems, `${result.state} ${errorName(result.error)} in ${result.ms} ms; freed by the late ${e.packet}; delivered ${delivered}×`, 1)
  }

  /** A SUBACK or UNSUBACK withheld; then the connection is cut. */
  async function withheldRequest(e: Extract<StallExpected, { kind: 'withheld-request' }>, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start(e, version)
    const topic = `${p}/req`
    const sentinel = `${p}/sentinel`
    const got = inbox()
    const observe = () => client.observe(topic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    client.observe(sentinel, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    await subscribed(proxy, sentinel, 1)
    /** Publishes `payload` to the filter and the sentinel after it: once the sentinel is in, so is anything before it. */
    const roundTrip = async (payload: string): Promise<boolean> => {
      await direct.publishAsync(topic, payload, { qos: 1 })
      await direct.publishAsync(sentinel, payload, { qos: 1 })
      await waitFor(() => got.has(sentinel, payload), `the sentinel ${payload}`, WAIT)
      return got.has(topic, payload)
    }
    const problems: string[] = []
    proxy.inject({ direction: 'in', type: e.packet, action: { kind: 'drop' }, where: related(proxy, topic) })
    let outcome: string
    if (e.packet === 'SUBACK') {
      const observer = observe()
      await proxy.waitForPacket((s) => s.connection === 1 && s.type === 'SUBACK' && related(proxy, topic)(s), 'the SUBACK, withheld', WAIT)
      const meanwhile = await roundTrip('early')
      if (!meanwhile) problems.push('no message while the SUBACK was withheld')
      if (proxy.connections !== 1) problems.push('reconnected while the SUBACK was withheld')
      proxy.cut()
      problems.push(...(await reconnected(proxy, e)))
      await subscribed(proxy, topic, 2)
      if (e.session === 'lost') await subscribed(proxy, sentinel, 2)
      if (!(await roundTrip('after'))) problems.push('no message after the reconnect')
      observer.unsubscribe()
      await unsubscribed(proxy, topic, 2)
      if (await roundTrip('gone')) problems.push('delivered after unsubscribe')
      outcome = `${meanwhile ? 'messages arrive meanwhile' : 'no message meanwhile'}; works after the reconnect`
    } else {
      const first = observe()
      await subscribed(proxy, topic, 1)
      first.unsubscribe()
      await proxy.waitForPacket((s) => s.connection === 1 && s.type === 'UNSUBACK' && related(proxy, topic)(s), 'the UNSUBACK, withheld', WAIT)
      if (await roundTrip('released')) problems.push('delivered after unsubscribe')
      const again = observe()
      await proxy.waitForPacket((s) => s.connection === 1 && s.type === 'SUBACK' && proxy.seen.some((q) => q.connection === 1 && q.type === 'SUBSCRIBE' && q.packetId === s.packetId && q.topics.includes(topic) && proxy.seen.indexOf(q) > proxy.seen.findIndex((u) => u.type === 'UNSUBACK')), 'the second SUBACK', WAIT)
      if (!(await roundTrip('again'))) problems.push('observing again delivers nothing')
      if (proxy.connections !== 1) problems.push('reconnected while the UNSUBACK was withheld')
      proxy.cut()
      problems.push(...(await reconnected(proxy, e)))
      await subscribed(proxy, topic, 2)
      if (e.session === 'lost') await subscribed(proxy, sentinel, 2)
      if (!(await roundTrip('after'))) problems.push('no message after the reconnect')
      again.unsubscribe()
      await unsubscribed(proxy, topic, 2)
      if (await roundTrip('gone')) problems.push('delivered after the last unsubscribe')
      outcome = 'nothing delivered once released; observed again, it works before and after the reconnect'
    }
    return finish(proxy, problems, outcome)
  }

  /** Every PINGRESP of the first connection withheld, and the PUBACK of a publish made meanwhile. */
  async function withheldPingresp(e: Extract<StallExpected, { kind: 'withheld-pingresp' }>, version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start(e, version, { keepalive: 1 })
    const inTopic = `${p}/in`
    const outTopic = `${p}/out`
    const got = inbox()
    client.observe(inTopic, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.add(m.topic, m.payload), error: onThrown })
    await subscribed(proxy, inTopic, 1)
    proxy.inject({ direction: 'in', type: 'PINGRESP', action: { kind: 'drop' }, where: (s) => s.connection === 1, times: Infinity })
    proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'drop' }, where: related(proxy, outTopic) })
    await proxy.waitForPacket((s) => s.connection === 1 && s.type === 'PINGRESP', 'a PINGRESP, withheld', WAIT)
    const silentFrom = Date.now()
    const outcome = settle(client.publish(outTopic, 'm', { qos: 1, timeout: DEADLINE }), DEADLINE + 1_000)
    const problems: string[] = []
    await waitForStatus(client, 'reconnecting', WAIT).catch(() => problems.push('the keepalive never expired'))
    const detectedIn = Date.now() - silentFrom
    if (detectedIn > 1_500 + 1_000) problems.push(`detected after ${detectedIn} ms`)
    // Queued by the broker for a kept session while the client is away (sent to the dead connection, or held).
    await direct.publishAsync(inTopic, 'queued', { qos: 1 })
    problems.push(...(await reconnected(proxy, e)))
    const result = await outcome
    if (result.state !== 'resolved') problems.push(`the publish ${result.state} (${errorName(result.error)})`)
    await waitFor(() => atBroker.has(outTopic, 'm'), 'the publish at the subscriber', WAIT).catch(() => problems.push('the publish never arrived'))
    if (e.session === 'kept') await waitFor(() => got.has(inTopic, 'queued'), 'the queued message', WAIT).catch(() => problems.push('the queued message never arrived'))
    else await subscribed(proxy, inTopic, 2)
    await direct.publishAsync(inTopic, 'after', { qos: 1 })
    await waitFor(() => got.has(inTopic, 'after'), 'a message after the reconnect', WAIT).catch(() => problems.push('no message after the reconnect'))
    return finish(proxy, problems, `detected in ${detectedIn} ms; the publish ${result.state} in ${result.ms} ms, delivered ${atBroker.count(outTopic, 'm')}×${e.session === 'kept' ? `; queued message ${got.count(inTopic, 'queued')}×` : ''}`)
  }

  /** A manually acknowledged message held while more than the read-ahead arrives: the socket pauses, pings go on. */
  async function clientStopsReading(version: 4 | 5): Promise<string> {
    const { proxy, client, p } = await start({ session: 'lost' }, version, { keepalive: 1 })
    const jobs: string[] = []
    let first: Message<string> | undefined
    client.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe({
      next: (m) => {
        jobs.push(m.payload)
        if (first) m.ack()
        else first = m
      },
      error: onThrown,
    })
    const big: number[] = []
    client.observe(`${p}/big`, { qos: 0 }).subscribe({ next: (m) => big.push(m.payload.byteLength), error: onThrown })
    await subscribed(proxy, `${p}/jobs`, 1)
    await subscribed(proxy, `${p}/big`, 1)
    const problems: string[] = []
    await direct.publishAsync(`${p}/jobs`, 'job-0', { qos: 1 })
    const held = await waitFor(() => first, 'the first job, held', WAIT)
    // Behind the held message, under the read-ahead: the client's own publish settles on a PUBACK it reads.
    const own = await settle(client.publish(`${p}/own`, 'o', { qos: 1, timeout: DEADLINE }), DEADLINE + 1_000)
    if (own.state !== 'resolved') problems.push(`its own publish ${own.state} while a message was held`)
    const payload = Buffer.alloc(400_000)
    for (let n = 0; n < 4; n++) await direct.publishAsync(`${p}/big`, payload, { qos: 0 })
    await direct.publishAsync(`${p}/jobs`, 'job-1', { qos: 1 })
    const pausedAt = proxy.seen.length
    const from = Date.now()
    // The keepalive's own events mark the time: PINGREQs go on past 1.5 × keepalive, and no reconnect.
    const pings = (): SeenPacket[] => proxy.seen.slice(pausedAt).filter((s) => s.connection === 1 && s.type === 'PINGREQ')
    for (let n = 1; n <= 3 || Date.now() - from < 2_000; n++) {
      await waitFor(() => pings().length >= n, `PINGREQ ${n} while the message is held`, WAIT).catch(() => problems.push(`${pings().length} PINGREQs while held`))
      if (problems.length > 0) break
    }
    const pingresps = proxy.seen.slice(pausedAt).filter((s) => s.connection === 1 && s.type === 'PINGRESP').length
    if (pingresps === 0) problems.push('the broker answered no PINGREQ')
    const heldFor = Date.now() - from
    held.ack()
    await waitFor(() => jobs.length === 2 && big.length === 4, 'every message after the ack', WAIT).catch(() => problems.push(`${jobs.length} jobs, ${big.length} large messages after the ack`))
    if (jobs.join() !== 'job-0,job-1') problems.push(`jobs ${jobs.join()}`)
    return finish(proxy, problems, `held ${heldFor} ms: ${pings().length} PINGREQs, ${pingresps} PINGRESPs; every message after the ack`, 1)
  }

  for (const version of [5, 4] as const) {
    describe(`MQTT ${version === 5 ? '5' : '3.1.1'}`, () => {
      for (const c of faultCases) {
        it(caseName(c), async () => {
          const run = { 'publish-out': publishOut, 'publish-in': publishIn, subscribe, unsubscribe }[c.flow]
          let outcome: string
          try {
            outcome = await run(c, version)
          } catch (error) {
            outcome = `FAIL ${error instanceof Error ? error.message : String(error)}`
          }
          observed.push(`${outcome.startsWith('ok') ? '  ' : '✗ '}MQTT ${version} ${caseName(c)}: ${outcome}`)
          expect(outcome).toMatch(/^ok /)
        })
      }
    })
  }

  for (const version of [5, 4] as const) {
    describe(`MQTT ${version === 5 ? '5' : '3.1.1'}, packets withheld, delayed or left unread`, () => {
      for (const c of stallCases) {
        it(stallCaseName(c), async () => {
          const e = c.expected
          let outcome: string
          try {
            if (e.kind === 'broker-stops-reading') outcome = await brokerStopsReading(e.qos, version)
            else if (e.kind === 'withheld-ack') outcome = await withheldAck(e, version)
            else if (e.kind === 'delayed-ack') outcome = await delayedAck(e, version)
            else if (e.kind === 'withheld-request') outcome = await withheldRequest(e, version)
            else if (e.kind === 'withheld-pingresp') outcome = await withheldPingresp(e, version)
            else outcome = await clientStopsReading(version)
          } catch (error) {
            outcome = `FAIL ${error instanceof Error ? error.message : String(error)}`
          }
          // A declared defect: the case must still show it (a fix makes this fail, and the declaration goes).
          const known = c.defect?.version === version
          observed.push(`${outcome.startsWith('ok') ? '  ' : known ? '! ' : '✗ '}MQTT ${version} ${stallCaseName(c)}: ${outcome}`)
          if (known) expect(outcome, 'the known defect is gone: take it out of test/support/fault-matrix.ts').toMatch(/^FAIL .*not delivered exactly once/)
          else expect(outcome).toMatch(/^ok /)
        })
      }
    })
  }
})
