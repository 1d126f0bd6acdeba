import { SessionState, type Store, type StoreChange, type StoredSession } from './store.js'
import { StoreLockedError, StoreWriteError } from '../errors.js'

/**
 * The default store: the outbox lives in this object, so it survives a reconnect but not the end of the
 * process or page. Opened again after `close()`, it gives back what it held.
 *
 * @example
 * ```ts
 * const store = memoryStore()
 * const { messages } = await store.open('dash-1') // what this store held for dash-1 before
 * ```
 */
export function memoryStore(): Store {
  const states = new Map<string, SessionState>()
  let state: SessionState | undefined
  let openId: string | undefined
  return {
    async open(clientId: string): Promise<StoredSession> {
      if (state) throw new StoreLockedError(`This store is open already, for client id ${JSON.stringify(openId)}`)
      openId = clientId
      state = states.get(clientId) ?? new SessionState()
      states.set(clientId, state)
      return state.session()
    },
    async write(change: StoreChange): Promise<void> {
      if (!state) throw new StoreWriteError('The store is not open')
      state.apply(change)
    },
    async close(): Promise<void> {
      state = undefined
      openId = undefined
    },
  }
}
