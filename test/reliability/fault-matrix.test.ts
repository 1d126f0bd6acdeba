// The fault matrix: every cut point of every MQTT flow (publish QoS 1 and 2 out and in, subscribe,
// unsubscribe) × session kept or lost × MQTT 5 and 3.1.1, over the link under test, through MqttFaultProxy
// in front of a real Mosquitto. Each case asserts the outcome declared in test/support/fault-matrix.ts
// (rendered into test/reliability/FAULT-MATRIX.md and the README's delivery table) and the invariants that
// hold everywhere: a publish resolves only if the broker accepted the message (a subscriber connected
// straight to the broker receives it), every promise settles within its deadline, one cut makes exactly one
// reconnect, nothing throws out of the client. Each case waits for protocol events seen by the proxy or
// messages received, never for the clock.
import { readFileSync } from 'node:fs'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ClientOptions, MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { caseName, faultCases, faultMatrixFile, renderFaultMatrix, renderFaultMatrixTable, type FaultCase, type Times } from '../support/fault-matrix.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { MqttFaultProxy, type Direction, type SeenPacket } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** How long a publish may take (its `timeout`), and how long any awaited event may take. */
const DEADLINE = 4_000
const WAIT = 4_000

it('FAULT-MATRIX.md is rendered from the case declarations (npx tsx test/support/fault-matrix.ts --write)', () => {
  expect(readFileSync(faultMatrixFile, 'utf8')).toBe(renderFaultMatrix())
})

it("the README's delivery table is the fault matrix", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  expect(readme.includes(renderFaultMatrixTable()), 'paste test/reliability/FAULT-MATRIX.md (without its comment) into the README').toBe(true)
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
  const thrown: unknown[] = []
  const onThrown = (error: unknown): void => void thrown.push(error)
  const observed: string[] = []
  let broker: Mosquitto
  /** Connected straight to the broker: publishes the inbound flows' messages and counts what arrives. */
  let direct: MqttClient
  const atBroker = inbox()

  beforeAll(async () => {
    process.on('uncaughtException', onThrown)
    process.on('unhandledRejection', onThrown)
    broker = await Mosquitto.start({ persistence: false })
    direct = await rawClient(broker.tcpUrl, { protocolVersion: 5, clientId: `fault-matrix-direct-${process.pid}` })
    direct.on('message', (topic, payload) => atBroker.add(topic, payload.toString()))
    await direct.subscribeAsync('#', { qos: 2 })
  })

  afterEach(async () => {
    await pool.endAll()
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })

  afterAll(async () => {
    process.off('uncaughtException', onThrown)
    process.off('unhandledRejection', onThrown)
    await direct?.endAsync()
    await broker?.dispose()
    // The case count and each outcome, for the report (the assertions are in the cases).
    console.log(`fault matrix, ${linkUnderTest()} link: ${observed.length} cases\n${observed.join('\n')}`)
  })

  async function start(c: FaultCase, version: 4 | 5): Promise<{ proxy: MqttFaultProxy; client: MQTTClient; p: string }> {
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    const options: ClientOptions = {
      protocolVersion: version,
      keepalive: 10,
      connectTimeout: 2_000,
      reconnect: { initialDelay: 20, maxDelay: 100 },
      ...(c.session === 'kept' ? { clean: false, ...(version === 5 ? { sessionExpiryInterval: 60 } : {}) } : {}),
    }
    const client = await pool.connected(proxy.url, options)
    return { proxy, client, p: uniquePrefix('fault') }
  }

  /** The reconnect's CONNACK; the case is only meaningful if the broker kept or lost the session as declared. */
  async function reconnected(proxy: MqttFaultProxy, c: FaultCase): Promise<string[]> {
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

  /** The checks every case shares: one cut, one reconnect; nothing thrown out of the client. */
  function finish(proxy: MqttFaultProxy, problems: string[], outcome: string): string {
    if (proxy.connections !== 2) problems.push(`${proxy.connections} connections for one cut`)
    if (thrown.length > 0) problems.push(`thrown: ${thrown.splice(0).map(errorName).join(', ')}`)
    return problems.length > 0 ? `FAIL ${outcome}: ${problems.join('; ')}` : `ok ${outcome}`
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
})
