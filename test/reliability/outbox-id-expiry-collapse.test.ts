// `id`, `expiry` and `collapse` across a reconnect and across a restart on the same file store.
// docs/guide/outbox.md: "a publish with the id of a message the outbox still holds is that message, not a second
// one"; "expiry: a message still queued that long after publish() is never sent"; "collapse: a newer publish to
// the same topic, also with collapse, replaces this one while it is still queued ... One already on the wire is
// never replaced"; with a store "a new process ... with the same clientId and store sends what the old one left".
import { describe, expect, it } from 'vitest'
import { fileStore, type MQTTClient, MessageReplacedError, type OutboxEvent } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { outboxBed } from '../support/outbox-bed.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const fast = { reconnect: { initialDelay: 20, maxDelay: 100 } }

describe.skipIf(noMosquitto())('outbox: id, expiry, collapse across reconnect and restart', () => {
  const bed = testBed('outbox-iec')
  const pool = bed.pool
  const { tempDir, subscriber } = outboxBed('outbox-iec', pool)
  const record = (client: MQTTClient): string[] => {
    const events: string[] = []
    client.outbox$.subscribe((e: OutboxEvent) => events.push(`${e.id}:${e.state}`))
    return events
  }
  /** A broker, a refusing proxy, a subscriber, a store dir and a client id. */
  const setup = async (name: string) => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix(name)
    const received = await subscriber(broker.tcpUrl, p, broker)
    const dir = await tempDir()
    proxy.refuse = true
    return { broker, proxy, p, received, dir, clientId: `${p.replaceAll('/', '_')}-pub` }
  }
  /** A first client, offline, leaves `publish` calls durable in the store and ends. */
  const leave = async (proxyUrl: string, clientId: string, dir: string, publish: (c: MQTTClient) => Promise<unknown>[], count: number) => {
    const first = pool.connect(proxyUrl, { ...fast, clientId, store: fileStore(dir) })
    const events = record(first)
    const promises = publish(first).map((p) => p.catch((e: unknown) => e))
    await waitFor(() => events.filter((e) => e.endsWith(':queued')).length === count, `${count} queued (durable)`)
    await first.end()
    return Promise.all(promises)
  }

  it('id: the same id published again right after connect() (store still opening) and once connected is one message after the restart', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-id')
    await leave(proxy.url, clientId, dir, (c) => [c.publish(`${p}/x`, 'x-old', { qos: 1, id: 'X' })], 1)
    const second = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events = record(second)
    const early = second.publish(`${p}/x`, 'x-new', { qos: 1, id: 'X' })
    await waitFor(() => events.includes('X:queued'), 'X queued in the second client')
    const late = second.publish(`${p}/x`, 'x-newer', { qos: 1, id: 'X' })
    proxy.refuse = false
    await Promise.all([early, late])
    // A QoS 1 marker behind it: its arrival means X went, and anything else queued before it.
    await second.publish(`${p}/marker`, 'marker', { qos: 1, id: 'marker' })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received.filter((m) => m.startsWith('x-'))).toHaveLength(1)
    expect(events.filter((e) => e.startsWith('X:'))).toEqual(['X:queued', 'X:sent', 'X:acknowledged'])
  })

  it('id: the same id published twice while offline, across a reconnect, is one message and one promise', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-idre')
    proxy.refuse = false
    const client = await pool.connected(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    const a = client.publish(`${p}/x`, 'one', { qos: 1, id: 'same' })
    const b = client.publish(`${p}/x`, 'two', { qos: 1, id: 'same' })
    expect(b).toBe(a)
    proxy.refuse = false
    await a
    await client.publish(`${p}/marker`, 'marker', { qos: 1 })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received.filter((m) => m !== 'marker')).toEqual(['one'])
  })

  it('expiry: a stored message whose expiry passed during the restart is not sent; outbox$ says expired; a long-lived one goes', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-exp')
    const before = Date.now()
    await leave(proxy.url, clientId, dir, (c) => [c.publish(`${p}/short`, 'short', { qos: 1, id: 'short', expiry: 1 }), c.publish(`${p}/long`, 'long', { qos: 1, id: 'long', expiry: 120 })], 2)
    // The condition (a second has passed), polled: not a sleep used as synchronisation.
    await waitFor(() => Date.now() > before + 1_100, 'the short expiry to pass')
    proxy.refuse = false
    const second = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events = record(second)
    await waitFor(() => events.includes('long:acknowledged'), 'long acknowledged')
    await second.publish(`${p}/marker`, 'marker', { qos: 1 })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received).toEqual(['long', 'marker'])
    expect(events).toContain('short:expired')
    expect(events).not.toContain('short:sent')
  })

  it('expiry: a restored message that expires while the new client is still offline is dropped by the timer and never sent', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-exp2')
    await leave(proxy.url, clientId, dir, (c) => [c.publish(`${p}/short`, 'short', { qos: 1, id: 'short', expiry: 2 })], 1)
    const second = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events = record(second)
    await waitFor(() => events.includes('short:expired'), 'short expired offline', 10_000)
    proxy.refuse = false
    await second.publish(`${p}/marker`, 'marker', { qos: 1 })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received).toEqual(['marker'])
    // And the store no longer holds it: a third client sends nothing of it.
    await second.end()
    const reader = fileStore(dir)
    const session = await reader.open(clientId)
    await reader.close()
    expect(session.messages.map((m) => m.id)).toEqual([])
  })

  for (const when of ['right after connect() (store still opening)', 'once the restored one is reported queued'] as const) {
    it(`collapse: a newer collapse publish ${when} replaces the restored queued one`, async () => {
      const { proxy, p, received, dir, clientId } = await setup('ob-col')
      await leave(proxy.url, clientId, dir, (c) => [c.publish(`${p}/level`, 'v1', { qos: 1, id: 'v1', collapse: true })], 1)
      const second = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
      const events = record(second)
      if (when !== 'right after connect() (store still opening)') await waitFor(() => events.includes('v1:queued'), 'v1 restored')
      const v2 = second.publish(`${p}/level`, 'v2', { qos: 1, id: 'v2', collapse: true })
      proxy.refuse = false
      await v2
      await second.publish(`${p}/marker`, 'marker', { qos: 1 })
      await waitFor(() => received.includes('marker'), 'the marker')
      expect(received).toEqual(['v2', 'marker'])
      expect(events).toContain('v1:replaced')
    })
  }

  it('collapse: a message on the wire (PUBACK withheld) is not replaced, also across a reconnect; both arrive', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-colfl')
    proxy.refuse = false
    proxy.holdServer(1) // the CONNACK passes, the PUBACKs wait
    const client = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events = record(client)
    const v1 = client.publish(`${p}/level`, 'v1', { qos: 1, id: 'v1', collapse: true })
    await waitFor(() => events.includes('v1:sent'), 'v1 on the wire')
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    proxy.release()
    const v2 = client.publish(`${p}/level`, 'v2', { qos: 1, id: 'v2', collapse: true })
    await waitFor(() => events.includes('v2:queued'), 'v2 queued')
    expect(events).not.toContain('v1:replaced')
    proxy.refuse = false
    await Promise.all([v1, v2])
    await waitFor(() => received.includes('v2'), 'v2')
    expect(received.filter((m) => m === 'v1').length).toBeGreaterThanOrEqual(1)
    expect(received[received.length - 1]).toBe('v2')
  })

  it('collapse: a message on the wire when the client ended is not replaced by the next client on the store', async () => {
    const { proxy, p, received, dir, clientId } = await setup('ob-colend')
    proxy.refuse = false
    proxy.holdServer(1)
    const first = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events = record(first)
    const v1 = first.publish(`${p}/level`, 'v1', { qos: 1, id: 'v1', collapse: true }).catch((e: unknown) => e)
    await waitFor(() => events.includes('v1:sent'), 'v1 on the wire')
    await first.end({ force: true })
    await v1
    proxy.release()
    proxy.refuse = true
    const second = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
    const events2 = record(second)
    await waitFor(() => events2.includes('v1:queued'), 'v1 restored')
    const v2 = second.publish(`${p}/level`, 'v2', { qos: 1, id: 'v2', collapse: true }).catch((e: unknown) => e)
    proxy.refuse = false
    expect(await v2).toBeUndefined()
    await waitFor(() => events2.includes('v1:acknowledged'), 'v1 acknowledged')
    expect(events2).not.toContain('v1:replaced')
    await waitFor(() => received.includes('v2'), 'v2')
    expect(received).toContain('v1')
    void MessageReplacedError
    void next
  })
})
