// A store that fails mid-run, and two clients on one store. The guide (docs/guide/outbox.md):
// "A full disk ... refuses the publish with StoreWriteError, never a silent drop"; "One store, one live client: a
// second client on the same store ... ends with StoreLockedError before it connects". publish() is a Promise
// (lib/client/api.ts) that "resolves only when the broker accepted the message" and never throws.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { readRecord } from '../../lib/store/log-record.js'
import { join } from 'node:path'
import { firstValueFrom } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { fileStore, memoryStore, type OutboxEvent, type Store, type StoreChange, StoreLockedError, StoreWriteError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { outboxBed } from '../support/outbox-bed.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('outbox: failing stores and shared stores', () => {
  const bed = testBed('outbox-fail')
  const pool = bed.pool
  const { tempDir, subscriber } = outboxBed('outbox-fail', pool)

  /** fileStore, but `fail(change)` decides per write: 'reject' (async), 'throw' (synchronously) or pass. */
  const failing = (dir: string, fail: (change: StoreChange) => 'reject' | 'throw' | undefined): Store => {
    const inner = fileStore(dir)
    return {
      open: (id) => inner.open(id),
      close: () => inner.close(),
      write(change) {
        const how = fail(change)
        if (how === 'throw') throw new Error('EIO: injected synchronous failure')
        if (how === 'reject') return Promise.reject(new Error('EIO: injected write failure'))
        return inner.write(change)
      },
    }
  }

  it('an add that the store rejects: publish() rejects with StoreWriteError; the client goes on and later publishes arrive once', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('ob-reject')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const dir = await tempDir()
    const store = failing(dir, (c) => (c.type === 'add' && c.message.id === 'bad' ? 'reject' : undefined))
    const client = await pool.connected(broker.tcpUrl, { store })
    const events: OutboxEvent[] = []
    client.outbox$.subscribe((e) => events.push(e))
    const bad = await client.publish(`${p}/a`, 'bad', { qos: 1, id: 'bad' }).then(() => 'ok', (e: unknown) => e)
    expect(bad).toBeInstanceOf(StoreWriteError)
    await client.publish(`${p}/a`, 'good', { qos: 1, id: 'good' })
    await waitFor(() => received.includes('good'), 'the good message')
    expect(received).toEqual(['good'])
    expect(await firstValueFrom(client.status$)).toMatchObject({ type: 'connected' })
    // What outbox$ says of the refused one (documented in lib/publish/outbox.ts as `failed` "... or not storable").
    expect(events.filter((e) => e.id === 'bad').map((e) => e.state)).toEqual([])
  })

  it('a store whose write throws synchronously (a custom store): publish() still returns a rejected promise, never throws', async () => {
    const broker = await bed.broker()
    const dir = await tempDir()
    const p = uniquePrefix('ob-throw')
    const store = failing(dir, (c) => (c.type === 'add' && c.message.id === 'bad' ? 'throw' : undefined))
    const client = await pool.connected(broker.tcpUrl, { store })
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      let thrown: unknown
      let result: unknown
      try {
        result = await client.publish(`${p}/a`, 'bad', { qos: 1, id: 'bad' }).then(() => 'ok', (e: unknown) => e)
      } catch (error) {
        thrown = error
      }
      // Bounded by its own timeout: a publish made after the throw must still go.
      const good = await client.publish(`${p}/a`, 'good', { qos: 1, timeout: 5_000 }).then(() => 'ok', (e: unknown) => e)
      // What publish() threw left a pending publish behind, rejected by end() with nobody to catch it.
      await client.end()
      await new Promise<void>((resolve) => setImmediate(resolve))
      expect({ thrown, result, good, unhandled }).toEqual({ thrown: undefined, result: expect.any(StoreWriteError), good: 'ok', unhandled: [] })
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('a store whose remove records fail: every publish still resolves; the client stays connected', async () => {
    const broker = await bed.broker()
    const dir = await tempDir()
    const p = uniquePrefix('ob-remove')
    const store = failing(dir, (c) => (c.type === 'remove' || c.type === 'sent' ? 'reject' : undefined))
    const client = await pool.connected(broker.tcpUrl, { store })
    await Promise.all(Array.from({ length: 5 }, (_, i) => client.publish(`${p}/a`, `m${i}`, { qos: 1 })))
    expect(await firstValueFrom(client.status$)).toMatchObject({ type: 'connected' })
  })

  it('a store directory that cannot be made (a file is in its place): the client ends with StoreWriteError; publishes made meanwhile reject', async () => {
    const broker = await bed.broker()
    const dir = await tempDir()
    const blocked = join(dir, 'not-a-dir')
    await writeFile(blocked, 'x')
    const p = uniquePrefix('ob-nodir')
    const client = pool.connect(broker.tcpUrl, { store: fileStore(blocked) })
    const early = client.publish(`${p}/a`, 'early', { qos: 1 }).then(() => 'ok', (e: unknown) => e)
    const qos0 = client.publish(`${p}/a`, 'early0', { qos: 0 }).then(() => 'ok', (e: unknown) => e)
    await expect(client.connected()).rejects.toBeInstanceOf(StoreWriteError)
    expect(await early).toBeInstanceOf(StoreWriteError)
    expect(await qos0).toBeInstanceOf(Error)
    await expect(client.publish(`${p}/a`, 'late', { qos: 1 })).rejects.toBeInstanceOf(Error)
  })

  it('one fileStore object given to two clients with different ids at once: the second is refused, not both opened on one log', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('ob-shared')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const dir = await tempDir()
    const store = fileStore(dir)
    const base = p.replaceAll('/', '_')
    const a = pool.connect(broker.tcpUrl, { clientId: `${base}-a`, store })
    const b = pool.connect(broker.tcpUrl, { clientId: `${base}-b`, store })
    const outcomes = await Promise.all([a.connected().then(() => 'connected', (e: unknown) => e), b.connected().then(() => 'connected', (e: unknown) => e)])
    // "One store, one live client": the object is open already for the first.
    expect(outcomes.filter((o) => o === 'connected')).toHaveLength(1)
    expect(outcomes.filter((o) => o instanceof StoreLockedError)).toHaveLength(1)
    void received
  })

  it('one fileStore object given to two clients with different ids at once: each client\'s message is kept in its own log', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    proxy.refuse = true
    const p = uniquePrefix('ob-mixed')
    const dir = await tempDir()
    const store = fileStore(dir)
    const base = p.replaceAll('/', '_')
    const fast = { reconnect: { initialDelay: 20, maxDelay: 100 } }
    const a = pool.connect(proxy.url, { ...fast, clientId: `${base}-a`, store })
    const b = pool.connect(proxy.url, { ...fast, clientId: `${base}-b`, store })
    const queued: string[] = []
    a.outbox$.subscribe((e) => e.state === 'queued' && queued.push(e.id))
    b.outbox$.subscribe((e) => e.state === 'queued' && queued.push(e.id))
    const pa = a.publish(`${p}/a`, 'fromA', { qos: 1, id: 'fromA' }).catch(() => undefined)
    const pb = b.publish(`${p}/b`, 'fromB', { qos: 1, id: 'fromB' }).catch(() => undefined)
    await waitFor(() => queued.length === 2 || undefined, 'both reported queued (durable)', 2_000).catch(() => undefined)
    await Promise.all([a.end(), b.end()])
    await Promise.all([pa, pb])
    // Read each log as a new process would (the locks this process may still hold are not asked for).
    const ids = async (clientId: string): Promise<string[]> => {
      const bytes = await readFile(join(dir, `outbox-${clientId}.log`)).catch(() => Buffer.alloc(0))
      const found: string[] = []
      for (let offset = 0; ; ) {
        const read = readRecord(bytes, offset)
        if (read.kind !== 'record') break
        if (read.change.type === 'add') found.push(read.change.message.id)
        if (read.change.type === 'remove') found.splice(found.indexOf(read.change.id), 1)
        offset = read.end
      }
      return found
    }
    // Whatever was reported queued (durable) is in its own client's log, and only there.
    const inA = await ids(`${base}-a`)
    const inB = await ids(`${base}-b`)
    const locks = (await readdir(dir)).filter((f) => f.endsWith('.lock'))
    expect({ locks, queued: queued.sort(), inA, inB }).toEqual({ locks: [], queued: ['fromA', 'fromB'].filter((id) => queued.includes(id)), inA: queued.includes('fromA') ? ['fromA'] : [], inB: queued.includes('fromB') ? ['fromB'] : [] })
  })

  it('two clients with one client id on one memoryStore at once: one StoreLockedError, the winner\'s messages once; the store still serves a third client after', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('ob-mem')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const store = memoryStore()
    const clientId = `${p.replaceAll('/', '_')}-pub`
    const a = pool.connect(broker.tcpUrl, { clientId, store })
    const b = pool.connect(broker.tcpUrl, { clientId, store })
    const pa = Array.from({ length: 3 }, (_, i) => a.publish(`${p}/m`, `a${i}`, { qos: 1, id: `a${i}` }).then(() => 'ok', (e: unknown) => e))
    const pb = Array.from({ length: 3 }, (_, i) => b.publish(`${p}/m`, `b${i}`, { qos: 1, id: `b${i}` }).then(() => 'ok', (e: unknown) => e))
    const outcomes = await Promise.all([a.connected().then(() => 'connected', (e: unknown) => e), b.connected().then(() => 'connected', (e: unknown) => e)])
    expect(outcomes.filter((o) => o === 'connected')).toHaveLength(1)
    expect(outcomes.filter((o) => o instanceof StoreLockedError)).toHaveLength(1)
    expect((await Promise.all([...pa, ...pb])).filter((r) => r === 'ok')).toHaveLength(3)
    const winner = outcomes[0] === 'connected' ? a : b
    await winner.publish(`${p}/m`, 'marker', { qos: 1 })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received).toHaveLength(4)
    await winner.end()
    const third = pool.connect(broker.tcpUrl, { clientId, store })
    await expect(third.publish(`${p}/m`, 'third', { qos: 1, id: 'third' })).resolves.toBeUndefined()
  })

  it('two clients with one client id on two fileStore objects of one dir at once: one StoreLockedError, no message sent twice', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('ob-lock')
    const received = await subscriber(broker.tcpUrl, p, broker)
    const dir = await tempDir()
    const clientId = `${p.replaceAll('/', '_')}-pub`
    const a = pool.connect(broker.tcpUrl, { clientId, store: fileStore(dir) })
    const b = pool.connect(broker.tcpUrl, { clientId, store: fileStore(dir) })
    const pa = Array.from({ length: 5 }, (_, i) => a.publish(`${p}/m`, `a${i}`, { qos: 1, id: `a${i}` }).then(() => 'ok', (e: unknown) => e))
    const pb = Array.from({ length: 5 }, (_, i) => b.publish(`${p}/m`, `b${i}`, { qos: 1, id: `b${i}` }).then(() => 'ok', (e: unknown) => e))
    const outcomes = await Promise.all([a.connected().then(() => 'connected', (e: unknown) => e), b.connected().then(() => 'connected', (e: unknown) => e)])
    expect(outcomes.filter((o) => o === 'connected')).toHaveLength(1)
    expect(outcomes.filter((o) => o instanceof StoreLockedError)).toHaveLength(1)
    const results = await Promise.all([...pa, ...pb])
    const ok = results.filter((r) => r === 'ok').length
    expect(ok).toBe(5)
    await waitFor(() => received.length >= 5, 'the winner\'s five messages')
    const winner = outcomes[0] === 'connected' ? a : b
    await winner.end()
    expect(new Set(received).size).toBe(received.length)
    expect(received).toHaveLength(5)
    expect((await readdir(dir)).filter((f) => f.endsWith('.lock'))).toEqual([])
  })
})
