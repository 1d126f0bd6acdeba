// Re-entrancy: end(), publish() and observe() called from inside the SDK's own callbacks (status$ observers,
// observe() handlers, publish().then), an observer leaving from inside its own handler while more messages
// of its filter are buffered, and observe()/unsubscribe of one filter in a tight loop.
import type { MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { ClientClosedError, type Message } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus, outcome, statusCompleted } from '../support/clients.js'
import { escapes } from '../support/escapes.js'
import { nextMessage, rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** A raw MQTT.js subscriber to `filter` that counts what arrives. */
async function rawSubscriber(url: string, filter: string): Promise<{ raw: MqttClient; got: string[] }> {
  const raw = await rawClient(url)
  const got: string[] = []
  raw.on('message', (_t, payload) => got.push(payload.toString()))
  await raw.subscribeAsync(filter, { qos: 2 })
  return { raw, got }
}

describe.skipIf(noMosquitto())('re-entrancy', () => {
  const bed = testBed('reentrancy')
  const { thrown } = escapes()

  it('end() from a status$ observer on `connected` (queued QoS 1 and 2 publishes): end resolves, each publish resolved only if the broker got it', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-end-connected')
    const { raw, got } = await rawSubscriber(broker.tcpUrl, `${p}/#`)
    try {
      const client = bed.pool.connect(broker.tcpUrl)
      const done = statusCompleted(client)
      const publishes = [1, 2].map((qos) => outcome(client.publish(`${p}/x`, `q${qos}`, { qos: qos as 1 | 2 })))
      let ended: Promise<string> | undefined
      client.status$.subscribe((s) => {
        if (s.type === 'connected' && !ended) ended = outcome(client.end())
      })
      const statuses = await done
      expect(await ended).toBe('resolved')
      expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
      const results = await Promise.all(publishes)
      // Whatever resolved must have reached the broker (the raw subscriber sees it).
      const resolved = results.map((r, i) => (r === 'resolved' ? `q${i + 1}` : undefined)).filter(Boolean)
      await waitFor(() => resolved.every((x) => got.includes(x as string)), `the broker has ${resolved.join(',')}`, 5_000)
      for (const r of results) expect(['resolved', 'ClientClosedError']).toContain(r)
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('end({ force: true }) from a status$ observer on `connected`: nothing sent after, publishes rejected, status$ completes', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-force-connected')
    const { raw, got } = await rawSubscriber(broker.tcpUrl, `${p}/#`)
    try {
      const client = bed.pool.connect(broker.tcpUrl)
      const done = statusCompleted(client)
      const publishes = [0, 1, 2].map((qos) => outcome(client.publish(`${p}/x`, `q${qos}`, { qos: qos as 0 | 1 | 2 })))
      let ended: Promise<string> | undefined
      client.status$.subscribe((s) => {
        if (s.type === 'connected' && !ended) ended = outcome(client.end({ force: true }))
      })
      const statuses = await done
      expect(await ended).toBe('resolved')
      expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
      const results = await Promise.all(publishes)
      // A probe from another client, after: what the forced end let through has arrived by then.
      const probe = await bed.pool.connected(broker.tcpUrl)
      await probe.publish(`${p}/probe`, 'probe', { qos: 1 })
      await waitFor(() => got.includes('probe'), 'the probe', 5_000)
      results.forEach((r, i) => {
        if (r === 'resolved') expect(got).toContain(`q${i}`)
      })
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('end() from a status$ observer on `reconnecting`: resolves, status closed, queued publishes rejected', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const client = await bed.pool.connected(proxy.url, { reconnect: { initialDelay: 50, maxDelay: 100 } })
    const done = statusCompleted(client)
    let ended: Promise<string> | undefined
    let queued: Promise<string>[] = []
    client.status$.subscribe((s) => {
      if (s.type !== 'reconnecting' || ended) return
      queued = [1, 2].map((qos) => outcome(client.publish(`${uniquePrefix('reent-rec')}/x`, 'x', { qos: qos as 1 | 2 })))
      ended = outcome(client.end())
    })
    proxy.refuse = true
    proxy.cut()
    const statuses = await done
    expect(await ended).toBe('resolved')
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(await Promise.all(queued)).toEqual(['ClientClosedError', 'ClientClosedError'])
    expect(thrown).toEqual([])
  })

  it('end() from an observe() handler and from a publish().then: resolves, observers complete, no escapes', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-handler')
    const a = await bed.pool.connected(broker.tcpUrl)
    const b = await bed.pool.connected(broker.tcpUrl)
    const publisher = await bed.pool.connected(broker.tcpUrl)
    let endedA: Promise<string> | undefined
    let completedA = false
    const seenA: string[] = []
    a.observe(`${p}/a`, { qos: 1, codec: 'text' }).subscribe({
      next: (m: Message<string>) => {
        seenA.push(m.payload)
        endedA ??= outcome(a.end())
      },
      complete: () => (completedA = true),
    })
    await waitFor(async () => {
      await publisher.publish(`${p}/a`, 'm', { qos: 1 })
      return endedA
    }, 'a message to a', 5_000)
    expect(await endedA).toBe('resolved')
    expect(completedA).toBe(true)
    const then = b.publish(`${p}/b`, 'x', { qos: 1 }).then(() => b.end())
    await expect(then).resolves.toBeUndefined()
    expect((await waitForStatus(b, 'closed')).error).toBeUndefined()
    expect(thrown).toEqual([])
  })

  it('publish() and observe() from a status$ observer on `closed`: publish rejects ClientClosedError, observe errors, nothing thrown', async () => {
    const broker = await bed.broker()
    const client = await bed.pool.connected(broker.tcpUrl)
    let published: Promise<string> | undefined
    let observed: unknown
    let syncThrow: unknown
    client.status$.subscribe((s) => {
      if (s.type !== 'closed') return
      try {
        published = outcome(client.publish('x/y', 'z', { qos: 1 }))
        client.observe('x/#').subscribe({ error: (e: unknown) => (observed = e) })
      } catch (e) {
        syncThrow = e
      }
    })
    await client.end()
    expect(syncThrow).toBeUndefined()
    expect(await published).toBe('ClientClosedError')
    expect(observed).toBeInstanceOf(ClientClosedError)
    expect(thrown).toEqual([])
  })

  it('publish() and observe() from a status$ observer on `connected`: the publish resolves, the observer gets messages', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-connected-ops')
    const publisher = await bed.pool.connected(broker.tcpUrl)
    const client = bed.pool.connect(broker.tcpUrl)
    let published: Promise<string> | undefined
    const got: string[] = []
    client.status$.subscribe((s) => {
      if (s.type !== 'connected' || published) return
      published = outcome(client.publish(`${p}/self`, 'self', { qos: 2 }))
      client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => got.push(m.payload))
    })
    await waitForStatus(client, 'connected')
    expect(await published).toBe('resolved')
    await waitFor(async () => {
      await publisher.publish(`${p}/other`, 'other', { qos: 1 })
      return got.includes('other')
    }, 'other', 5_000)
    expect(thrown).toEqual([])
  })

  it('an observer that unsubscribes in its own handler while 20 more messages of its filter are buffered gets exactly one; a sibling gets all', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-unsub-self')
    const client = await bed.pool.connected(broker.tcpUrl)
    const first: string[] = []
    const sibling: string[] = []
    const sub = client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => {
      first.push(m.payload)
      sub.unsubscribe()
    })
    client.observe(`${p}/x`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => sibling.push(m.payload))
    const raw = await rawClient(broker.tcpUrl)
    try {
      // wait until subscribed: a probe round trip
      await waitFor(async () => {
        await raw.publishAsync(`${p}/x`, 'probe', { qos: 1 })
        return first.length > 0
      }, 'the first message', 5_000)
      const batch = Array.from({ length: 20 }, (_, i) => `m${i}`)
      // Written in one go: they arrive in one TCP read, buffered behind each other.
      await Promise.all(batch.map((m) => raw.publishAsync(`${p}/x`, m, { qos: 1 })))
      await waitFor(() => batch.every((m) => sibling.includes(m)), 'the sibling has all 20', 5_000)
      expect(first).toEqual(['probe'])
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })

  it('observe()/unsubscribe of one filter 1,000 times then one observer left: the broker still delivers to it', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-churn-left')
    const client = await bed.pool.connected(broker.tcpUrl)
    for (let i = 0; i < 1_000; i++) client.observe(`${p}/#`, { qos: (i % 3) as 0 | 1 | 2 }).subscribe().unsubscribe()
    const got: string[] = []
    client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => got.push(m.payload))
    // Every request has been answered once a QoS 1 publish round-trips after them (same connection, in order).
    await client.publish(`${uniquePrefix('sync')}/x`, 'sync', { qos: 1 })
    const raw = await rawClient(broker.tcpUrl)
    try {
      await waitFor(async () => {
        await raw.publishAsync(`${p}/x`, 'hello', { qos: 1 })
        return got.includes('hello')
      }, 'hello delivered', 5_000)
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })

  it('observe()/unsubscribe of one filter 1,000 times with awaits between: none left, the broker delivers nothing', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('reent-churn-none')
    const client = await bed.pool.connected(broker.tcpUrl)
    const got: string[] = []
    for (let i = 0; i < 1_000; i++) {
      const s = client.observe(`${p}/#`, { qos: (i % 3) as 0 | 1 | 2, codec: 'text' }).subscribe((m: Message<string>) => got.push(m.payload))
      if (i % 7 === 0) await Promise.resolve()
      if (i % 50 === 0) await new Promise((r) => setImmediate(r))
      s.unsubscribe()
    }
    await client.publish(`${uniquePrefix('sync')}/x`, 'sync', { qos: 1 })
    // A second client of the same broker: the message reaches it; the churned client must get nothing.
    const witness = await bed.pool.connected(broker.tcpUrl)
    const witnessed: string[] = []
    witness.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m: Message<string>) => witnessed.push(m.payload))
    const raw = await rawClient(broker.tcpUrl)
    try {
      await waitFor(async () => {
        await raw.publishAsync(`${p}/x`, 'hello', { qos: 1 })
        return witnessed.includes('hello')
      }, 'the witness gets hello', 5_000)
      // One more round trip through the churned client's connection after the witness had it.
      await client.publish(`${uniquePrefix('sync')}/x`, 'sync', { qos: 1 })
      const internals = client as unknown as { subscriptions: { registry: { size: number } } }
      expect(internals.subscriptions.registry.size).toBe(0)
      expect(got).toEqual([])
      void nextMessage
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })
})
