import type { MessageProperties, QoS } from '../message.js'

/**
 * A publish the outbox holds, from the moment `publish()` accepted it until its flow completes: what MQTT calls
 * the client's session state for an outgoing message, plus what the outbox needs to restore it after a restart.
 *
 * @example
 * ```ts
 * const message: StoredMessage = { id: 'm1', topic: 'cmd/valve', payload: new Uint8Array([1]), qos: 1, retain: false, expiresAt: Date.now() + 60_000 }
 * ```
 */
export interface StoredMessage {
  /** The app's id for the message (generated when the app gave none): unique within one store. */
  readonly id: string
  /** The topic it is published to. */
  readonly topic: string
  /** The payload as sent. */
  readonly payload: Uint8Array
  /** 1 or 2 (QoS 0 messages are not stored). */
  readonly qos: QoS
  /** Whether the broker keeps it as the topic's retained value. */
  readonly retain: boolean
  /** MQTT 5 properties it is sent with. */
  readonly properties?: MessageProperties | undefined
  /** When the message expires, in milliseconds since the epoch: past it, it is never sent. */
  readonly expiresAt?: number | undefined
  /** A newer message to the same topic, also with `collapse`, replaces this one while it is queued. */
  readonly collapse?: boolean | undefined
  /** The packet identifier it was sent with, once on the wire in the current session. */
  readonly packetId?: number | undefined
  /** QoS 2: the broker's PUBREC came and PUBREL was sent; only PUBCOMP is awaited. */
  readonly released?: boolean | undefined
}

/**
 * One change to the state a store holds, applied in the order written: `add` (`publish()` accepted a message),
 * `sent` (it went on the wire with a packet identifier), `released` (QoS 2: PUBREC received, PUBREL sent),
 * `remove` (it left the outbox: acknowledged, expired, replaced or failed), `incoming` and `incomingReleased`
 * (QoS 2 in: delivered and PUBREC sent; PUBREL received and PUBCOMP sent), `sessionLost` (the broker kept no
 * session: packet identifiers and incoming QoS 2 state are gone, the messages stay).
 *
 * @example
 * ```ts
 * await store.write({ type: 'sent', id: 'm1', packetId: 7 })
 * await store.write({ type: 'remove', id: 'm1' })
 * ```
 */
export type StoreChange =
  | {
      /** `publish()` accepted a message. */
      readonly type: 'add'
      /** The message, as the outbox keeps it. */
      readonly message: StoredMessage
    }
  | {
      /** A message went on the wire. */
      readonly type: 'sent'
      /** The message's id. */
      readonly id: string
      /** The packet identifier it was sent with. */
      readonly packetId: number
    }
  | {
      /** QoS 2: PUBREC received, PUBREL sent. */
      readonly type: 'released'
      /** The message's id. */
      readonly id: string
    }
  | {
      /** A message left the outbox. */
      readonly type: 'remove'
      /** The message's id. */
      readonly id: string
    }
  | {
      /** QoS 2 in: a message delivered and its PUBREC sent; a resent PUBLISH with this identifier is not delivered again. */
      readonly type: 'incoming'
      /** The broker's packet identifier. */
      readonly packetId: number
    }
  | {
      /** QoS 2 in: PUBREL received and PUBCOMP sent; the identifier is free. */
      readonly type: 'incomingReleased'
      /** The broker's packet identifier. */
      readonly packetId: number
    }
  | {
      /** The broker kept no session. */
      readonly type: 'sessionLost'
    }

/**
 * What a store held when it was opened.
 *
 * @example
 * ```ts
 * const { messages, problems } = await store.open('gateway-7')
 * ```
 */
export interface StoredSession {
  /** The messages in the order `publish()` accepted them. */
  readonly messages: readonly StoredMessage[]
  /** Packet identifiers of incoming QoS 2 messages delivered and not yet released. */
  readonly incoming: readonly number[]
  /** Parts of the store that could not be read and were set aside; the rest was kept. */
  readonly problems: readonly Error[]
}

/**
 * Where a client keeps its outgoing messages and session state so that they outlive the process or the page.
 * `memoryStore()` is the default; `fileStore(dir)` (Node) and `indexedDbStore(name)` (browsers) survive a crash.
 * A custom store implements these three methods; `storeConformance()` checks one.
 *
 * @example
 * ```ts
 * const store: Store = memoryStore()
 * const session = await store.open('gateway-7')
 * await store.write({ type: 'add', message: { id: 'm1', topic: 'cmd/valve', payload: new Uint8Array([1]), qos: 1, retain: false } })
 * await store.close()
 * ```
 */
export interface Store {
  /**
   * Opens `clientId`'s state for this client alone (`StoreLockedError` while another live client holds it; a
   * lock left by a process that died is taken over) and returns what an earlier client left in it.
   */
  open(clientId: string): Promise<StoredSession>
  /** Records a change. Resolves once it is durable: a change whose promise resolved survives a crash. */
  write(change: StoreChange): Promise<void>
  /** Writes what is pending and lets the state go for another client to open. */
  close(): Promise<void>
}

/** The state a store's changes build, replayed the same way by every store. */
export class SessionState {
  readonly messages = new Map<string, StoredMessage>()
  readonly incoming = new Set<number>()

  /** Applies `change`; false when it names a message the state does not hold. */
  apply(change: StoreChange): boolean {
    switch (change.type) {
      case 'add':
        this.messages.set(change.message.id, change.message)
        return true
      case 'sent':
        return this.#update(change.id, (m) => ({ ...m, packetId: change.packetId, released: false }))
      case 'released':
        return this.#update(change.id, (m) => ({ ...m, released: true }))
      case 'remove':
        return this.messages.delete(change.id)
      case 'incoming':
        this.incoming.add(change.packetId)
        return true
      case 'incomingReleased':
        return this.incoming.delete(change.packetId)
      case 'sessionLost':
        for (const [id, m] of this.messages) if (m.packetId !== undefined) this.messages.set(id, { ...m, packetId: undefined, released: false })
        this.incoming.clear()
        return true
    }
  }

  /** The state as the changes that rebuild it, smallest first. */
  changes(): StoreChange[] {
    const changes: StoreChange[] = []
    for (const message of this.messages.values()) changes.push({ type: 'add', message })
    for (const packetId of this.incoming) changes.push({ type: 'incoming', packetId })
    return changes
  }

  session(problems: readonly Error[] = []): StoredSession {
    return { messages: [...this.messages.values()], incoming: [...this.incoming], problems }
  }

  #update(id: string, change: (m: StoredMessage) => StoredMessage): boolean {
    const message = this.messages.get(id)
    if (!message) return false
    this.messages.set(id, change(message))
    return true
  }
}
