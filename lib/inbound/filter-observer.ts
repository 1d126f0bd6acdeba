import type { Subscriber } from 'rxjs'
import type { BrokerSubscription, FilterObserver, IncomingMessage } from '../subscriptions/broker-subscription.js'
import { bytesCodec, type Codec } from '../codec.js'
import { DeliveredMessage } from './delivered-message.js'
import { DecodeError } from '../errors.js'
import type { Message, QoS } from '../message.js'
import type { AckHandle, PendingAck } from './pending-ack.js'

/** What an observer reports back to its client; one object per client, shared by all its observers. */
export interface ObserverHost {
  decodeFailed(error: DecodeError): void
  detach(observer: ObserverRecord<unknown>): void
}

/**
 * One `subscribe()` to an `observe()` Observable: decodes for its subscriber and is its own teardown.
 * A class rather than closures, so that ten thousand observers stay small.
 */
export class ObserverRecord<T> implements FilterObserver {
  subscription: BrokerSubscription | undefined
  /** Manual acknowledgement: the messages handed out and not yet acknowledged. */
  #holding: Set<AckHandle> | undefined

  readonly #host: ObserverHost
  readonly #subscriber: Subscriber<Message<T>>
  readonly #codec: Codec<T>

  constructor(
    host: ObserverHost,
    subscriber: Subscriber<Message<T>>,
    readonly qos: QoS,
    codec: Codec<T>,
    readonly manual: boolean,
  ) {
    this.#host = host
    this.#subscriber = subscriber
    this.#codec = codec
  }

  next(message: IncomingMessage, subscription: BrokerSubscription, ack: PendingAck | undefined): void {
    let payload: T
    if (this.#codec === (bytesCodec as Codec<unknown>)) {
      payload = message.payload as T
    } else {
      try {
        payload = this.#codec.decode(message.payload)
      } catch (error) {
        this.#host.decodeFailed(new DecodeError(message.topic, message.payload, error))
        return
      }
    }
    this.#subscriber.next(new DeliveredMessage(message, payload, subscription.levels, this.manual ? this.#hold(ack) : undefined))
  }

  /** Takes a share of a message's acknowledgement, remembered until this observer acknowledges it. */
  #hold(ack: PendingAck | undefined): AckHandle | undefined {
    const handle = ack?.hold()
    if (!handle) return undefined
    const holding = (this.#holding ??= new Set())
    holding.add(handle)
    return {
      ack: () => {
        holding.delete(handle)
        handle.ack()
      },
      nack: (reason) => {
        holding.delete(handle)
        handle.nack(reason)
      },
    }
  }

  error(error: Error): void {
    this.#subscriber.error(error)
  }

  complete(): void {
    this.#subscriber.complete()
  }

  /**
   * The subscriber left: RxJS calls this as the teardown. Messages it still held are acknowledged for it:
   * it no longer wants them, and an acknowledgement never given would stop the connection for good.
   */
  unsubscribe(): void {
    if (this.#holding) for (const handle of [...this.#holding]) handle.ack()
    this.#holding = undefined
    this.#host.detach(this as ObserverRecord<unknown>)
  }
}
