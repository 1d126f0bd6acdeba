// A publish the broker answers by closing the connection (or with a PUBACK MQTT.js cannot parse) must reject
// with the broker's reason, cost at most one reconnect, and hold up nothing published behind it.
import { firstValueFrom, filter, map, skipWhile, takeWhile, timeout, toArray } from 'rxjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { InvalidTopicError, PublishError, PublishOutcomeUnknownError, type ConnectedStatus, type MQTTClient, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { natsEngine } from '../support/engines/definitions.js'
import { NatsServer } from '../support/engines/nats.js'
import type { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** Resolves with `promise`'s rejection; fails if it resolves, or has not settled after `ms` (an assertion bound). */
function rejection(promise: Promise<unknown>, what: string, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        reject(new Error(`${what} resolved (${String(value)}) instead of rejecting`))
      },
      (error: unknown) => {
        clearTimeout(timer)
        resolve(error)
      },
    )
  })
}

/** Resolves with `promise`'s value; fails if it has not settled after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error instanceof Error ? error : new Error(String(error)))),
    )
  })
}

/** The next `connected` after the client has left `connected` (subscribe before the fault). */
function reconnected(client: MQTTClient): Promise<ConnectedStatus> {
  const promise = firstValueFrom(
    client.status$.pipe(
      skipWhile((s) => s.type === 'connected'),
      filter((s): s is ConnectedStatus => s.type === 'connected'),
    ),
  )
  void promise.catch(() => undefined) // the client may end first when an earlier assertion fails
  return promise
}

/** The text payloads `observer` receives on `topic`, up to and including `last` (QoS 1 may repeat some). */
function receivedUntil(observer: MQTTClient, topic: string, last: string, ms = 10_000): Promise<string[]> {
  const promise = firstValueFrom(
    observer.observe(topic, { codec: 'text', qos: 1 }).pipe(
      map((m) => m.payload),
      takeWhile((payload) => payload !== last, true),
      toArray(),
      timeout({ first: ms, each: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for ${JSON.stringify(last)} on ${topic}`) } }),
    ),
  )
  void promise.catch(() => undefined)
  return promise
}

function record(client: MQTTClient): Status[] {
  const statuses: Status[] = []
  client.status$.subscribe((s) => statuses.push(s))
  return statuses
}

/** QoS 1 publishes fired without awaiting: resolves with the order in which they resolved. */
function fire(client: MQTTClient, topic: string, count: number): Promise<number[]> {
  const order: number[] = []
  const all = Array.from({ length: count }, (_, i) => client.publish(topic, `behind-${i}`, { qos: 1 }).then(() => void order.push(i)))
  const done = Promise.all(all).then(() => order)
  void done.catch(() => undefined)
  return done
}

describe.skipIf(noMosquitto())('a publish the broker answers by closing the connection', () => {
  const bed = testBed('poison')
  const pool = bed.pool
  const connections = async (broker: Mosquitto, clientId: string) =>
    (await broker.log()).split('\n').filter((l) => l.includes('New client connected') && l.includes(` as ${clientId} `)).length

  it('a. MQTT 5, message_size_limit: PUBACK 149 rejects the publish with PublishError 149 within 3 s, and what is queued behind it goes through', async () => {
    const broker = await bed.broker({ extra: ['log_type all', 'message_size_limit 100'] })
    const client = await pool.connected(broker.tcpUrl)
    const observer = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('poison-size')
    const received = receivedUntil(observer, `${p}/small`, 'later')
    await broker.waitForSubscription(observer.clientId, `${p}/small`, 1)

    const started = Date.now()
    const poison = rejection(client.publish(`${p}/big`, 'x'.repeat(200), { qos: 1 }), 'the oversized publish', 3_000)
    const behind = fire(client, `${p}/small`, 5)
    const error = await poison
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(error).toBeInstanceOf(PublishError)
    expect(error).toMatchObject({ name: 'PublishError', reasonCode: 149, topic: `${p}/big` })
    expect(await within(behind, 'the 5 publishes queued behind it', 5_000)).toEqual([0, 1, 2, 3, 4])
    await waitForStatus(client, 'connected', 5_000)
    await expect(within(client.publish(`${p}/small`, 'later', { qos: 1 }), 'a later small publish', 5_000)).resolves.toBeUndefined()
    expect([...new Set(await received)]).toEqual(['behind-0', 'behind-1', 'behind-2', 'behind-3', 'behind-4', 'later'])
    // The first connection, at most one resend of the poison publish, and at most one reconnect.
    expect(await connections(broker, client.clientId)).toBeLessThanOrEqual(3)
  })

  it('b. MQTT 3.1.1 (WebSockets), max_qos 1: the first QoS 2 publish closed on is outcome unknown (a network cut looks the same), the second in a row rejects with 155, neither reconnect has a backoff, and QoS 2 is then refused at once', async () => {
    // max_qos is a listener setting; appended last, it applies to the kit's websockets listener.
    const broker = await bed.broker({ extra: ['log_type all', 'max_qos 1'] })
    const client = await pool.connected(broker.wsUrl, { protocolVersion: 4, reconnect: { initialDelay: 5_000, maxDelay: 10_000 } })
    const observer = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('poison-qos')
    const received = receivedUntil(observer, `${p}/ok`, 'behind-4')
    await broker.waitForSubscription(observer.clientId, `${p}/ok`, 1)
    const tooHigh = async () => (await broker.log()).split('\n').filter((l) => l.includes(`Too high QoS in PUBLISH from ${client.clientId},`)).length

    // One silent close right after a QoS 2 PUBLISH proves nothing: the session is gone, the outcome unknown.
    let back = reconnected(client)
    let started = Date.now()
    const first = rejection(client.publish(`${p}/q2`, 'x', { qos: 2 }), 'the first QoS 2 publish', 3_000)
    const behind = fire(client, `${p}/ok`, 5)
    expect(await first).toBeInstanceOf(PublishOutcomeUnknownError)
    expect(Date.now() - started).toBeLessThan(3_000)
    // A backoff (initialDelay 5 s) would blow this bound: the close is blamed on the publish.
    expect(await within(back, 'the first reconnect', 2_000)).toMatchObject({ type: 'connected', protocolVersion: 4 })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(await within(behind, 'the 5 publishes queued behind it', 5_000)).toEqual([0, 1, 2, 3, 4])
    expect([...new Set(await received)]).toEqual(['behind-0', 'behind-1', 'behind-2', 'behind-3', 'behind-4'])
    await waitFor(async () => (await tooHigh()) === 1, 'the broker refusing the first QoS 2 publish', 5_000)

    // The next QoS 2 publish closed on the same way, with no QoS 2 taken between: the broker refuses QoS 2.
    back = reconnected(client)
    started = Date.now()
    const error = await rejection(client.publish(`${p}/q2`, 'y', { qos: 2 }), 'the second QoS 2 publish', 3_000)
    expect(error).toBeInstanceOf(PublishError)
    expect(error).not.toBeInstanceOf(PublishOutcomeUnknownError)
    expect(error).toMatchObject({ name: 'PublishError', reasonCode: 155, topic: `${p}/q2` })
    expect(await within(back, 'the second reconnect', 2_000)).toMatchObject({ type: 'connected', protocolVersion: 4 })
    expect(Date.now() - started).toBeLessThan(2_000)
    await waitFor(async () => (await tooHigh()) === 2, 'the broker refusing the second QoS 2 publish', 5_000)

    // Learned: the broker's maximum is 1, so the next QoS 2 publish is refused here, nothing sent.
    const before = await connections(broker, client.clientId)
    const again = Date.now()
    const refused = await rejection(client.publish(`${p}/q2`, 'z', { qos: 2 }), 'the third QoS 2 publish', 100)
    expect(Date.now() - again).toBeLessThan(100)
    expect(refused).toMatchObject({ name: 'PublishError', reasonCode: 155 })
    await client.publish(`${p}/ok`, 'after', { qos: 1 })
    expect(await connections(broker, client.clientId)).toBe(before)
    expect(await tooHigh()).toBe(2)
  })

  describe.each([
    ['a control character', 'a\u0007b'],
    ['a non-character', 'a\uFFFEb'],
  ])('d. a topic name with %s', (_, bad) => {
    it('publish() returns a promise that rejects with InvalidTopicError, and nothing reaches the broker', async () => {
      const broker = await bed.broker({ extra: ['log_type all'] })
      const client = await pool.connected(broker.tcpUrl)
      const statuses = record(client)
      let result: Promise<void> | undefined
      expect(() => (result = client.publish(bad, 'x', { qos: 1 }))).not.toThrow()
      const error = await rejection(result as Promise<void>, 'the publish', 2_000)
      expect(error).toBeInstanceOf(InvalidTopicError)
      expect(error).toMatchObject({ name: 'InvalidTopicError', topic: bad })
      // A round trip after it: had the bad PUBLISH gone out, the broker would have closed the connection first.
      await within(client.publish(`${uniquePrefix('healthy')}/x`, 'ok', { qos: 1 }), 'a good publish', 5_000)
      expect(statuses.map((s) => s.type)).toEqual(['connected'])
      expect(await connections(broker, client.clientId)).toBe(1)
      expect(await broker.log()).not.toMatch(/malformed packet/)
    })
  })

  it('d. observe() of a filter with a control character throws InvalidTopicError at once', async () => {
    const broker = await bed.broker()
    const client = await pool.connected(broker.tcpUrl)
    expect(() => client.observe('a\u0001/#')).toThrow(InvalidTopicError)
    expect(() => client.observe('a\uFFFE/#')).toThrow(InvalidTopicError)
  })
})

describe.skipIf(natsEngine.missing())('a QoS 2 publish to NATS, which closes the connection', () => {
  let nats: NatsServer
  const pool = new ClientPool('poison-nats')
  beforeAll(async () => {
    nats = await NatsServer.start()
  }, 60_000)
  afterEach(() => pool.endAll())
  afterAll(async () => {
    await nats?.dispose()
  })

  it("c. default options ('auto' falls back to 3.1.1): the first QoS 2 publish is outcome unknown, the second rejects with 155, each connected again within 1 s, and QoS 1 works", async () => {
    const client = await pool.connected(nats.tcpUrl)
    expect(await waitForStatus(client, 'connected')).toMatchObject({ protocolVersion: 4 })
    const statuses = record(client)
    for (const expected of [{ name: 'PublishOutcomeUnknownError' }, { name: 'PublishError', reasonCode: 155 }]) {
      const error = await rejection(client.publish(`${uniquePrefix('nats-qos2')}/x`, 'x', { qos: 2 }), 'the QoS 2 publish', 5_000)
      const rejectedAt = Date.now()
      expect(error).toMatchObject(expected)
      await within(waitForStatus(client, 'connected'), 'the status connected', 1_000)
      expect(Date.now() - rejectedAt).toBeLessThan(1_000)
      expect(statuses.at(-1)).toMatchObject({ type: 'connected', protocolVersion: 4 })
    }
    await expect(within(client.publish(`${uniquePrefix('nats-qos1')}/x`, 'y', { qos: 1 }), 'a QoS 1 publish', 5_000)).resolves.toBeUndefined()
  })
})
