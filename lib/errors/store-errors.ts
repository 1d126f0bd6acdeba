// Errors of an outbox store: locked by another client, corrupt, or unable to write.
import { IotPubSubError } from './iot-pubsub-error.js'

/**
 * Another live client holds the store's state for this client id (two processes on one directory, or two
 * clients in one process): `connect()` with that `store` ends the client with it (`status$` closes with it,
 * `connected()` rejects with it). A lock left by a process that died is taken over instead.
 *
 * @example
 * ```ts
 * const client = connect(url, { clientId: 'gateway-7', store: fileStore('/var/lib/gateway') })
 * await client.connected().catch((e) => { if (e instanceof StoreLockedError) process.exit(3) }) // a twin runs
 * ```
 */
export class StoreLockedError extends IotPubSubError {
  override readonly name: string = 'StoreLockedError'
}

/**
 * Part of a store could not be read (a checksum failed past the torn tail a crash leaves): it was moved aside
 * to `file`, and what came before it was kept. The client goes on with what was kept and reports this on
 * `errors$`.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((e) => { if (e instanceof StoreCorruptError) alertOperator(e.file) })
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
 * to is refused, never silently dropped. `publish()` rejects with it; `outbox$` reports the message `failed`.
 *
 * @example
 * ```ts
 * client.publish('cmd/valve', 'open', { qos: 1 }).catch((e) => { if (e instanceof StoreWriteError) showDiskFull() })
 * ```
 */
export class StoreWriteError extends IotPubSubError {
  override readonly name: string = 'StoreWriteError'
}
