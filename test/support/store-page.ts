// A page for the IndexedDB store's tests: the store and its conformance checks, driven from the test.
import { indexedDbStore } from '../../lib/store/indexeddb-store.js'
import { storeConformance } from '../../lib/store/store-conformance.js'
import type { Store } from '../../lib/store/store.js'

declare global {
  interface Window {
    __conformance(prefix: string): Promise<{ name: string; error?: string }[]>
    __open(name: string, clientId: string): Promise<{ ids: string[] } | { error: string; type: string }>
    __add(count: number): Promise<void>
  }
}

let store: Store | undefined

window.__conformance = async (prefix) => {
  const results: { name: string; error?: string }[] = []
  for (const check of storeConformance(() => indexedDbStore(`conformance-${prefix}`), prefix)) {
    try {
      await check.run()
      results.push({ name: check.name })
    } catch (error) {
      results.push({ name: check.name, error: String(error) })
    }
  }
  return results
}

window.__open = async (name, clientId) => {
  const candidate = indexedDbStore(name)
  try {
    const session = await candidate.open(clientId)
    store = candidate
    return { ids: session.messages.map((m) => m.id) }
  } catch (error) {
    return { error: String(error), type: (error as Error).name }
  }
}

window.__add = async (count) => {
  const writes: Promise<void>[] = []
  for (let i = 0; i < count; i++) writes.push(store?.write({ type: 'add', message: { id: `m${i}`, topic: `t/${i}`, payload: new Uint8Array([i]), qos: 1, retain: false } }) ?? Promise.reject(new Error('not open')))
  await Promise.all(writes)
}
