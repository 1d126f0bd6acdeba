// Loaded by a client with a `store` alone (a dynamic import in OutboxKeeper.open): an app without one ships none
// of it. What it makes (pending publishes, errors) the publisher makes for it, for the reason outbox-store.ts says.
import type { Link, RestoredPublish } from '../link/link.js'
import type { Store, StoredMessage, StoredSession } from '../store/store.js'
import { type BindingKit, StoreBinding } from './outbox-store.js'
import type { OfflineQueue } from './offline-queue.js'
import type { OutboxKeeper } from './outbox-keeper.js'
import type { PendingPublish } from './pending-publish.js'
import type { SendWindow } from './send-window.js'

/** The parts of the publisher restoring fills (its own state, handed over for this alone). */
export interface PublisherParts {
  /** A pending publish for a stored message (not yet held). */
  create(message: StoredMessage): PendingPublish
  /** Every publish not yet settled. */
  readonly pending: Set<PendingPublish>
  /** QoS 1/2 publishes handed to the link, by packet identifier. */
  readonly inFlight: Map<number, PendingPublish>
  readonly queue: OfflineQueue<PendingPublish>
  readonly window: SendWindow
  readonly box: OutboxKeeper
  /** A publish now in the queue: its `collapse` and its expiry. */
  queued(publish: PendingPublish): void
  /** Writes the record of a publish made while the store opened. */
  record(publish: PendingPublish): void
  /** Ends a publish with `PublishOutcomeUnknownError`. */
  lose(publish: PendingPublish): void
  /** Ends a restored queued publish with `MessageReplacedError` (a newer collapse one of this run). */
  replace(publish: PendingPublish): void
  /** Sends what may go. */
  pump(): void
}

/** Opens `store` for `clientId`: the binding, and what an earlier client left in it. */
export async function openOutbox(store: Store, clientId: string, kit: BindingKit): Promise<{ binding: StoreBinding; session: StoredSession }> {
  const session = await store.open(clientId)
  return { binding: new StoreBinding(store, kit), session }
}

/**
 * Puts what the store held ahead of this run's publishes, in order. A message that was on the wire goes to the
 * link under its packet identifier (`Link.resume`): on a resumed session it is resent with DUP (a released QoS 2
 * as its PUBREL), and otherwise by the lost session's rule (QoS 1 again as a new message, QoS 2 `failed` with
 * `PublishOutcomeUnknownError`); the incoming QoS 2 identifiers go to the link too. A link without `resume`
 * gets the lost session's rule at once.
 */
export function restoreOutbox(parts: PublisherParts, link: Link, binding: StoreBinding, session: StoredSession): void {
  const { box, pending, inFlight } = parts
  const queue: PendingPublish[] = []
  const resumed: RestoredPublish[] = []
  for (const m of session.messages) {
    if (box.events.held.has(m.id)) continue
    const publish = parts.create(m)
    publish.expiresAt = m.expiresAt
    publish.collapse = m.collapse === true
    publish.recorded = true
    // Nobody awaits it: its outcome is on outbox$.
    publish.promise.catch(() => undefined)
    box.hold(publish, m.id)
    pending.add(publish)
    box.queued(publish)
    const packetId = link.resume ? m.packetId : undefined
    if (packetId !== undefined) {
      publish.state = 'sent'
      publish.packetId = packetId
      inFlight.set(packetId, publish)
      parts.window.take(publish)
      box.sending(publish)
      resumed.push({ packetId, topic: m.topic, payload: m.payload, options: publish, released: m.released === true, done: publish.onAck })
    } else if (m.packetId !== undefined && m.qos === 2) {
      parts.lose(publish)
    } else if (publish.collapse && box.replaced(publish.topic)) {
      // A collapse publish of this run, made while the store opened, is newer: it replaces this one.
      parts.replace(publish)
    } else {
      parts.queued(publish)
      queue.push(publish)
    }
  }
  link.resume?.({
    outgoing: resumed,
    incoming: session.incoming,
    record: (change) => {
      if (change.type !== 'released') return binding.change(change)
      const id = inFlight.get(change.packetId)?.id
      if (id !== undefined) binding.change({ type: 'released', id })
    },
  })
  // Restored ones are listed first, in their order: before this run's, which the outbox took in while the store opened.
  const held = box.events.held
  const ids = new Set(queue.map((p) => p.id))
  const mine = [...held].filter(([id]) => !ids.has(id))
  held.clear()
  for (const p of queue) held.set(p.id as string, p)
  for (const [id, p] of mine) held.set(id, p)
  parts.queue.prepend(queue)
  // This run's publishes made while the store opened, recorded now, in order.
  for (const p of parts.queue.entries()) if (!p.recorded && p.id !== undefined) parts.record(p)
  parts.pump()
}
