// The core behaviour suite, run over every transport Node offers against a real Mosquitto started from
// the project's own mosquitto/mosquitto.conf. Each guarantee of the README has a test here that fails
// without it.
import { firstValueFrom, takeWhile, toArray, timeout } from 'rxjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  DecodeError,
  InvalidTopicError,
  type Message,
  type MQTTClient,
  PublishError,
} from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, countInLog, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { collect, next, uniquePrefix, waitFor } from '../support/wait.js'

const text = (m: Message): string => new TextDecoder().decode(m.raw)
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Messages of `source` up to and including the first whose text is `end`. */
function until(client: MQTTClient, filter: string, end = 'end', ms = 10_000): Promise<string[]> {
  return firstValueFrom(
    client.observe(filter, { codec: 'text', qos: 1 }).pipe(
      takeWhile((m) => m.payload !== end, true),
      toArray(),
      timeout({ first: ms, each: ms }),
    ),
  ).then((messages) => messages.map((m) => m.payload))
}

const transports = [
  { name: 'TCP', url: (b: Mosquitto) => b.tcpUrl },
  { name: 'WebSockets', url: (b: Mosquitto) => b.wsUrl },
] as const

describe.skipIf(noMosquitto())('core behaviour on a real Mosquitto', () => {
  let broker: Mosquitto
  beforeAll(async () => {
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['log_type all', 'acl_file /mosquitto/config/acl'],
      // Anonymous clients may use the test namespace and only read `readonly/#`: a denied publish under
      // MQTT 5 shows up as PUBACK reason code 135.
      files: { 'config/acl': 'topic readwrite iotpubsub-test/#\ntopic read readonly/#\n' },
    })
  })
  afterAll(async () => {
    await broker?.dispose()
  })

  /** Waits until the broker has recorded `clientId`'s subscription to `filter` at `qos`. */
  const brokerHas = (clientId: string, filter: string, qos: number | string = '\\d') =>
    broker.waitForLog(new RegExp(`${escape(clientId)} ${qos} ${escape(filter)}$`, 'm'))

  describe.each(transports)('over $name', ({ name, url }) => {
    const pool = new ClientPool(`behaviour-${name}`)
    afterEach(() => pool.endAll())

    it('a. subscribes lazily, shares one SUBSCRIBE between observers, and unsubscribes after the last', async () => {
      const p = uniquePrefix('refcount')
      const client = await pool.connected(url(broker))
      const publisher = await pool.connected(url(broker))
      const temps$ = client.observe(`${p}/temp`, { codec: 'text' })
      // A QoS 1 round trip: had observe() sent anything, the broker would have logged it before this.
      await client.publish(`${p}/ping`, 'x', { qos: 1 })
      expect(countInLog(await broker.log(), 'SUBSCRIBE', client.clientId)).toBe(0)

      const first: string[] = []
      const second: string[] = []
      const s1 = temps$.subscribe((m) => first.push(m.payload))
      const s2 = temps$.subscribe((m) => second.push(m.payload))
      await brokerHas(client.clientId, `${p}/temp`)
      const both = collect(client.observe(`${p}/temp`, { codec: 'text' }), 1, 'the message')
      await publisher.publish(`${p}/temp`, '21.5', { qos: 1 })
      await both
      expect(first).toEqual(['21.5'])
      expect(second).toEqual(['21.5'])
      expect(countInLog(await broker.log(), 'SUBSCRIBE', client.clientId)).toBe(1)

      s1.unsubscribe()
      await client.publish(`${p}/ping`, 'x', { qos: 1 })
      expect(countInLog(await broker.log(), 'UNSUBSCRIBE', client.clientId)).toBe(0)
      s2.unsubscribe()
      await broker.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${escape(client.clientId)}$`, 'm'))
      await client.publish(`${p}/ping`, 'x', { qos: 1 })
      expect(countInLog(await broker.log(), 'UNSUBSCRIBE', client.clientId)).toBe(1)
    })

    it('a. a second observer asking a higher QoS upgrades the broker subscription', async () => {
      const p = uniquePrefix('upgrade')
      const client = await pool.connected(url(broker))
      const publisher = await pool.connected(url(broker))
      const low = client.observe(`${p}/t`, { qos: 0 }).subscribe()
      await brokerHas(client.clientId, `${p}/t`, 0)
      const high = next(client.observe(`${p}/t`, { qos: 1 }), 'a QoS 1 message')
      await brokerHas(client.clientId, `${p}/t`, 1)
      await publisher.publish(`${p}/t`, 'x', { qos: 1 })
      expect((await high).qos).toBe(1)
      low.unsubscribe()
    })

    it.each([5, 4] as const)('c. overlapping filters deliver exactly once per observer (MQTT %s)', async (protocolVersion) => {
      const p = uniquePrefix(`overlap-v${protocolVersion}`)
      const client = await pool.connected(url(broker), { protocolVersion })
      const publisher = await pool.connected(url(broker))
      const filters = [`${p}/a/#`, `${p}/a/+`, `${p}/+/b`]
      const received = filters.map((f) => until(client, f))
      for (const f of filters) await brokerHas(client.clientId, f)
      // Two identical messages in a row must both arrive: they are two publishes, not two copies.
      await publisher.publish(`${p}/a/b`, 'same', { qos: 1 })
      await publisher.publish(`${p}/a/b`, 'same', { qos: 0 })
      await publisher.publish(`${p}/a/b`, 'end', { qos: 1 })
      for (const messages of await Promise.all(received)) expect(messages).toEqual(['same', 'same', 'end'])
    })

    it('d. shared subscriptions split the messages between group members, none lost, matched without the prefix', async () => {
      const p = uniquePrefix('share')
      const filter = `$share/workers/${p}/jobs/+`
      const [a, b, publisher] = await Promise.all([pool.connected(url(broker)), pool.connected(url(broker)), pool.connected(url(broker))])
      const count = 40
      const seen: Array<{ by: string; job: string }> = []
      const all = new Promise<void>((resolve) => {
        for (const [by, client] of [['a', a], ['b', b]] as const) {
          client.observe(filter, { qos: 1 }).subscribe((m) => {
            seen.push({ by, job: m.params[0] ?? '' })
            if (seen.length === count) resolve()
          })
        }
      })
      await brokerHas(a.clientId, filter)
      await brokerHas(b.clientId, filter)
      for (let i = 0; i < count; i++) await publisher.publish(`${p}/jobs/${i}`, String(i), { qos: 1 })
      await all
      expect(new Set(seen.map((s) => s.job)).size).toBe(count)
      expect(seen.filter((s) => s.by === 'a').length).toBeGreaterThan(0)
      expect(seen.filter((s) => s.by === 'b').length).toBeGreaterThan(0)
    })

    it('e. a late observer of an active filter gets the retained state at once, never live messages', async () => {
      const p = uniquePrefix('retained')
      const client = await pool.connected(url(broker))
      const publisher = await pool.connected(url(broker))
      await publisher.publish(`${p}/r/1`, 'one', { qos: 1, retain: true })
      await publisher.publish(`${p}/r/2`, 'two', { qos: 1, retain: true })

      const first: Array<Message<string>> = []
      const keeper = client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => first.push(m))
      await brokerHas(client.clientId, `${p}/r/+`)
      await publisher.publish(`${p}/r/3`, 'live', { qos: 1 })
      await waitFor(() => first.length === 3, 'retained and live messages')
      expect(first.map((m) => [m.payload, m.retain])).toEqual([['one', true], ['two', true], ['live', false]])

      const late: Array<Message<string>> = []
      const lateSub = client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => late.push(m))
      // Delivered synchronously from the cache: no new SUBSCRIBE, no broker round trip.
      expect(late.map((m) => [m.topic, m.payload, m.retain])).toEqual([[`${p}/r/1`, 'one', true], [`${p}/r/2`, 'two', true]])
      expect(late[0]?.params).toEqual(['1'])
      lateSub.unsubscribe()

      // An empty retained payload deletes the value; a retained update replaces it (MQTT 5 keeps the flag).
      await publisher.publish(`${p}/r/1`, '', { qos: 1, retain: true })
      await publisher.publish(`${p}/r/2`, 'TWO', { qos: 1, retain: true })
      await waitFor(() => first.length === 5, 'the retained delete and update')
      const later: string[] = []
      client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => later.push(m.payload)).unsubscribe()
      expect(later).toEqual(['TWO'])
      expect(countInLog(await broker.log(), 'SUBSCRIBE', client.clientId)).toBe(1)
      keeper.unsubscribe()
      await publisher.publish(`${p}/r/2`, '', { qos: 1, retain: true })
    })

    it('f. refuses a bad topic or filter synchronously, sends nothing, and stays connected', async () => {
      const client = await pool.connected(url(broker))
      const long = 'x'.repeat(65_536)
      for (const bad of ['a/+/b', 'a/#', '', 'nul\u0000', long]) expect(() => client.publish(bad, 'x')).toThrow(InvalidTopicError)
      for (const bad of ['a/#/b', 'a+', '', '$share/g', '$share//x', long]) expect(() => client.observe(bad)).toThrow(InvalidTopicError)
      const p = uniquePrefix('healthy')
      const echo = next(client.observe(`${p}/ok`, { codec: 'text' }), 'the echo')
      await brokerHas(client.clientId, `${p}/ok`)
      await client.publish(`${p}/ok`, 'still here', { qos: 1 })
      expect((await echo).payload).toBe('still here')
      expect(await broker.log()).not.toMatch(new RegExp(`Client ${escape(client.clientId)} disconnected`))
    })

    it.each([0, 1, 2] as const)('g. publish at QoS %s resolves on its acknowledgement', async (qos) => {
      const p = uniquePrefix(`qos${qos}`)
      const client = await pool.connected(url(broker))
      const received = next(client.observe(`${p}/x`, { qos: 2 }), 'the message')
      await brokerHas(client.clientId, `${p}/x`)
      await expect(client.publish(`${p}/x`, 'x', { qos })).resolves.toBeUndefined()
      expect((await received).qos).toBe(qos)
      if (qos === 2) await broker.waitForLog(new RegExp(`Sending PUBCOMP to ${escape(client.clientId)}`))
    })

    it('g. a publish the broker refuses rejects with PublishError and its reason code (MQTT 5)', async () => {
      const client = await pool.connected(url(broker))
      const error = await client.publish('readonly/x', 'x', { qos: 1 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PublishError)
      expect(error).toMatchObject({ name: 'PublishError', reasonCode: 135, topic: 'readonly/x' })
      await expect(client.publish(`${uniquePrefix('after')}/x`, 'x', { qos: 1 })).resolves.toBeUndefined()
    })

    it('h. a payload the codec cannot decode is reported on errors$ and the stream goes on', async () => {
      const p = uniquePrefix('decode')
      const client = await pool.connected(url(broker))
      const publisher = await pool.connected(url(broker))
      const errors = next(client.errors$, 'a DecodeError')
      const good = next(client.observe<{ ok: boolean }>(`${p}/json`, { codec: 'json' }), 'the good message')
      await brokerHas(client.clientId, `${p}/json`)
      await publisher.publish(`${p}/json`, 'not json', { qos: 1 })
      await publisher.publish(`${p}/json`, { ok: true }, { qos: 1 })
      expect((await good).payload).toEqual({ ok: true })
      const error = await errors
      expect(error).toBeInstanceOf(DecodeError)
      expect(error).toMatchObject({ name: 'DecodeError', topic: `${p}/json` })
      expect(new TextDecoder().decode((error as DecodeError).raw)).toBe('not json')
      expect((error as DecodeError).cause).toBeInstanceOf(SyntaxError)
    })

    it('j. end() completes observers, rejects later calls, and can be called twice', async () => {
      const p = uniquePrefix('end')
      const client = await pool.connected(url(broker))
      const completed = firstValueFrom(client.observe(`${p}/x`).pipe(toArray()))
      await brokerHas(client.clientId, `${p}/x`)
      await Promise.all([client.end(), client.end()])
      await expect(completed).resolves.toEqual([])
      expect(await firstValueFrom(client.status$)).toEqual({ type: 'closed', error: undefined })
      await expect(client.publish(`${p}/x`, 'late')).rejects.toBeInstanceOf(ClientClosedError)
      await expect(firstValueFrom(client.observe(`${p}/x`))).rejects.toBeInstanceOf(ClientClosedError)
      // end() leaves a persistent session's subscriptions in place: no UNSUBSCRIBE was sent.
      await broker.waitForLog(new RegExp(`Received DISCONNECT from ${escape(client.clientId)}$`, 'm'))
      expect(countInLog(await broker.log(), 'UNSUBSCRIBE', client.clientId)).toBe(0)
    })
  })

  it('the client reports MQTT 5 by default and 3.1.1 when asked', async () => {
    const pool = new ClientPool('protocol')
    try {
      const v5 = pool.connect(broker.tcpUrl)
      const v4 = pool.connect(broker.tcpUrl, { protocolVersion: 4 })
      expect(await waitForStatus(v5, 'connected')).toMatchObject({ protocolVersion: 5, sessionPresent: false })
      expect(await waitForStatus(v4, 'connected')).toMatchObject({ protocolVersion: 4 })
    } finally {
      await pool.endAll()
    }
  })
})
