import { IotPubSubError } from '../errors.js'

/**
 * Another live client holds the store's state for this client id (two processes on one directory, or two
 * clients in one process). A lock left by a process that died is taken over instead.
 *
 * @example
 * ```ts
 * try { await store.open('gateway-7') } catch (e) { if (e instanceof StoreLockedError) exitAsDuplicate() }
 * ```
 */
export class StoreLockedError extends IotPubSubError {
  override readonly name: string = 'StoreLockedError'
}

/**
 * Part of a store could not be read (a checksum failed past the torn tail a crash leaves): it was moved aside
 * to `file`, and what came before it was kept.
 *
 * @example
 * ```ts
 * const { problems } = await store.open('gateway-7')
 * for (const p of problems) if (p instanceof StoreCorruptError) alertOperator(p.file)
 * ```
 */
export class StoreCorruptError extends IotPubSubError {
  override readonly name: string = 'StoreCorruptError'
  /** Where the unreadable bytes were moved. */
  readonly file: string

  constructor(message: string, file: string) {
    super(message)
    this.file = file
  }
}

/**
 * A change could not be made durable (a full disk, a quota exceeded, the store closed): the publish it belongs
 * to is refused, never silently dropped.
 *
 * @example
 * ```ts
 * client.publish('cmd/valve', 'open', { qos: 1 }).catch((e) => { if (e instanceof StoreWriteError) showDiskFull() })
 * ```
 */
export class StoreWriteError extends IotPubSubError {
  override readonly name: string = 'StoreWriteError'
}
