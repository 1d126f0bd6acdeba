import { open, readFile, stat, unlink, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { StoreLockedError } from '../errors.js'

/** Lock files this process holds: a second client of the same process is refused as another process would be. */
const held = new Set<string>()
/** How often a holder renews its lock, and how old a lock of another host must be to count as abandoned. */
export const LOCK_RENEW_MS = 10_000
export const LOCK_LEASE_MS = 3 * LOCK_RENEW_MS

/**
 * Takes `path` for this process: created exclusively, holding the process id and host name, and renewed (its
 * modification time) while held. A lock whose process is gone (same host, no such process, or this process's
 * own id left by an earlier run, as in a restarted container) is taken over, and so is one of another host
 * (a recreated container keeps its volume, not its host name) not renewed for `LOCK_LEASE_MS`; else
 * `StoreLockedError`.
 */
export async function takeLock(path: string, what: string): Promise<() => Promise<void>> {
  if (held.has(path)) throw new StoreLockedError(`${what} is held by another client of this process (lock ${path})`)
  held.add(path)
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(path, 'wx')
        try {
          await handle.writeFile(`${process.pid}\n${hostname()}\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
        const renew = setInterval(() => {
          const now = new Date()
          utimes(path, now, now).catch(() => undefined)
        }, LOCK_RENEW_MS)
        renew.unref()
        return async () => {
          clearInterval(renew)
          held.delete(path)
          await unlink(path).catch(() => undefined)
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error
      }
      const owner = await readOwner(path)
      if (owner && (await live(path, owner))) {
        throw new StoreLockedError(`${what} is held by process ${owner.pid} on ${owner.host} (lock ${path}); remove the lock file only if that process is gone`)
      }
      // Left by a process that died (or torn by a crash while written): taken over. Of two processes taking it
      // over at once, the exclusive create above lets one win and the other re-reads a live owner.
      await unlink(path).catch(() => undefined)
    }
  } catch (error) {
    held.delete(path)
    if (error instanceof StoreLockedError) throw error
    throw new StoreLockedError(`${what} could not be locked (lock ${path}): ${(error as Error).message}`, { cause: error })
  }
}

async function readOwner(path: string): Promise<{ pid: number; host: string } | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '')
  const [pid, host] = text.split('\n')
  const id = Number(pid)
  return Number.isSafeInteger(id) && id > 0 && host ? { pid: id, host } : undefined
}

async function live(path: string, owner: { pid: number; host: string }): Promise<boolean> {
  if (owner.host === hostname()) return owner.pid !== process.pid && alive(owner.pid)
  const renewed = await stat(path).then((s) => s.mtimeMs, () => 0)
  return Date.now() - renewed < LOCK_LEASE_MS
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists and belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
