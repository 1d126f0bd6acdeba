import { UnsupportedOptionError } from '../errors.js'
import type { Store } from './store.js'
import type { FileStoreOptions } from './file-store.js'

/**
 * `fileStore()` in a browser build: a page has no file system, so it throws `UnsupportedOptionError` naming
 * the store a page can use. The Node entry's `fileStore(dir)` is the real one.
 *
 * @example
 * ```ts
 * const store = typeof window === 'undefined' ? fileStore('/var/lib/app/outbox') : indexedDbStore('outbox')
 * ```
 */
export function fileStore(dir: string, options?: FileStoreOptions): Store {
  void options
  throw new UnsupportedOptionError(`fileStore(${JSON.stringify(dir)}) needs Node's file system; in a browser use indexedDbStore(name)`)
}
