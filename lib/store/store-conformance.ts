import type { Store, StoredMessage, StoredSession } from './store.js'
import { StoreLockedError, StoreWriteError } from '../errors.js'

/**
 * One check of a store: run it with the test framework of your choice; it throws when the store fails it.
 *
 * @example
 * ```ts
 * for (const check of storeConformance(() => myStore(), 'run-1')) test(check.name, check.run)
 * ```
 */
export interface StoreCheck {
  /** What the check asserts, as a test's title. */
  readonly name: string
  /** Runs the check; rejects with what the store got wrong. */
  readonly run: () => Promise<void>
}

/**
 * The checks every `Store` passes, for a custom store as for the SDK's own. `makeStore` gives a new store
 * object on the same storage each call (what one process or page restarted would open); `clientId` must be
 * new for each check run, so give a fresh prefix per run.
 *
 * @example
 * ```ts
 * for (const check of storeConformance(() => myStore('/tmp/outbox'), `run-${Date.now()}`)) test(check.name, check.run)
 * ```
 */
export function storeConformance(makeStore: () => Store, prefix: string, shared = true): StoreCheck[] {
  let n = 0
  const id = () => `${prefix}-${n++}`
  const message = (i: number, extra: Partial<StoredMessage> = {}): StoredMessage => ({ id: `m${i}`, topic: `t/${i}`, payload: new Uint8Array([i & 255, 1, 2]), qos: 1, retain: false, ...extra })
  const reopen = async (clientId: string, before: Store): Promise<[Store, StoredSession]> => {
    await before.close()
    const store = shared ? makeStore() : before
    return [store, await store.open(clientId)]
  }
  const check = (name: string, run: () => Promise<void>): StoreCheck => ({ name, run })
  return [
    check('a new client id opens empty', async () => {
      const store = makeStore()
      const session = await store.open(id())
      await store.close()
      equal(session.messages.length, 0, 'messages')
      equal(session.incoming.length, 0, 'incoming')
    }),
    check('messages come back in the order they were added, with every field', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      const correlationData = new Uint8Array([0, 255, 7])
      const full = message(0, { qos: 2, retain: true, expiresAt: 1_900_000_000_000, collapse: true, properties: { contentType: 'a/b', correlationData, userProperties: { k: ['1', '2'] }, messageExpiryInterval: 60 } })
      await Promise.all([store.write({ type: 'add', message: full }), ...[1, 2, 3].map((i) => store.write({ type: 'add', message: message(i) }))])
      const [again, session] = await reopen(clientId, store)
      await again.close()
      equal(session.messages.map((m) => m.id).join(), 'm0,m1,m2,m3', 'order')
      equal(canonical(session.messages[0]), canonical(full), 'fields')
    }),
    check('sent, released and removed messages are restored as they were left', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      for (const i of [0, 1, 2, 3]) await store.write({ type: 'add', message: message(i, { qos: 2 }) })
      await store.write({ type: 'sent', id: 'm0', packetId: 7 })
      await store.write({ type: 'sent', id: 'm1', packetId: 8 })
      await store.write({ type: 'released', id: 'm1' })
      await store.write({ type: 'remove', id: 'm2' })
      await store.write({ type: 'remove', id: 'unknown' })
      const [again, session] = await reopen(clientId, store)
      await again.close()
      equal(session.messages.map((m) => `${m.id}:${m.packetId ?? '-'}:${m.released ? 'rel' : ''}`).join(), 'm0:7:,m1:8:rel,m3:-:', 'state')
    }),
    check('incoming QoS 2 identifiers are kept until released', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      for (const packetId of [3, 4, 5]) await store.write({ type: 'incoming', packetId })
      await store.write({ type: 'incomingReleased', packetId: 4 })
      const [again, session] = await reopen(clientId, store)
      await again.close()
      equal([...session.incoming].sort().join(), '3,5', 'incoming')
    }),
    check('a lost session forgets packet identifiers and incoming state, and keeps the messages', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      await store.write({ type: 'add', message: message(0, { qos: 2 }) })
      await store.write({ type: 'sent', id: 'm0', packetId: 9 })
      await store.write({ type: 'released', id: 'm0' })
      await store.write({ type: 'incoming', packetId: 2 })
      await store.write({ type: 'sessionLost' })
      const [again, session] = await reopen(clientId, store)
      await again.close()
      equal(session.messages.map((m) => `${m.id}:${m.packetId ?? '-'}:${m.released ? 'rel' : ''}`).join(), 'm0:-:', 'messages')
      equal(session.incoming.length, 0, 'incoming')
    }),
    check('a thousand changes of one turn all resolve, in order', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      const writes: Promise<void>[] = []
      for (let i = 0; i < 1000; i++) writes.push(store.write({ type: 'add', message: message(i) }))
      for (let i = 0; i < 1000; i += 2) writes.push(store.write({ type: 'remove', id: `m${i}` }))
      await Promise.all(writes)
      const [again, session] = await reopen(clientId, store)
      await again.close()
      equal(session.messages.length, 500, 'count')
      equal(session.messages.every((m, i) => m.id === `m${2 * i + 1}`), true, 'order')
    }),
    check('an open store cannot be opened again, and a second client of the id is refused while it is held', async () => {
      const clientId = id()
      const store = makeStore()
      await store.open(clientId)
      await rejects(store.open(clientId), StoreLockedError, 'opened twice')
      if (shared) {
        const other = makeStore()
        await rejects(other.open(clientId), StoreLockedError, 'second client')
        await store.close()
        await other.open(clientId)
        await other.close()
      } else await store.close()
    }),
    check('a write to a closed store rejects with StoreWriteError', async () => {
      const store = makeStore()
      await store.open(id())
      await store.close()
      await rejects(store.write({ type: 'add', message: message(0) }), StoreWriteError, 'write after close')
    }),
  ]
}

/** A message as text with its fields in one order, bytes as lists. */
function canonical(m: StoredMessage | undefined): string {
  if (!m) return 'none'
  const p = m.properties
  const properties = p && { ...p, correlationData: p.correlationData && [...p.correlationData] }
  return JSON.stringify([m.id, m.topic, [...m.payload], m.qos, m.retain, m.expiresAt, m.collapse, m.packetId, m.released, properties && Object.entries(properties).sort()])
}

function equal<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`)
}

async function rejects(promise: Promise<unknown>, type: abstract new (...args: never[]) => Error, what: string): Promise<void> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!(outcome instanceof type)) throw new Error(`${what}: expected a ${type.name}, got ${outcome === undefined ? 'success' : String(outcome)}`)
}
