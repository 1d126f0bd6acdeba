// The core behaviour suite, run over TCP and WebSockets against a real engine (Mosquitto, RabbitMQ, NATS).
// Each guarantee of the README has a test here that fails without it. Where an engine behaves differently,
// the test asserts what the engine's declaration (definitions.ts) says, never skips: the declarations are
// what test/engines/COMPATIBILITY.md is rendered from.
import { firstValueFrom, takeWhile, toArray, timeout } from 'rxjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  DecodeError,
  InvalidTopicError,
  type Message,
  type MQTTClient,
  PublishError,
  type QoS,
  type Status,
  type SubscriptionInfo,
} from '../../../lib/node.js'
import { countInLog, waitForStatus } from '../clients.js'
import { collect, next, uniquePrefix, waitFor } from '../wait.js'
import { defaultProtocol, type EngineDefinition, type RunningEngine } from './engine.js'
import { EnginePool } from './wire.js'

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Messages of `filter` up to and including the first whose text is `end`. */
function until(client: MQTTClient, filter: string, end = 'end', ms = 10_000): Promise<string[]> {
  return firstValueFrom(
    client.observe(filter, { codec: 'text', qos: 1 }).pipe(
      takeWhile((m) => m.payload !== end, true),
      toArray(),
      timeout({ first: ms, each: ms }),
    ),
  ).then((messages) => messages.map((m) => m.payload))
}

/** Every status the client goes through from now on (the current one first). */
function record(client: MQTTClient): Status[] {
  const statuses: Status[] = []
  client.status$.subscribe((s) => statuses.push(s))
  return statuses
}

export function behaviourSuite(definition: EngineDefinition): void {
  const traits = definition.traits
  const protocol = defaultProtocol(traits)

  describe.skipIf(definition.missing())(`core behaviour on a real ${traits.name}`, () => {
    let engine: RunningEngine
    beforeAll(async () => {
      engine = await definition.start()
      process.stderr.write(`[engines] ${traits.name} ${traits.version} ready in ${engine.startupMs} ms\n`)
    }, 120_000)
    afterAll(async () => {
      await engine?.dispose()
    })

    const transports = [
      { name: 'TCP', url: () => engine.tcpUrl },
      { name: 'WebSockets', url: () => engine.wsUrl },
    ] as const

    describe.each(transports)('over $name', ({ name, url }) => {
      const pool = new EnginePool(`behaviour-${traits.name}-${name}`, () => traits.clientOptions)
      afterEach(() => pool.endAll())

      it(`connects at the declared WebSocket path (${traits.wsPath || 'any'}) with the declared protocol (${protocol === 5 ? 'MQTT 5' : 'MQTT 3.1.1'})`, async () => {
        const client = pool.connect(url())
        const statuses = record(client)
        expect(await waitForStatus(client, 'connected')).toMatchObject({ protocolVersion: protocol, url: url() })
        // A fallback to 3.1.1 is not a reconnect: no `reconnecting` in between.
        expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected'])
        if (name === 'WebSockets') expect(new URL(url()).pathname).toBe(traits.wsPath || '/')
      })

      it('a. subscribes lazily, shares one SUBSCRIBE between observers, and unsubscribes after the last', async () => {
        const p = uniquePrefix('refcount')
        const client = await pool.connected(url())
        const publisher = await pool.connected(url())
        const wire = pool.wire(client)
        const temps$ = client.observe(`${p}/temp`, { codec: 'text' })
        // A QoS 1 round trip: had observe() sent anything, the broker would have received it before this.
        await client.publish(`${p}/ping`, 'x', { qos: 1 })
        expect(wire.sent('subscribe')).toBe(0)
        if (engine.log) expect(countInLog(await engine.log(), 'SUBSCRIBE', client.clientId)).toBe(0)

        const first: string[] = []
        const second: string[] = []
        const s1 = temps$.subscribe((m) => first.push(m.payload))
        const s2 = temps$.subscribe((m) => second.push(m.payload))
        await engine.subscribed(client, `${p}/temp`)
        const both = collect(client.observe(`${p}/temp`, { codec: 'text' }), 1, 'the message')
        await publisher.publish(`${p}/temp`, '21.5', { qos: 1 })
        await both
        expect(first).toEqual(['21.5'])
        expect(second).toEqual(['21.5'])
        expect(wire.sent('subscribe')).toBe(1)
        if (engine.log) expect(countInLog(await engine.log(), 'SUBSCRIBE', client.clientId)).toBe(1)

        s1.unsubscribe()
        await client.publish(`${p}/ping`, 'x', { qos: 1 })
        expect(wire.sent('unsubscribe')).toBe(0)
        if (engine.log) expect(countInLog(await engine.log(), 'UNSUBSCRIBE', client.clientId)).toBe(0)
        s2.unsubscribe()
        expect(wire.sent('unsubscribe', `${p}/temp`)).toBe(1)
        await wire.unsubacked(`${p}/temp`)
        if (engine.waitForLog) await engine.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${escape(client.clientId)}$`, 'm'))
        await client.publish(`${p}/ping`, 'x', { qos: 1 })
        expect(wire.sent('unsubscribe')).toBe(1)
        if (engine.log) expect(countInLog(await engine.log(), 'UNSUBSCRIBE', client.clientId)).toBe(1)

        // The broker stopped sending: a message on the released topic, then one on a probe topic observed at
        // the same QoS (same path through the broker), from one publisher; the probe arrives alone.
        const probe = next(client.observe(`${p}/probe`, { codec: 'text' }), 'the probe')
        await engine.subscribed(client, `${p}/probe`)
        await publisher.publish(`${p}/temp`, 'after the last observer', { qos: 1 })
        await publisher.publish(`${p}/probe`, 'probe', { qos: 1 })
        await probe
        expect(wire.received('publish', `${p}/temp`)).toBe(1)
      })

      it('a. a second observer asking a higher QoS upgrades the broker subscription', async () => {
        const p = uniquePrefix('upgrade')
        const client = await pool.connected(url())
        const publisher = await pool.connected(url())
        const low = client.observe(`${p}/t`, { qos: 0 }).subscribe()
        await engine.subscribed(client, `${p}/t`, 0)
        const high: Array<Message<string>> = []
        client.observe(`${p}/t`, { qos: 1, codec: 'text' }).subscribe((m) => high.push(m))
        await engine.subscribed(client, `${p}/t`, 1)
        const wire = pool.wire(client)
        expect(await wire.subacked(`${p}/t`, 1)).toBe(traits.grantedQos[1])
        expect(wire.sent('subscribe', `${p}/t`)).toBe(2)
        await publisher.publish(`${p}/t`, 'x', { qos: 1 })
        await publisher.publish(`${p}/t`, 'fence', { qos: 1 })
        if (traits.qosUpgrade === 'replaces the subscription') {
          await waitFor(() => high.some((m) => m.payload === 'fence'), 'the fence')
          expect(high.map((m) => [m.payload, m.qos])).toEqual([['x', traits.grantedQos[1]], ['fence', traits.grantedQos[1]]])
        } else {
          // Declared: the engine keeps the QoS 0 subscription beside the new one and sends a copy for each;
          // without MQTT 5 identifiers the SDK cannot tell the copies apart, so the observers get both.
          await waitFor(() => high.length === 4, 'two copies of each message')
          expect(high.filter((m) => m.payload === 'x').map((m) => m.qos).sort()).toEqual([0, 1])
          expect(wire.receivedQos(`${p}/t`).sort()).toEqual([0, 0, 1, 1])
        }
        low.unsubscribe()
      })

      it.each([5, 4] as const)('c. overlapping filters deliver exactly once per observer (MQTT %s), or as declared', async (protocolVersion) => {
        const p = uniquePrefix(`overlap-v${protocolVersion}`)
        let options = {}
        if (traits.protocols.includes(protocolVersion)) {
          options = { protocolVersion }
        } else {
          // Declared: the engine refuses MQTT 5. An explicit protocolVersion 5 is not downgraded (the client
          // never connects); the default ('auto') falls back to 3.1.1, and the test goes on with that.
          const refused = pool.connect(url(), { protocolVersion })
          const statuses = record(refused)
          if (traits.mqtt5Connect === 'CONNACK 1 (unacceptable protocol version)') {
            expect((await waitForStatus(refused, 'closed')).error).toMatchObject({ name: 'ConnectionRefusedError', reasonCode: 1 })
          } else {
            // Closed without a CONNACK: nothing says why, so the SDK retries as for a lost connection.
            expect((await waitForStatus(refused, 'reconnecting')).error).toMatchObject({ name: 'ConnectionLostError' })
          }
          expect(statuses.some((s) => s.type === 'connected')).toBe(false)
        }
        const client = await pool.connected(url(), options)
        const used = (await waitForStatus(client, 'connected')).protocolVersion
        expect(used).toBe(traits.protocols.includes(protocolVersion) ? protocolVersion : protocol)
        const publisher = await pool.connected(url())
        const filters = [`${p}/a/#`, `${p}/a/+`, `${p}/+/b`]
        // Two identical messages in a row must both arrive: they are two publishes, not two copies.
        const sent = ['same', 'same', 'end']
        if (used === 4 && traits.overlappingFilters311 === 'one per matching filter') {
          // Declared: one copy per matching filter and no subscription identifiers to tell them apart (MQTT
          // 3.1.1), so the SDK hands each copy to every matching subscription: each observer gets every
          // message once per matching filter, as the README's guarantee says such a broker would.
          const received = filters.map(() => [] as string[])
          filters.forEach((f, i) => client.observe(f, { codec: 'text', qos: 1 }).subscribe((m) => received[i]?.push(m.payload)))
          for (const f of filters) await engine.subscribed(client, f)
          for (const [i, payload] of sent.entries()) await publisher.publish(`${p}/a/b`, payload, { qos: i === 1 ? 0 : 1 })
          const copies = filters.length * sent.length
          await waitFor(() => received.every((r) => r.length >= copies), `${copies} copies per observer`)
          expect(pool.wire(client).received('publish', `${p}/a/b`)).toBe(copies)
          for (const messages of received) expect([...messages].sort()).toEqual([...sent.flatMap((s) => filters.map(() => s))].sort())
          if (traits.orderAcrossQos === 'kept') expect(pool.wire(client).receivedPayloads(`${p}/a/b`)).toEqual(sent.flatMap((s) => filters.map(() => s)))
          return
        }
        if (traits.orderAcrossQos !== 'kept') {
          // Declared: the QoS 0 message may arrive before or after its QoS 1 neighbours; each arrives once.
          const received = filters.map((f) => collect(client.observe(f, { codec: 'text', qos: 1 }), sent.length, `the messages of ${f}`))
          for (const f of filters) await engine.subscribed(client, f)
          for (const [i, payload] of sent.entries()) await publisher.publish(`${p}/a/b`, payload, { qos: i === 1 ? 0 : 1 })
          for (const messages of await Promise.all(received)) expect(messages.map((m) => m.payload).sort()).toEqual([...sent].sort())
          expect(pool.wire(client).received('publish', `${p}/a/b`)).toBe(sent.length)
          return
        }
        const received = filters.map((f) => until(client, f))
        for (const f of filters) await engine.subscribed(client, f)
        for (const [i, payload] of sent.entries()) await publisher.publish(`${p}/a/b`, payload, { qos: i === 1 ? 0 : 1 })
        for (const messages of await Promise.all(received)) expect(messages).toEqual(sent)
      })

      it(`d. shared subscriptions: ${traits.sharedSubscriptions === 'split' ? 'members split the messages, none lost, matched without the prefix' : 'a literal filter, members receive nothing (declared)'}`, async () => {
        const p = uniquePrefix('share')
        const filter = `$share/workers/${p}/jobs/+`
        const [a, b, publisher] = await Promise.all([pool.connected(url()), pool.connected(url()), pool.connected(url())])
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
        await engine.subscribed(a, filter)
        await engine.subscribed(b, filter)
        if (traits.sharedSubscriptions === 'literal') {
          // The engine grants the SUBSCRIBE (so the SDK cannot tell) and routes nothing to it: by the time a
          // plain subscriber has every job, the group members have none.
          expect(await pool.wire(a).subacked(filter)).toBe(traits.grantedQos[1])
          const plain = await pool.connected(url())
          const everything = collect(plain.observe(`${p}/jobs/+`, { qos: 1 }), count, 'every job')
          await engine.subscribed(plain, `${p}/jobs/+`)
          for (let i = 0; i < count; i++) await publisher.publish(`${p}/jobs/${i}`, String(i), { qos: 1 })
          expect((await everything).length).toBe(count)
          expect(seen).toEqual([])
          expect(pool.wire(a).received('publish') + pool.wire(b).received('publish')).toBe(0)
          return
        }
        for (let i = 0; i < count; i++) await publisher.publish(`${p}/jobs/${i}`, String(i), { qos: 1 })
        await all
        expect(new Set(seen.map((s) => s.job)).size).toBe(count)
        expect(seen.filter((s) => s.by === 'a').length).toBeGreaterThan(0)
        expect(seen.filter((s) => s.by === 'b').length).toBeGreaterThan(0)
      })

      it(`e. a late observer of an active filter gets the retained state at once, never live messages (retained: ${traits.retained})`, async () => {
        const p = uniquePrefix('retained')
        const client = await pool.connected(url())
        const publisher = await pool.connected(url())
        await publisher.publish(`${p}/r/1`, 'one', { qos: 1, retain: true })
        await publisher.publish(`${p}/r/2`, 'two', { qos: 1, retain: true })

        // An exact topic filter gets the stored value on every engine.
        const exact = next(client.observe(`${p}/r/2`, { codec: 'text' }), 'the retained value of r/2')
        await engine.subscribed(client, `${p}/r/2`)
        expect(await exact).toMatchObject({ payload: 'two', retain: true })

        const wildcard = traits.retained === 'all filters'
        const first: Array<Message<string>> = []
        const keeper = client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => first.push(m))
        await engine.subscribed(client, `${p}/r/+`)
        await publisher.publish(`${p}/r/3`, 'live', { qos: 1 })
        const expected = wildcard ? [['one', true], ['two', true], ['live', false]] : [['live', false]]
        await waitFor(() => first.length === expected.length, 'retained and live messages')
        // Declared: some engines send the stored messages in any order (the live one always comes after them).
        const inOrder = (pairs: unknown[][]): unknown[][] => (traits.retainedOrder === 'any order' ? [...pairs.slice(0, -1)].sort().concat(pairs.slice(-1)) : pairs)
        expect(inOrder(first.map((m) => [m.payload, m.retain]))).toEqual(expected)

        const late: Array<Message<string>> = []
        const lateSub = client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => late.push(m))
        // Delivered synchronously from the cache: no new SUBSCRIBE, no broker round trip. On an engine that
        // sends no retained messages to wildcard filters there is nothing to replay.
        const replayed = late.map((m) => [m.topic, m.payload, m.retain])
        expect(traits.retainedOrder === 'any order' ? replayed.sort() : replayed).toEqual(wildcard ? [[`${p}/r/1`, 'one', true], [`${p}/r/2`, 'two', true]] : [])
        // The replay keeps the order in which the engine sent them.
        expect(late.map((m) => m.payload)).toEqual(first.filter((m) => m.retain).map((m) => m.payload))
        if (wildcard) expect(late.find((m) => m.payload === 'one')?.params).toEqual(['1'])
        lateSub.unsubscribe()

        // An empty retained payload deletes the value; a retained update, forwarded live (`retain: false`), drops
        // the topic's cached value, as the README says: a peek at the cache has neither.
        await publisher.publish(`${p}/r/1`, '', { qos: 1, retain: true })
        await publisher.publish(`${p}/r/2`, 'TWO', { qos: 1, retain: true })
        await waitFor(() => first.length === expected.length + 2, 'the retained delete and update')
        expect(first.slice(-2).map((m) => m.retain)).toEqual([false, false])
        const peeked: string[] = []
        client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => peeked.push(m.payload)).unsubscribe()
        expect(peeked).toEqual([])
        // A late observer that stays gets the new stored value under MQTT 5: the client asks the engine again
        // (two SUBSCRIBEs, Retain Handling 0 then 1); MQTT 3.1.1 cannot ask.
        const asks = wildcard && protocol === 5
        const later: string[] = []
        const laterSub = client.observe(`${p}/r/+`, { codec: 'text' }).subscribe((m) => later.push(m.payload))
        if (asks) await waitFor(() => later.length === 1, 'the stored value of r/2 at the late observer')
        expect(later).toEqual(asks ? ['TWO'] : [])
        laterSub.unsubscribe()
        expect(pool.wire(client).sent('subscribe', `${p}/r/+`)).toBe(asks ? 3 : 1)
        if (engine.log) expect(countInLog(await engine.log(), 'SUBSCRIBE', client.clientId)).toBe(asks ? 4 : 2)
        keeper.unsubscribe()

        // The engine deleted r/1 and replaced r/2: a new client sees exactly that.
        const fresh = await pool.connected(url())
        const replaced = next(fresh.observe(`${p}/r/2`, { codec: 'text' }), 'the replaced value')
        await engine.subscribed(fresh, `${p}/r/2`)
        expect(await replaced).toMatchObject({ payload: 'TWO', retain: true })
        const deleted: string[] = []
        fresh.observe(`${p}/r/1`, { codec: 'text' }).subscribe((m) => deleted.push(m.payload))
        await engine.subscribed(fresh, `${p}/r/1`)
        await publisher.publish(`${p}/r/1`, 'fence', { qos: 1 })
        await waitFor(() => deleted.length > 0, 'the fence')
        expect(deleted).toEqual(['fence'])
        await publisher.publish(`${p}/r/2`, '', { qos: 1, retain: true })
      })

      it('f. refuses a bad topic (a rejected publish) or filter (observe throws), sends nothing, and stays connected', async () => {
        const client = await pool.connected(url())
        const statuses = record(client)
        const wire = pool.wire(client)
        const long = 'x'.repeat(65_536)
        for (const bad of ['a/+/b', 'a/#', '', 'nul\u0000', 'bell\u0007', long]) await expect(client.publish(bad, 'x')).rejects.toThrow(InvalidTopicError)
        for (const bad of ['a/#/b', 'a+', '', '$share/g', '$share//x', long]) expect(() => client.observe(bad)).toThrow(InvalidTopicError)
        expect(wire.sent('publish') + wire.sent('subscribe')).toBe(0)
        const p = uniquePrefix('healthy')
        const echo = next(client.observe(`${p}/ok`, { codec: 'text' }), 'the echo')
        await engine.subscribed(client, `${p}/ok`)
        await client.publish(`${p}/ok`, 'still here', { qos: 1 })
        expect((await echo).payload).toBe('still here')
        expect(statuses.map((s) => s.type)).toEqual(['connected'])
        if (engine.log) expect(await engine.log()).not.toMatch(new RegExp(`Client ${escape(client.clientId)} disconnected`))
      })

      it.each([0, 1, 2] as const)('g. publish at QoS %s resolves on its acknowledgement, or is refused as declared', async (qos) => {
        const p = uniquePrefix(`qos${qos}`)
        const client = await pool.connected(url())
        const wire = pool.wire(client)
        const received = next(client.observe(`${p}/x`, { qos: 2 }), 'the message')
        await engine.subscribed(client, `${p}/x`, 2)
        expect(await wire.subacked(`${p}/x`, 2)).toBe(traits.grantedQos[2])
        const limit = traits.clientOptions.maxQos ?? 2
        if (qos > limit) {
          // Declared limit (maxQos): refused by the SDK with reason code 155, nothing sent, still connected.
          const statuses = record(client)
          const error = await client.publish(`${p}/x`, 'x', { qos }).catch((e: unknown) => e)
          expect(error).toBeInstanceOf(PublishError)
          expect(error).toMatchObject({ name: 'PublishError', reasonCode: 155, topic: `${p}/x` })
          expect(wire.sent('publish')).toBe(0)
          await client.publish(`${p}/x`, 'y', { qos: limit })
          const message = await received
          expect([new TextDecoder().decode(message.raw), message.qos]).toEqual(['y', Math.min(limit, traits.grantedQos[2])])
          expect(statuses.map((s) => s.type)).toEqual(['connected'])
          return
        }
        await expect(client.publish(`${p}/x`, 'x', { qos })).resolves.toBeUndefined()
        expect((await received).qos).toBe(Math.min(qos, traits.grantedQos[2]))
        if (qos === 2 && traits.publishQos2 === 'exactly once (PUBREC, PUBCOMP)') {
          expect([wire.received('pubrec'), wire.received('pubcomp'), wire.received('puback')]).toEqual([1, 1, 0])
          if (engine.waitForLog) await engine.waitForLog(new RegExp(`Sending PUBCOMP to ${escape(client.clientId)}`))
        } else if (qos === 2) {
          // Declared: the engine answers a QoS 2 PUBLISH with a PUBACK, as for QoS 1 (MQTT.js settles either way).
          expect([wire.received('pubrec'), wire.received('pubcomp'), wire.received('puback')]).toEqual([0, 0, 1])
        }
      })

      it(`g. a QoS 2 publish without a configured limit: ${traits.publishQos2}`, async () => {
        const p = uniquePrefix('qos2-unlimited')
        const client = await pool.connected(url(), { maxQos: 2, reconnect: false })
        const subscriber = await pool.connected(url())
        const received = next(subscriber.observe(`${p}/x`, { qos: 2 }), 'the message')
        await engine.subscribed(subscriber, `${p}/x`, 2)
        const result = client.publish(`${p}/x`, 'x', { qos: 2 })
        if (traits.publishQos2 === 'closes the connection') {
          void received.catch(() => undefined) // completes without a message when the pool ends the subscriber
          const closed = await waitForStatus(client, 'closed')
          expect(closed.error).toMatchObject({ name: 'ConnectionLostError' })
          await expect(result).rejects.toMatchObject({ name: 'ConnectionLostError' })
          return
        }
        await expect(result).resolves.toBeUndefined()
        expect((await received).qos).toBe(traits.publishQos2 === 'exactly once (PUBREC, PUBCOMP)' ? 2 : 1)
        const wire = pool.wire(client)
        expect(wire.received(traits.publishQos2 === 'exactly once (PUBREC, PUBCOMP)' ? 'pubcomp' : 'puback')).toBe(1)
      })

      const refused = traits.refusedPublish
      if (refused) {
        it(`g. a publish the broker refuses rejects with PublishError and its reason code (MQTT 5: ${refused.reasonCode})`, async () => {
          const client = await pool.connected(url())
          const error = await client.publish(refused.topic, 'x', { qos: 1 }).catch((e: unknown) => e)
          expect(error).toBeInstanceOf(PublishError)
          expect(error).toMatchObject({ name: 'PublishError', reasonCode: refused.reasonCode, topic: refused.topic })
          await expect(client.publish(`${uniquePrefix('after')}/x`, 'x', { qos: 1 })).resolves.toBeUndefined()
        })
      } else {
        it('g. reason codes need MQTT 5: the engine speaks 3.1.1 only, and the client says so in status$ (no ACL configured)', async () => {
          const client = await pool.connected(url())
          expect(await waitForStatus(client, 'connected')).toMatchObject({ protocolVersion: 4 })
          expect(traits.protocols).not.toContain(5)
        })
      }

      it('g. a lower granted QoS is visible on the message and in subscriptions$', async () => {
        const p = uniquePrefix('granted')
        const client = await pool.connected(url())
        const publisher = await pool.connected(url())
        const states: Array<readonly SubscriptionInfo[]> = []
        client.subscriptions$.subscribe((s) => states.push(s))
        const message = next(client.observe(`${p}/y`, { qos: 2 }), 'a message')
        await engine.subscribed(client, `${p}/y`, 2)
        await waitFor(() => states.at(-1)?.[0]?.grantedQos !== undefined, 'the granted QoS in subscriptions$')
        expect(states.at(-1)).toEqual([{ filter: `${p}/y`, requestedQos: 2, grantedQos: traits.grantedQos[2], observers: 1 }])
        await publisher.publish(`${p}/y`, 'x', { qos: Math.min(2, traits.clientOptions.maxQos ?? 2) as QoS })
        expect((await message).qos).toBe(traits.grantedQos[2])
      })

      it('h. a payload the codec cannot decode is reported on errors$ and the stream goes on', async () => {
        const p = uniquePrefix('decode')
        const client = await pool.connected(url())
        const publisher = await pool.connected(url())
        const errors = next(client.errors$, 'a DecodeError')
        const good = next(client.observe<{ ok: boolean }>(`${p}/json`, { codec: 'json' }), 'the good message')
        await engine.subscribed(client, `${p}/json`)
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
        const client = await pool.connected(url())
        const wire = pool.wire(client)
        const completed = firstValueFrom(client.observe(`${p}/x`).pipe(toArray()))
        await engine.subscribed(client, `${p}/x`)
        await Promise.all([client.end(), client.end()])
        await expect(completed).resolves.toEqual([])
        expect(await firstValueFrom(client.status$)).toEqual({ type: 'closed', error: undefined })
        await expect(client.publish(`${p}/x`, 'late')).rejects.toBeInstanceOf(ClientClosedError)
        await expect(firstValueFrom(client.observe(`${p}/x`))).rejects.toBeInstanceOf(ClientClosedError)
        // end() leaves a persistent session's subscriptions in place: no UNSUBSCRIBE was sent.
        expect(wire.sent('disconnect')).toBe(1)
        expect(wire.sent('unsubscribe')).toBe(0)
        if (engine.waitForLog && engine.log) {
          await engine.waitForLog(new RegExp(`Received DISCONNECT from ${escape(client.clientId)}$`, 'm'))
          expect(countInLog(await engine.log(), 'UNSUBSCRIBE', client.clientId)).toBe(0)
        }
      })
    })

    it(`the client reports MQTT ${protocol === 5 ? '5' : '3.1.1'} by default and 3.1.1 when asked`, async () => {
      const pool = new EnginePool(`protocol-${traits.name}`, () => traits.clientOptions)
      try {
        const auto = pool.connect(engine.tcpUrl)
        const v4 = pool.connect(engine.tcpUrl, { protocolVersion: 4 })
        expect(await waitForStatus(auto, 'connected')).toMatchObject({ protocolVersion: protocol, sessionPresent: false })
        expect(await waitForStatus(v4, 'connected')).toMatchObject({ protocolVersion: 4 })
      } finally {
        await pool.endAll()
      }
    })
  })
}
