import { filter, firstValueFrom, type Observable, type Subscription, timeout as within } from 'rxjs'
import type { SubscriptionInfo } from './broker-subscription.js'
import type { Codec, CodecName } from './codec.js'
import { ClientClosedError, ConnectionLostError, RequestTimeoutError, ResponderError, UnsupportedOptionError } from './errors.js'
import type { Message, QoS } from './message.js'
import type { ObserveOptions, PublishOptions } from './options.js'
import type { Status } from './status.js'

/** User properties by which a reply says that the responder's handler failed. */
export const ERROR_PROPERTY = 'iotpubsub-error'
export const ERROR_NAME_PROPERTY = 'iotpubsub-error-name'

/** What the request/response machinery needs of a client: its public API. */
export interface RequestClient {
  readonly clientId: string
  readonly status$: Observable<Status>
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  observe(filter: string, options: ObserveOptions<Uint8Array>): Observable<Message<Uint8Array>>
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<void>
}

/** Options of `request()`. */
export interface RequestOptions<T> {
  /** Milliseconds to wait for the reply. Default 10,000. */
  timeout?: number
  /** QoS of the request and of the reply subscription. Default 1. */
  qos?: QoS
  /** Decodes the reply. Default `'bytes'`. */
  codec?: CodecName | Codec<T>
}

interface Pending {
  resolve(message: Message<Uint8Array>): void
  reject(error: Error): void
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/**
 * The requesting side of MQTT 5 request/response: one reply filter per client
 * (`<replyPrefix>/<clientId>`), requests told apart by their correlation data.
 */
export class Requester {
  private readonly pending = new Map<string, Pending>()
  private ready: Promise<void> | undefined
  private listening: Subscription | undefined
  private protocolVersion: 4 | 5 | undefined

  constructor(private readonly client: RequestClient, private readonly replyTopic: string) {
    // status$ completes when the client closes, which ends this subscription too.
    client.status$.subscribe((status) => {
      if (status.type === 'connected') this.protocolVersion = status.protocolVersion
      // A reply that was on its way is lost with the connection (the reply subscription is a clean one).
      else if (status.type === 'reconnecting') this.failAll(new ConnectionLostError('the connection was lost before the reply came', { cause: status.error }))
      else if (status.type === 'closed') this.failAll(new ClientClosedError('the client closed before the reply came', status.error))
    })
  }

  async request(topic: string, payload: unknown, options: { timeout?: number; qos?: QoS } = {}): Promise<Message<Uint8Array>> {
    if (this.protocolVersion === 4) throw new UnsupportedOptionError('request() needs MQTT 5 (response topic and correlation data); the broker speaks 3.1.1')
    const { timeout = 10_000, qos = 1 } = options
    const id = crypto.getRandomValues(new Uint8Array(12))
    const key = hex(id)
    const reply = new Promise<Message<Uint8Array>>((resolve, reject) => this.pending.set(key, { resolve, reject }))
    const timer = setTimeout(() => this.settle(key, new RequestTimeoutError(`no reply to the request on ${JSON.stringify(topic)} within ${timeout} ms`)), timeout)
    try {
      await this.listen(qos, timeout)
      await this.client.publish(topic, payload, { qos, properties: { responseTopic: this.replyTopic, correlationData: id } })
      return await reply
    } catch (error) {
      this.settle(key, error as Error)
      return await reply
    } finally {
      clearTimeout(timer)
    }
  }

  /** Subscribes to the reply topic once, and waits for the broker to confirm it before the first request. */
  private listen(qos: QoS, timeout: number): Promise<void> {
    if (!this.ready) {
      // Once per client (its end() completes the reply Observable), even if an earlier wait timed out.
      this.listening ??= this.client.observe(this.replyTopic, { qos }).subscribe((message) => this.onReply(message))
      this.ready = firstValueFrom(
        this.client.subscriptions$.pipe(
          filter((subscriptions) => subscriptions.some((s) => s.filter === this.replyTopic && s.grantedQos !== undefined)),
          within(timeout),
        ),
      ).then(() => undefined)
      this.ready.catch(() => (this.ready = undefined))
    }
    return this.ready
  }

  private onReply(message: Message<Uint8Array>): void {
    const correlation = message.properties?.correlationData
    if (!correlation) return
    const key = hex(correlation)
    const failure = message.properties?.userProperties?.[ERROR_PROPERTY]
    if (failure !== undefined) {
      const name = message.properties?.userProperties?.[ERROR_NAME_PROPERTY]
      this.settle(key, new ResponderError(String(failure), String(name ?? 'Error')))
    } else {
      this.settle(key, message)
    }
  }

  private settle(key: string, outcome: Message<Uint8Array> | Error): void {
    const pending = this.pending.get(key)
    if (!pending) return
    this.pending.delete(key)
    if (outcome instanceof Error) pending.reject(outcome)
    else pending.resolve(outcome)
  }

  private failAll(error: Error): void {
    for (const key of [...this.pending.keys()]) this.settle(key, error)
  }
}
