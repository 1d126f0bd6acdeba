import { createHash } from 'node:crypto'
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { takeLock } from './file-lock.js'
import { encodeRecord, readRecord } from './log-record.js'
import { SessionState, type Store, type StoreChange, type StoredSession } from './store.js'
import { StoreCorruptError, StoreLockedError, StoreWriteError } from '../errors.js'

/** Options of `fileStore()`. */
export interface FileStoreOptions {
  /**
   * Rewrite the log with only the live state once it holds this many bytes more than that state. Default 1 MiB.
   */
  compactAfterBytes?: number
}

interface Pending {
  readonly change: StoreChange
  readonly bytes: Buffer
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/**
 * A store in a directory (Node): one append-only log per client id, made durable by one `fsync` for all the
 * changes of a turn (group commit), compacted when it has grown past its live state, and read back after a
 * crash: a record torn by the crash fails its checksum and is dropped, never replayed half.
 *
 * @example
 * ```ts
 * const store = fileStore('/var/lib/gateway/outbox')
 * const { messages, problems } = await store.open('gateway-7') // StoreLockedError while another process holds it
 * ```
 */
export function fileStore(dir: string, options: FileStoreOptions = {}): Store {
  const compactAfter = options.compactAfterBytes ?? 1024 * 1024
  let log: FileHandle | undefined
  let path = ''
  let unlock: (() => Promise<void>) | undefined
  /** The durable state: changes are applied once their record is on disk. */
  let state = new SessionState()
  /** Bytes of the log that hold whole records (a write that failed part-way is cut back to here). */
  let size = 0
  /** The log's size after its last compaction. */
  let compacted = 0
  let batch: Pending[] = []
  let running: Promise<void> | undefined
  let broken: Error | undefined
  /** open() is under way (set before its first await). */
  let opening = false

  const flush = async (): Promise<void> => {
    while (batch.length > 0) {
      const pending = batch
      batch = []
      try {
        const handle = log
        if (!handle) throw new StoreWriteError('The store is closed')
        if (broken) throw broken
        const bytes = Buffer.concat(pending.map((p) => p.bytes))
        try {
          await handle.write(bytes, 0, bytes.length, size)
          await handle.datasync()
        } catch (error) {
          // Whatever part reached the file is cut off, so that the next records follow a whole one.
          await handle.truncate(size).catch((cause: unknown) => (broken = new StoreWriteError(`The store ${path} cannot be written since a write failed and could not be undone`, { cause })))
          throw new StoreWriteError(`The store ${path} could not write: ${(error as Error).message}`, { cause: error })
        }
        size += bytes.length
        for (const p of pending) state.apply(p.change)
        for (const p of pending) p.resolve()
      } catch (error) {
        for (const p of pending) p.reject(error as Error)
      }
      if (log && !broken && size > 2 * compacted + compactAfter) await compact().catch(() => undefined)
    }
  }

  const run = async (): Promise<void> => {
    try {
      await new Promise<void>((done) => setImmediate(done))
      await flush()
    } finally {
      running = undefined
      // A change made while the last step ran, after the loop looked: one more turn.
      if (batch.length > 0) running = run()
    }
  }

  /** The log rewritten as the live state's changes, swapped in by a rename (a crash leaves the old or the new one). */
  const compact = async (): Promise<void> => {
    const bytes = Buffer.concat(state.changes().map(encodeRecord))
    const temporary = `${path}.compact`
    await writeFile(temporary, bytes, { flush: true })
    await rename(temporary, path)
    await syncDirectory(dir)
    const previous = log
    log = await open(path, 'r+')
    size = compacted = bytes.length
    await previous?.close()
  }

  return {
    async open(clientId: string): Promise<StoredSession> {
      // Claimed before the first await: two clients given this object at once must not both open it.
      if (unlock || opening) throw new StoreLockedError(`This store is open already (${path})`)
      opening = true
      try {
        await mkdir(dir, { recursive: true })
      } catch (error) {
        opening = false
        throw error
      }
      const name = fileName(clientId)
      path = join(dir, `${name}.log`)
      unlock = await takeLock(join(dir, `${name}.lock`), `The store of client id ${JSON.stringify(clientId)} in ${dir}`).finally(() => (opening = false))
      try {
        state = new SessionState()
        broken = undefined
        const problems: Error[] = []
        const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return Buffer.alloc(0)
          throw error
        })
        let offset = 0
        for (;;) {
          const read = readRecord(bytes, offset)
          // A torn tail is the last thing in the log: a whole record after it means a garbled length, not a crash.
          if (read.kind === 'end' && !(offset < bytes.length && wholeRecordAfter(bytes, offset))) break
          if (read.kind !== 'record') {
            const aside = `${path}.corrupt-${Date.now()}`
            await writeFile(aside, bytes.subarray(offset), { flush: true })
            const reason = read.kind === 'corrupt' ? read.reason : 'a record length past the end of the log, with whole records after it'
            problems.push(new StoreCorruptError(`The store ${path} holds ${reason} at byte ${offset}: the ${bytes.length - offset} bytes from there were moved to ${aside}, the ${offset} before kept`, aside))
            break
          }
          state.apply(read.change)
          offset = read.end
        }
        // Starts from a log of the live state alone: what a crash tore or the disk garbled is not in it.
        await compact()
        return state.session(problems)
      } catch (error) {
        await log?.close().catch(() => undefined)
        log = undefined
        await unlock()
        unlock = undefined
        throw error instanceof StoreLockedError ? error : new StoreWriteError(`The store ${path} could not be opened: ${(error as Error).message}`, { cause: error })
      }
    },

    write(change: StoreChange): Promise<void> {
      if (!log) return Promise.reject(new StoreWriteError('The store is not open'))
      return new Promise<void>((resolve, reject) => {
        batch.push({ change, bytes: encodeRecord(change), resolve, reject })
        // One write and one fsync for every change made in a turn, and while the last write was under way.
        running ??= run()
      })
    },

    async close(): Promise<void> {
      while (running) await running
      const handle = log
      log = undefined
      await handle?.close()
      await unlock?.()
      unlock = undefined
    },
  }
}

/** The log's name for a client id: readable when the id is, a digest when it is long or has other characters. */
function fileName(clientId: string): string {
  if (/^[A-Za-z0-9_.-]{1,100}$/.test(clientId) && !clientId.startsWith('.')) return `outbox-${clientId}`
  return `outbox-${createHash('sha256').update(clientId).digest('hex').slice(0, 40)}`
}

/** A rename is durable once the directory that holds it is synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Whether a whole record (length and checksum right) starts anywhere after `offset`. */
function wholeRecordAfter(bytes: Buffer, offset: number): boolean {
  for (let at = offset + 1; at + 8 <= bytes.length; at++) if (readRecord(bytes, at).kind === 'record') return true
  return false
}
