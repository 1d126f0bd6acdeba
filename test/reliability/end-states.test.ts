// end() in every state: before the first CONNACK, during a reconnect backoff, with publishes queued offline,
// with a manually acknowledged message held, forced vs graceful, and twice (a forced end after a graceful one).
import { afterEach, describe, expect, it } from 'vitest'
import type { Message } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus, outcome, statusCompleted } from '../support/clients.js'
import { escapes } from '../support/escapes.js'
import { MqttFaultProxy } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** Resolves with the promise's outcome, or 'pending' if it has not settled within ms. */
function within(p: Promise<string>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p, new Promise<string>((r) => (timer = setTimeout(() => r('pending'), ms)))]).finally(() => clearTimeout(timer))
}

describe.skipIf(noMosquitto())('end() in every state', () => {
  const bed = testBed('end-states')
  const { thrown } = escapes()
  const proxies: MqttFaultProxy[] = []
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })
  async function faultProxy(port: number): Promise<MqttFaultProxy> {
    const proxy = await MqttFaultProxy.start(port)
    proxies.push(proxy)
    return proxy
  }

  it('before the first CONNACK (withheld), QoS 0/1/2 queued: graceful end() resolves, all rejected, nothing reaches the broker', async () => {
    const broker = await bed.broker()
    const proxy = await faultProxy(broker.ports[1883] as number)
    proxy.inject({ direction: 'in', type: 'CONNACK', action: { kind: 'drop' }, times: Infinity })
    const p = uniquePrefix('end-before-connack')
    const raw = await rawClient(broker.tcpUrl)
    const got: string[] = []
    raw.on('message', (_t, payload) => got.push(payload.toString()))
    await raw.subscribeAsync(`${p}/#`, { qos: 2 })
    try {
      const client = bed.pool.connect(proxy.url, { connectTimeout: 60_000 })
      const done = statusCompleted(client)
      const publishes = ([0, 1, 2] as const).map((qos) => outcome(client.publish(`${p}/x`, `q${qos}`, { qos })))
      await proxy.waitForPacket((s) => s.type === 'CONNECT', 'the CONNECT')
      const ended = await within(outcome(client.end()), 8_000)
      expect(ended).toBe('resolved')
      expect((await done).at(-1)).toEqual({ type: 'closed', error: undefined })
      expect(await Promise.all(publishes)).toEqual(['ClientClosedError', 'ClientClosedError', 'ClientClosedError'])
      expect(proxy.packets((s) => s.type === 'PUBLISH')).toEqual([])
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('during a reconnect backoff, QoS 1/2 queued offline: end() resolves at once, publishes rejected, no new attempt', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const client = await bed.pool.connected(proxy.url, { reconnect: { initialDelay: 60_000, maxDelay: 60_000 } })
    const done = statusCompleted(client)
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    const p = uniquePrefix('end-backoff')
    const publishes = ([1, 2] as const).map((qos) => outcome(client.publish(`${p}/x`, `q${qos}`, { qos })))
    const before = proxy.connections
    const ended = await within(outcome(client.end()), 8_000)
    expect(ended).toBe('resolved')
    expect((await done).at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(await Promise.all(publishes)).toEqual(['ClientClosedError', 'ClientClosedError'])
    expect(proxy.connections).toBe(before)
    expect(thrown).toEqual([])
  })

  it('graceful end() with QoS 1/2 in flight on a live broker: every publish resolves and the broker has each', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('end-graceful')
    const raw = await rawClient(broker.tcpUrl)
    const got: string[] = []
    raw.on('message', (_t, payload) => got.push(payload.toString()))
    await raw.subscribeAsync(`${p}/#`, { qos: 2 })
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const publishes = Array.from({ length: 50 }, (_, i) => outcome(client.publish(`${p}/x`, `m${i}`, { qos: ((i % 2) + 1) as 1 | 2 })))
      expect(await outcome(client.end())).toBe('resolved')
      expect(await Promise.all(publishes)).toEqual(Array(50).fill('resolved'))
      await waitFor(() => got.length === 50, '50 at the raw subscriber', 5_000)
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('end({ force: true }) with QoS 1/2 in flight: each publish settles, resolved only if the broker had it', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('end-force')
    const raw = await rawClient(broker.tcpUrl)
    const got: string[] = []
    raw.on('message', (_t, payload) => got.push(payload.toString()))
    await raw.subscribeAsync(`${p}/#`, { qos: 2 })
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const publishes = Array.from({ length: 50 }, (_, i) => outcome(client.publish(`${p}/x`, `m${i}`, { qos: ((i % 2) + 1) as 1 | 2 })))
      expect(await outcome(client.end({ force: true }))).toBe('resolved')
      const results = await Promise.all(publishes)
      const probe = await bed.pool.connected(broker.tcpUrl)
      await probe.publish(`${p}/probe`, 'probe', { qos: 1 })
      await waitFor(() => got.includes('probe'), 'probe', 5_000)
      results.forEach((r, i) => {
        expect(['resolved', 'ClientClosedError']).toContain(r)
        if (r === 'resolved') expect(got).toContain(`m${i}`)
      })
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('end({ force: true }) while a graceful end() waits for a PUBACK that never comes: closes at once, no DISCONNECT (the will is published)', async () => {
    const broker = await bed.broker()
    const proxy = await faultProxy(broker.ports[1883] as number)
    const p = uniquePrefix('end-twice')
    const raw = await rawClient(broker.tcpUrl)
    const wills: string[] = []
    raw.on('message', (t, payload) => t === `${p}/will` && wills.push(payload.toString()))
    await raw.subscribeAsync(`${p}/will`, { qos: 1 })
    try {
      const client = await bed.pool.connected(proxy.url, { will: { topic: `${p}/will`, payload: 'gone', qos: 1 } })
      proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'drop' }, times: Infinity })
      const publish = outcome(client.publish(`${p}/x`, 'x', { qos: 1 }))
      await proxy.waitForPacket((s) => s.type === 'PUBLISH' && s.direction === 'out', 'the PUBLISH')
      const graceful = outcome(client.end({ timeout: 12_000 }))
      // end()'s documented force: "Close the socket at once". 5 s is far more than a forced close takes, and far
      // less than the graceful end's 12 s.
      const forced = within(outcome(client.end({ force: true })), 5_000)
      expect(await forced).toBe('resolved')
      expect(await within(publish, 5_000)).toBe('ClientClosedError')
      await waitFor(() => wills.length > 0, 'the last will', 5_000)
      expect(proxy.packets((s) => s.type === 'DISCONNECT')).toEqual([])
      expect(await graceful).toBe('resolved')
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  }, 30_000)

  it('graceful end() while an ack: "manual" QoS 1 message is held (clean: false): the unacknowledged message comes again to the resumed session', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('end-held')
    const clientId = `end-held-${process.pid}-${Date.now().toString(36)}`
    const first = await bed.pool.connected(broker.tcpUrl, { clientId, clean: false })
    const held: Message<string>[] = []
    first.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m: Message<string>) => held.push(m))
    // Subscribed once a QoS 1 publish of the same client round-trips (SUBSCRIBE went first).
    await first.publish(`${uniquePrefix('sync')}/x`, 'sync', { qos: 1 })
    const raw = await rawClient(broker.tcpUrl)
    try {
      await raw.publishAsync(`${p}/jobs`, 'job-1', { qos: 1 })
      await waitFor(() => held.length === 1, 'the job held', 5_000)
      // The app is told to stop (SIGTERM) while it is still working on job-1: it never calls ack().
      expect(await outcome(first.end())).toBe('resolved')
      const second = bed.pool.connect(broker.tcpUrl, { clientId, clean: false })
      const again: string[] = []
      second.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m: Message<string>) => {
        again.push(m.payload)
        m.ack()
      })
      await waitForStatus(second, 'connected')
      // job-2 after it: once job-2 arrives, job-1 would have been redelivered before it (in order).
      await raw.publishAsync(`${p}/jobs`, 'job-2', { qos: 1 })
      await waitFor(() => again.includes('job-2'), 'job-2', 5_000)
      expect(again).toEqual(['job-1', 'job-2'])
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })

  it('end({ force: true }) while an ack: "manual" message is held: it comes again to the resumed session', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('end-held-force')
    const clientId = `end-heldf-${process.pid}-${Date.now().toString(36)}`
    const first = await bed.pool.connected(broker.tcpUrl, { clientId, clean: false })
    const held: Message<string>[] = []
    first.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m: Message<string>) => held.push(m))
    await first.publish(`${uniquePrefix('sync')}/x`, 'sync', { qos: 1 })
    const raw = await rawClient(broker.tcpUrl)
    try {
      await raw.publishAsync(`${p}/jobs`, 'job-1', { qos: 1 })
      await waitFor(() => held.length === 1, 'the job held', 5_000)
      expect(await outcome(first.end({ force: true }))).toBe('resolved')
      // A late ack() after end(): must not throw.
      held[0]?.ack()
      const second = bed.pool.connect(broker.tcpUrl, { clientId, clean: false })
      const again: string[] = []
      second.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m: Message<string>) => {
        again.push(m.payload)
        m.ack()
      })
      await waitForStatus(second, 'connected')
      await raw.publishAsync(`${p}/jobs`, 'job-2', { qos: 1 })
      await waitFor(() => again.includes('job-2'), 'job-2', 5_000)
      expect(again).toEqual(['job-1', 'job-2'])
    } finally {
      raw.end(true)
    }
    expect(thrown).toEqual([])
  })
})
