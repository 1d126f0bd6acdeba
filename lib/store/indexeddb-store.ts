import type { LockManager } from '../shared/locks.js'
import { SessionState, type Store, type StoreChange, type StoredMessage, type StoredSession } from './store.js'
import { StoreLockedError, StoreWriteError } from '../errors.js'

/** A message as kept in IndexedDB: keyed by client id and message id, ordered by `seq`. */
interface Row {
  readonly clientId: string
  readonly id: string
  readonly seq: number
  readonly message: StoredMessage
}

interface Pending {
  readonly change: StoreChange
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

const MESSAGES = 'messages'
const INCOMING = 'incoming'

/**
 * A store in the browser's IndexedDB: the outbox survives a reload, a closed tab and a browser restart. The
 * changes of a turn go in one transaction with strict durability. With `iotpubsub/shared`, the tab that
 * holds the connection holds the store: Web Locks keep a second tab out until that tab is gone (a page
 * outside a secure context has no Web Locks, and its tabs are then not kept apart).
 *
 * @example
 * ```ts
 * const store = indexedDbStore('outbox')
 * const { messages } = await store.open('dashboard-7') // StoreLockedError while another tab holds it
 * ```
 */
export function indexedDbStore(name = 'iotpubsub'): Store {
  let db: IDBDatabase | undefined
  let clientId = ''
  let release: (() => void) | undefined
  let state = new SessionState()
  let seq = 0
  const seqs = new Map<string, number>()
  let batch: Pending[] = []
  let running: Promise<void> | undefined

  const flush = async (): Promise<void> => {
    while (batch.length > 0) {
      const pending = batch
      batch = []
      try {
        if (!db) throw new StoreWriteError('The store is closed')
        // The batch's effect, worked out on what is durable: every row it touches, as it ends up.
        const overlay = new SessionState()
        const touched = new Set<string>()
        const incoming = new Map<number, boolean>()
        const touch = (id: string): void => {
          if (touched.has(id)) return
          touched.add(id)
          const durable = state.messages.get(id)
          if (durable) overlay.messages.set(id, durable)
        }
        for (const p of pending) {
          const change = p.change
          if ('id' in change) touch(change.id)
          else if (change.type === 'add') touch(change.message.id)
          else if (change.type === 'incoming') incoming.set(change.packetId, true)
          else if (change.type === 'incomingReleased') incoming.set(change.packetId, false)
          else {
            for (const id of state.messages.keys()) touch(id)
            for (const packetId of state.incoming) incoming.set(packetId, false)
            for (const [packetId, kept] of incoming) if (kept) incoming.set(packetId, false)
          }
          overlay.apply(change)
        }
        const added = new Map<string, number>()
        await transaction(db, 'readwrite', (t) => {
          const messages = t.objectStore(MESSAGES)
          for (const id of touched) {
            const message = overlay.messages.get(id)
            if (!message) {
              messages.delete([clientId, id])
              continue
            }
            let at = seqs.get(id) ?? added.get(id)
            if (at === undefined) added.set(id, (at = ++seq))
            messages.put({ clientId, id, seq: at, message } satisfies Row)
          }
          const store = t.objectStore(INCOMING)
          for (const [packetId, kept] of incoming) kept ? store.put({ clientId, packetId }) : store.delete([clientId, packetId])
        })
        for (const [id, at] of added) seqs.set(id, at)
        for (const p of pending) state.apply(p.change)
        for (const id of touched) if (!state.messages.has(id)) seqs.delete(id)
        for (const p of pending) p.resolve()
      } catch (error) {
        const failure = error instanceof StoreWriteError ? error : new StoreWriteError(`The store ${name} could not write: ${describe(error)}`, { cause: error })
        for (const p of pending) p.reject(failure)
      }
    }
  }

  const run = async (): Promise<void> => {
    try {
      await Promise.resolve()
      await flush()
    } finally {
      running = undefined
      if (batch.length > 0) running = run()
    }
  }

  return {
    async open(id: string): Promise<StoredSession> {
      if (db || release) throw new StoreLockedError(`This store is open already (${name}, client id ${JSON.stringify(clientId)})`)
      clientId = id
      release = await lock(`iotpubsub:store:${name}:${id}`, `The store ${name} of client id ${JSON.stringify(id)}`)
      try {
        db = await openDatabase(name)
        const rows: Row[] = []
        const packets: number[] = []
        await transaction(db, 'readonly', (t) => {
          const range = IDBKeyRange.bound([id], [id, []])
          const messages = t.objectStore(MESSAGES).getAll(range)
          messages.onsuccess = () => rows.push(...(messages.result as Row[]))
          const incoming = t.objectStore(INCOMING).getAll(range)
          incoming.onsuccess = () => packets.push(...(incoming.result as { packetId: number }[]).map((r) => r.packetId))
        })
        rows.sort((a, b) => a.seq - b.seq)
        state = new SessionState()
        seqs.clear()
        seq = 0
        for (const row of rows) {
          state.messages.set(row.id, row.message)
          seqs.set(row.id, row.seq)
          seq = Math.max(seq, row.seq)
        }
        for (const packetId of packets) state.incoming.add(packetId)
        return state.session()
      } catch (error) {
        db?.close()
        db = undefined
        release()
        release = undefined
        throw new StoreWriteError(`The store ${name} could not be opened: ${describe(error)}`, { cause: error })
      }
    },

    write(change: StoreChange): Promise<void> {
      if (!db) return Promise.reject(new StoreWriteError('The store is not open'))
      return new Promise<void>((resolve, reject) => {
        batch.push({ change, resolve, reject })
        running ??= run()
      })
    },

    async close(): Promise<void> {
      while (running) await running
      db?.close()
      db = undefined
      release?.()
      release = undefined
    },
  }
}

function openDatabase(name: string): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => {
      request.result.createObjectStore(MESSAGES, { keyPath: ['clientId', 'id'] })
      request.result.createObjectStore(INCOMING, { keyPath: ['clientId', 'packetId'] })
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error)
    request.onblocked = () => reject(new Error('another tab holds an older version of the database open'))
  })
}

/** Runs `work` in one transaction; resolves when it is committed (durably, where the browser offers it). */
function transaction(db: IDBDatabase, mode: IDBTransactionMode, work: (t: IDBTransaction) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = db.transaction([MESSAGES, INCOMING], mode, { durability: 'strict' })
    t.oncomplete = () => resolve()
    t.onerror = () => reject(t.error)
    t.onabort = () => reject(t.error ?? new Error('the transaction was aborted'))
    work(t)
  })
}

/** Holds the Web Lock `lockName` until the returned function is called; `StoreLockedError` while another tab holds it. */
async function lock(lockName: string, what: string): Promise<() => void> {
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks
  if (!locks) return () => undefined
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const granted = await new Promise<boolean>((answer, failed) => {
    locks
      .request(lockName, { ifAvailable: true }, (lock) => {
        answer(lock !== null)
        return lock === null ? undefined : held
      })
      .catch(failed)
  })
  if (!granted) throw new StoreLockedError(`${what} is held by another tab or window of this browser`)
  return release
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
