// Manual acknowledgement at the edges: iterate({ ack: 'manual' }) left by a throw, serve() unsubscribed while a
// handler runs, and serve() with ack: 'manual'.
import { describe, expect, it } from 'vitest'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { escapes } from '../support/escapes.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('manual acknowledgement with iterate() and serve()', () => {
  const bed = testBed('edge-ack')
  const { thrown } = escapes()

  it('iterate({ ack: "manual" }): a loop that throws on a message leaves it acknowledged (docs: an observer that unsubscribes acknowledges what it holds), so a resumed session does not get it again', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-ack-throw')
    const clientId = `edge-ack-${process.pid}-${Date.now()}`
    const options = { clientId, clean: false, sessionExpiryInterval: 300 }
    const worker = await bed.pool.connected(broker.tcpUrl, options)
    const publisher = await bed.pool.connected(broker.tcpUrl)
    const loop = (async () => {
      for await (const m of worker.iterate(`${p}/jobs`, { codec: 'text', qos: 1, ack: 'manual' })) throw new Error(`failed on ${m.payload}`)
    })().then(() => 'ended', (e: unknown) => e)
    await waitFor(async () => {
      let ok = false
      worker.subscriptions$.subscribe((s) => (ok = s.some((x) => x.filter === `${p}/jobs` && x.grantedQos !== undefined))).unsubscribe()
      return ok
    }, 'the loop subscribed')
    await publisher.publish(`${p}/jobs`, 'job-1', { qos: 1 })
    expect(String(await loop)).toContain('failed on job-1')
    await worker.end()
    // The resumed session: anything the broker still held for it comes first, then the marker.
    const resumed = bed.pool.connect(broker.tcpUrl, options)
    const got: string[] = []
    resumed.observe(`${p}/#`, { codec: 'text', qos: 1 }).subscribe((m) => got.push(m.payload))
    await waitFor(async () => {
      let ok = false
      resumed.subscriptions$.subscribe((s) => (ok = s.some((x) => x.filter === `${p}/#` && x.grantedQos !== undefined))).unsubscribe()
      return ok
    }, 'the resumed session subscribed')
    await publisher.publish(`${p}/marker`, 'marker', { qos: 1 })
    await waitFor(() => got.includes('marker'), 'the marker')
    expect(got).toEqual(['marker'])
    expect(thrown).toEqual([])
  })

  it('serve(): unsubscribed while a handler runs, the reply of that handler is still sent (the request was taken)', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-serve-unsub')
    const server = await bed.pool.connected(broker.tcpUrl)
    let started = false
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    const serving = server.serve<string>(`${p}/x`, async (m) => {
      started = true
      await gate
      return `done-${m.payload}`
    }, { codec: 'text' })
    await waitFor(async () => {
      let ok = false
      server.subscriptions$.subscribe((s) => (ok = s.some((x) => x.filter === `${p}/x` && x.grantedQos !== undefined))).unsubscribe()
      return ok
    }, 'serving subscribed')
    const client = await bed.pool.connected(broker.tcpUrl)
    const pending = client.request(`${p}/x`, 'a', { codec: 'text', timeout: 10_000 })
    await waitFor(() => started, 'the handler started')
    serving.unsubscribe()
    release()
    const outcome = await pending.then((r) => r.payload, (e: unknown) => e)
    // the request taken before unsubscribe() is answered.
    expect(outcome).toBe('done-a')
    expect(thrown).toEqual([])
  }, 20_000)

  it('serve(filter, handler, { ack: "manual" }): each request is acknowledged once answered, so the connection does not stall after the first', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-serve-manual')
    const server = await bed.pool.connected(broker.tcpUrl)
    server.serve<string>(`${p}/x`, (m) => `done-${m.payload}`, { codec: 'text', ack: 'manual' })
    await waitFor(async () => {
      let ok = false
      server.subscriptions$.subscribe((s) => (ok = s.some((x) => x.filter === `${p}/x` && x.grantedQos !== undefined))).unsubscribe()
      return ok
    }, 'serving subscribed')
    const client = await bed.pool.connected(broker.tcpUrl)
    expect((await client.request(`${p}/x`, 'a', { codec: 'text', timeout: 5_000 })).payload).toBe('done-a')
    const second = await client.request(`${p}/x`, 'b', { codec: 'text', timeout: 5_000 }).then((r) => r.payload, (e: unknown) => (e as Error).name)
    // Either serve() refuses ack: 'manual' (UnsupportedOptionError at once) or acknowledges each request once answered.
    expect(second).toBe('done-b')
  }, 20_000)
})
