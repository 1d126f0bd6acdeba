// Web Locks, the one browser facility that tells a tab for certain that another one has gone: the browser
// releases a lock when its holder closes, reloads or crashes, with no heartbeat and no timeout to tune.

/** The part of `navigator.locks` the shared connection uses (a structural type: lib.dom is not assumed). */
export interface LockManager {
  request(name: string, options: { signal?: AbortSignal; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<unknown> | unknown): Promise<unknown>
  query(): Promise<{ held?: ReadonlyArray<{ name?: string }> }>
}

/**
 * Holds `name` until `signal` aborts; resolves once it is held. The lock is unique to its holder, so this
 * is granted at once.
 *
 * @example
 * ```ts
 * await holdLock(navigator.locks, 'iotpubsub:g:tab:1', alive.signal) // released by alive.abort() or the tab's end
 * ```
 */
export function holdLock(locks: LockManager, name: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((held, failed) => {
    locks
      .request(name, {}, () => {
        held()
        return untilAborted(signal)
      })
      .catch(failed)
  })
}

/**
 * Calls `gone` once whoever holds `name` has let it go (ended, closed or crashed), unless `signal` aborts
 * first. The lock is taken for an instant and released.
 *
 * @example
 * ```ts
 * whenReleased(navigator.locks, 'iotpubsub:g:tab:1', hubAlive.signal, () => dropTab('1'))
 * ```
 */
export function whenReleased(locks: LockManager, name: string, signal: AbortSignal, gone: () => void): void {
  locks.request(name, { signal }, () => gone()).catch(() => undefined)
}

/**
 * Waits in line for `name` and runs `lead` while holding it; the lock is released when the promise `lead`
 * returns settles. Aborting `signal` leaves the line (or, once leading, is up to `lead`).
 *
 * @example
 * ```ts
 * queueForLock(navigator.locks, 'iotpubsub:g:hub', stop.signal, () => runHub())
 * ```
 */
export function queueForLock(locks: LockManager, name: string, signal: AbortSignal, lead: () => Promise<void>): void {
  locks.request(name, { signal }, () => lead().catch(() => undefined)).catch(() => undefined)
}

/** The names of the locks held now that start with `prefix`. */
export async function heldLocks(locks: LockManager, prefix: string): Promise<string[]> {
  try {
    const { held = [] } = await locks.query()
    return held.map((lock) => lock.name ?? '').filter((name) => name.startsWith(prefix))
  } catch {
    return []
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((released) => {
    if (signal.aborted) return released()
    signal.addEventListener('abort', () => released(), { once: true })
  })
}
