// The outbox against a real Mosquitto, over the link under test: per-publish id, expiry (on the wire as the
// time left under MQTT 5; in the queue under 3.1.1), collapse, outbox$, and a store handed from one client to
// the next (memory and file), with two live clients on one store refused.
import { execFileSync } from 'node:child_process'
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileStore, memoryStore, MessageExpiredError, MessageReplacedError, type OutboxEvent, StoreCorruptError, StoreLockedError, StoreWriteError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const fast = { reconnect: { initialDelay: 20, maxDelay: 100 } }

describe.skipIf(noMosquitto())('outbox', () => {
  const bed = testBed('outbox')
  const pool = bed.pool
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-outbox-'))
    dirs.push(dir)
    return dir
  }

  /** A subscriber to `p/#` at QoS 1 on `broker`, recording each payload (and its expiry interval). */
  const subscriber = async (url: string, p: string, broker: { waitForSubscription: (c: string, f: string, q: 1) => Promise<string> }) => {
    const client = await pool.connected(url)
    const received: { topic: string; payload: string; expiry: number | undefined }[] = []
    client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push({ topic: m.topic, payload: m.payload, expiry: m.properties?.messageExpiryInterval }))
    await broker.waitForSubscription(client.clientId, `${p}/#`, 1)
    return received
  }

  it('expiry: a message queued past it rejects with MessageExpiredError and never arrives; one sent later carries the time left', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('expiry')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const publisher = await pool.connected(proxy.url, { ...fast, protocolVersion: 5 })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(publisher, 'reconnecting')
    const states: string[] = []
    publisher.outbox$.subscribe((e) => states.push(`${e.id}:${e.state}`))
    const short = publisher.publish(`${p}/short`, 'short', { qos: 1, id: 'short', expiry: 1 }).catch((e: unknown) => e)
    const long = publisher.publish(`${p}/long`, 'long', { qos: 1, id: 'long', expiry: 30 })
    // The short one's expiry is the event that a second has passed, without a sleep.
    expect(await short).toBeInstanceOf(MessageExpiredError)
    expect(states).toContain('short:expired')
    proxy.refuse = false
    await long
    await waitFor(() => received.some((m) => m.payload === 'long'), 'the long-lived message', 20_000)
    expect(received.map((m) => m.payload)).toEqual(['long'])
    const interval = received[0]?.expiry
    expect(interval).toBeGreaterThan(0)
    expect(interval).toBeLessThan(30) // the time left after at least a second in the queue, not the 30 s given
    expect(states).toEqual(['short:queued', 'long:queued', 'short:expired', 'long:sent', 'long:acknowledged'])
  })

  it('expiry under MQTT 3.1.1: the queue still honours it', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('expiry311')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const publisher = await pool.connected(proxy.url, { ...fast, protocolVersion: 4 })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(publisher, 'reconnecting')
    const expired = publisher.publish(`${p}/a`, 'stale', { qos: 1, expiry: 1 }).catch((e: unknown) => e)
    expect(await expired).toBeInstanceOf(MessageExpiredError)
    const fresh = publisher.publish(`${p}/a`, 'fresh', { qos: 1, expiry: 60 })
    proxy.refuse = false
    await fresh
    await waitFor(() => received.length === 1, 'the fresh message', 20_000)
    expect(received.map((m) => m.payload)).toEqual(['fresh'])
  })

  it('collapse: an offline device sends only the latest value per topic', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('collapse')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const publisher = await pool.connected(proxy.url, { ...fast, offlineQueue: { maxMessages: 5 } })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(publisher, 'reconnecting')
    const results = Array.from({ length: 100 }, (_, i) => publisher.publish(`${p}/s${i % 5}`, String(i), { qos: 1, collapse: true }).then(() => 'ok', (e: unknown) => e))
    proxy.refuse = false
    const outcomes = await Promise.all(results)
    expect(outcomes.filter((o) => o instanceof MessageReplacedError)).toHaveLength(95)
    await waitFor(() => received.length === 5, 'the five latest values', 20_000)
    expect(received.map((m) => m.payload).sort()).toEqual(['95', '96', '97', '98', '99'])
  })

  for (const kind of ['memory', 'file'] as const) {
    it(`a ${kind} store: the next client with the same client id and store sends what the first left, in order, with its ids`, async () => {
      const broker = await bed.broker({ extra: ['log_type all'] })
      const proxy = await bed.proxy(broker)
      const p = uniquePrefix(`restore-${kind}`)
      const received = await subscriber(broker.tcpUrl, p, broker)
      const dir = kind === 'file' ? await tempDir() : ''
      const store = kind === 'file' ? fileStore(dir) : memoryStore()
      const clientId = `${p.replaceAll('/', '_')}-pub`
      proxy.refuse = true
      const first = pool.connect(proxy.url, { ...fast, clientId, store })
      const queued: OutboxEvent[] = []
      first.outbox$.subscribe((e) => e.state === 'queued' && queued.push(e))
      const promises = Array.from({ length: 10 }, (_, i) => first.publish(`${p}/m`, `m${i}`, { qos: 1, id: `id-${i}` }).catch((e: unknown) => e))
      await waitFor(() => queued.length === 10, 'ten messages queued (durable)')
      await first.end()
      await Promise.all(promises) // ClientClosedError: this process's promises are gone, the store keeps the messages

      const again = kind === 'file' ? fileStore(dir) : store
      const second = pool.connect(proxy.url, { ...fast, clientId, store: again })
      const replayed: OutboxEvent[] = []
      second.outbox$.subscribe((e) => replayed.push(e))
      await waitFor(() => replayed.filter((e) => e.state === 'queued').length === 10, 'the restored messages on outbox$')
      expect(replayed.filter((e) => e.state === 'queued').map((e) => e.id)).toEqual(queued.map((e) => e.id))
      proxy.refuse = false
      await waitFor(() => replayed.filter((e) => e.state === 'acknowledged').length === 10, 'the restored messages acknowledged', 20_000)
      await waitFor(() => received.length === 10, 'the restored messages', 20_000)
      expect(received.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
    })
  }

  // A real full disk: a 64 KiB tmpfs, which only root can mount (the publisher's handling of a failed write is
  // also covered without it, by an injected ENOSPC in test/unit/store-publisher.test.ts).
  it.runIf(process.getuid?.() === 0)('a full disk refuses the publish with StoreWriteError; what was stored still goes', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const dir = await tempDir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir])
    try {
      const p = uniquePrefix('full')
      const received = await subscriber(broker.tcpUrl, p, broker)
      proxy.refuse = true
      const publisher = pool.connect(proxy.url, { ...fast, store: fileStore(dir) })
      const stored: Promise<unknown>[] = []
      const seen = new Set<string>()
      let refused: unknown
      for (let i = 0; i < 40 && refused === undefined; i++) {
        const outcome = publisher.publish(`${p}/big`, `${i}:${'x'.repeat(8_000)}`, { qos: 1 }).then(() => 'ok', (e: unknown) => e)
        // One at a time, so that the one the disk cannot hold is known.
        const first = await Promise.race([outcome, next(publisher.outbox$, 'queued', (e) => e.state === 'queued' && !seen.has(e.id)).then((e) => (seen.add(e.id), 'queued'), () => 'none')])
        if (first === 'queued') stored.push(outcome)
        else refused = first
      }
      expect(refused).toBeInstanceOf(StoreWriteError)
      expect((refused as Error).message).toMatch(/ENOSPC|no space/i)
      expect(stored.length).toBeGreaterThan(0)
      proxy.refuse = false
      expect(await Promise.all(stored)).toEqual(stored.map(() => 'ok'))
      await waitFor(() => received.length === stored.length, 'the stored messages', 20_000)
      await publisher.end()
    } finally {
      execFileSync('umount', ['-l', dir])
    }
  })

  it('a corrupt store: StoreCorruptError on errors$ naming the file the bad part was moved to; what came before is sent; a torn tail is dropped silently', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('corrupt')
    const received = await subscriber(broker.tcpUrl, p, broker)
    for (const damage of ['garbage', 'torn'] as const) {
      const dir = await tempDir()
      const clientId = `${p.replaceAll('/', '_')}-${damage}`
      const writer = fileStore(dir)
      await writer.open(clientId)
      for (const i of [0, 1, 2]) await writer.write({ type: 'add', message: { id: `${damage}${i}`, topic: `${p}/${damage}`, payload: new TextEncoder().encode(`${damage}${i}`), qos: 1, retain: false } })
      await writer.close()
      const log = join(dir, `outbox-${clientId}.log`)
      // A length that no record has (garbage), or the first bytes of a record a crash cut short (torn).
      await appendFile(log, damage === 'garbage' ? Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8]) : Buffer.from([0, 0, 0, 40, 1, 2]))
      const errors: unknown[] = []
      const client = pool.connect(broker.tcpUrl, { clientId, store: fileStore(dir) })
      client.errors$.subscribe((e) => errors.push(e))
      await waitFor(() => received.filter((m) => m.topic === `${p}/${damage}`).length === 3, `the three ${damage} messages kept`, 15_000)
      if (damage === 'garbage') {
        expect(errors).toHaveLength(1)
        expect(errors[0]).toBeInstanceOf(StoreCorruptError)
        const aside = (errors[0] as StoreCorruptError).file
        expect(aside.startsWith(log)).toBe(true)
        expect((await readFile(aside)).length).toBe(12)
      } else {
        expect(errors).toEqual([])
      }
      await client.end()
    }
  })

  it('a second live client on one file store ends with StoreLockedError; once the first ends, it can be opened', async () => {
    const broker = await bed.broker()
    const dir = await tempDir()
    const clientId = `${uniquePrefix('locked').replaceAll('/', '_')}`
    const first = await pool.connected(broker.tcpUrl, { clientId, store: fileStore(dir) })
    const second = pool.connect(broker.tcpUrl, { clientId, store: fileStore(dir) })
    await expect(second.connected()).rejects.toBeInstanceOf(StoreLockedError)
    const closed = await waitForStatus(second, 'closed')
    expect(closed.error).toBeInstanceOf(StoreLockedError)
    await expect(second.publish('x/y', 'z', { qos: 1 })).rejects.toThrow()
    await first.end()
    const third = await pool.connected(broker.tcpUrl, { clientId, store: fileStore(dir) })
    const events: string[] = []
    third.outbox$.subscribe((e) => events.push(`${e.id}:${e.state}`))
    await expect(third.publish(`${uniquePrefix('locked')}/a`, 'a', { qos: 1, id: 'only' })).resolves.toBeUndefined()
    expect(events).toEqual(['only:queued', 'only:sent', 'only:acknowledged']) // nothing was left in the store
  })
})
