// The publisher with a store, against a FakeLink and a store whose writes the test settles: `queued` only once
// durable, nothing sent before, a write that fails refuses the publish, what was left restored first.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ClientClosedError, StoreWriteError, UnsupportedOptionError } from '../../lib/errors.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import { Publisher } from '../../lib/publish/publisher.js'
import { memoryStore } from '../../lib/store/memory-store.js'
import type { Store, StoreChange, StoredMessage, StoredSession } from '../../lib/store/store.js'
import { FakeLink } from '../support/fake-link.js'

/** A store that records each change and leaves it pending until the test settles it. */
function heldStore(session: Partial<StoredSession> = {}) {
  const writes: { change: StoreChange; resolve: () => void; reject: (e: Error) => void }[] = []
  const store: Store = {
    open: async () => ({ messages: [], incoming: [], problems: [], ...session }),
    write: (change) => new Promise<void>((resolve, reject) => writes.push({ change, resolve, reject })),
    close: async () => undefined,
  }
  return { store, writes }
}

function setup(store: Store, options: Partial<MQTTClientOptions> = {}) {
  const link = new FakeLink({ connected: () => undefined, drained: () => undefined, message: () => undefined, failed: () => undefined, closed: () => undefined })
  const connection = { writable: true, stopped: false, epoch: 1 }
  const publisher = new Publisher(resolveOptions({ url: 'mqtt://a', store, ...options }, nodePlatform), link, connection, () => Date.now())
  const events: string[] = []
  publisher.outbox$.subscribe((e) => events.push(`${e.id}:${e.state}`))
  return { publisher, link, events }
}

const flush = (): Promise<void> => vi.advanceTimersByTimeAsync(0).then(() => undefined)
const message = (id: string, extra: Partial<StoredMessage> = {}): StoredMessage => ({ id, topic: `t/${id}`, payload: new TextEncoder().encode(id), qos: 1, retain: false, ...extra })

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

describe('Publisher with a store', () => {
  it('reports queued and sends only once the record is durable', async () => {
    const { store, writes } = heldStore()
    const { publisher, link, events } = setup(store)
    await publisher.restore('c')
    const done = publisher.publish('t/a', 'a', { qos: 1, id: 'a' })
    await flush()
    expect(writes.map((w) => w.change.type)).toEqual(['add'])
    expect(events).toEqual([])
    expect(link.publishes).toHaveLength(0)
    writes[0]?.resolve()
    await flush()
    expect(events).toEqual(['a:queued', 'a:sent'])
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/a'])
    expect(writes.map((w) => w.change)).toEqual([expect.objectContaining({ type: 'add' }), { type: 'sent', id: 'a', packetId: 1 }])
    link.ack(1)
    await done
    expect(writes.at(-1)?.change).toEqual({ type: 'remove', id: 'a' })
    expect(events).toEqual(['a:queued', 'a:sent', 'a:acknowledged'])
  })

  it('a record that cannot be written (a full disk) refuses the publish with StoreWriteError; it is never sent', async () => {
    const { store, writes } = heldStore()
    const { publisher, link, events } = setup(store)
    await publisher.restore('c')
    const refused = publisher.publish('t/a', 'a', { qos: 1, id: 'a' }).catch((e: unknown) => e)
    await flush()
    writes[0]?.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))
    const error = await refused
    expect(error).toBeInstanceOf(StoreWriteError)
    expect((error as Error).message).toMatch(/ENOSPC/)
    expect(link.publishes).toHaveLength(0)
    expect(events).toEqual([]) // never reported queued
  })

  it('QoS 0 does not touch the store', async () => {
    const { store, writes } = heldStore()
    const { publisher, link } = setup(store)
    await publisher.restore('c')
    await publisher.publish('t/z', 'z', { qos: 0 })
    expect(writes).toEqual([])
    expect(link.publishes).toHaveLength(1)
  })

  it('restores what the store held ahead of new publishes, in order; a QoS 2 that was on the wire ends failed; an expired one expired', async () => {
    const { store, writes } = heldStore({
      messages: [message('old1'), message('two', { qos: 2, packetId: 9 }), message('old2', { packetId: 4 }), message('stale', { expiresAt: Date.now() - 1 })],
    })
    const { publisher, link, events } = setup(store)
    const fresh = publisher.publish('t/new', 'new', { qos: 1, id: 'new' }) // before the store is open
    await publisher.restore('c')
    await flush()
    for (const w of writes.filter((w) => w.change.type === 'add')) w.resolve()
    await flush()
    expect(link.publishes.map((p) => p.topic)).toEqual(['t/old1', 't/old2', 't/new'])
    expect(events.filter((e) => !e.endsWith(':sent'))).toEqual(['old1:queued', 'two:queued', 'two:failed', 'old2:queued', 'stale:queued', 'stale:expired', 'new:queued'])
    expect(writes.map((w) => w.change).filter((c) => c.type === 'remove')).toEqual([{ type: 'remove', id: 'two' }, { type: 'remove', id: 'stale' }])
    void fresh.catch(() => undefined)
  })

  it('ending the client leaves stored messages in the store for the next client', async () => {
    const store = memoryStore()
    const first = setup(store, { clientId: 'c' })
    await first.publisher.restore('c')
    const pending = first.publisher.publish('t/a', 'a', { qos: 1, id: 'a' }).catch((e: unknown) => e)
    first.link.writable = false
    await flush()
    first.publisher.stop(undefined)
    expect(await pending).toBeInstanceOf(ClientClosedError)
    await first.publisher.closeStore()
    const second = setup(store, { clientId: 'c' })
    await second.publisher.restore('c')
    expect(second.events[0]).toBe('a:queued')
  })

  it('refuses a store option that is not a Store with UnsupportedOptionError, and takes the app\'s object as it is', () => {
    for (const bad of [{}, null, 'dir', { open: () => undefined, write: () => undefined }]) {
      expect(() => resolveOptions({ url: 'mqtt://a', store: bad as unknown as Store }, nodePlatform)).toThrow(UnsupportedOptionError)
    }
    const store = memoryStore()
    expect(resolveOptions({ url: 'mqtt://a', store }, nodePlatform).store).toBe(store)
    expect(Object.isFrozen(store)).toBe(false)
  })
})
