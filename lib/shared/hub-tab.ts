import type { Subscription } from 'rxjs'
import type { Delivery, ObserveRequest, PublishRequest, ToTab } from './tab-protocol.js'

/** What the hub knows of one tab: what it observes and publishes, and the channel to it. */
export class HubTab {
  readonly wanted = new Map<number, ObserveRequest>()
  readonly observing = new Map<number, { readonly qos: number; readonly subscription: Subscription }>()
  readonly publishing = new Map<number, AbortController>()
  readonly waiting: PublishRequest[] = []
  #batch: Delivery[] = []

  readonly #hub: string

  constructor(readonly id: string, readonly channel: BroadcastChannel, hub: string) {
    this.#hub = hub
  }

  /** Messages go out in one post per burst (a microtask), not one per message. */
  deliver(delivery: Delivery): void {
    if (this.#batch.push(delivery) === 1) queueMicrotask(() => this.flush())
  }

  post(message: ToTab): void {
    this.flush()
    this.channel.postMessage(message)
  }

  flush(): void {
    if (this.#batch.length === 0) return
    const batch = this.#batch
    this.#batch = []
    this.channel.postMessage({ t: 'messages', hub: this.#hub, batch } satisfies ToTab)
  }
}

/** A random id for a tab or a hub (64 bits, hex). */
export function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')
}
