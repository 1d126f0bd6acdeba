import type { Observable, Subscription } from 'rxjs'
import type { Message } from '../message.js'
import type { ServicesKit } from './services-kit.js'

/**
 * `for await` over an observable of messages: one subscription, taken at the first `next()` and released when
 * the loop ends (`break`, `return`, a throw). Automatic acknowledgements: messages wait in a buffer of
 * `bufferSize`; a loop that falls further behind gets the buffered ones, then `QueueFullError`, and the
 * subscription is released (memory stays bounded). Manual acknowledgements: each message is acknowledged when
 * the loop asks for the next one, so the broker waits for the loop.
 */
export class MessageIterator<T> implements AsyncIterableIterator<Message<T>> {
  #buffer: Message<T>[] = []
  #head = 0
  /** The next() calls waiting for a message, in the order they were made (an async generator queues them too). */
  #waiting: { resolve: (result: IteratorResult<Message<T>>) => void; reject: (error: unknown) => void }[] = []
  #subscription: Subscription | undefined
  /** Delivered to the loop and not yet acknowledged (manual acknowledgements). */
  #handed: Message<T> | undefined
  #ended: { error: unknown } | { done: true } | undefined
  #started = false

  constructor(
    readonly kit: ServicesKit,
    readonly messages$: Observable<Message<T>>,
    readonly filter: string,
    readonly manual: boolean,
    readonly bufferSize: number,
  ) {}

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<Message<T>>> {
    this.#acknowledge()
    if (!this.#started) this.#start()
    if (this.#head < this.#buffer.length) return Promise.resolve(this.#take())
    const ended = this.#ended
    if (ended) return 'error' in ended ? Promise.reject(ended.error) : Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject })
    })
  }

  return(): Promise<IteratorResult<Message<T>>> {
    this.#acknowledge()
    this.#end({ done: true })
    this.#buffer = []
    this.#head = 0
    return Promise.resolve({ done: true, value: undefined })
  }

  #start(): void {
    this.#started = true
    this.#subscription = this.messages$.subscribe({
      next: (message) => this.#push(message),
      error: (error: unknown) => this.#end({ error }),
      complete: () => this.#end({ done: true }),
    })
    if (this.#ended) this.#subscription.unsubscribe()
  }

  #push(message: Message<T>): void {
    if (this.#ended) return
    const waiting = this.#waiting.shift()
    if (waiting) {
      this.#handed = message
      return waiting.resolve({ done: false, value: message })
    }
    if (this.#buffer.length - this.#head >= this.bufferSize) {
      return this.#end({ error: new this.kit.QueueFullError(`iterate(${JSON.stringify(this.filter)}) fell more than ${this.bufferSize} messages behind (bufferSize): iterate with ack: 'manual' to make the broker wait for the loop`) })
    }
    this.#buffer.push(message)
  }

  #take(): IteratorResult<Message<T>> {
    const message = this.#buffer[this.#head] as Message<T>
    this.#head += 1
    if (this.#head === this.#buffer.length) {
      this.#buffer = []
      this.#head = 0
    }
    this.#handed = message
    return { done: false, value: message }
  }

  #acknowledge(): void {
    const handed = this.#handed
    this.#handed = undefined
    if (handed && this.manual) handed.ack()
  }

  #end(ended: { error: unknown } | { done: true }): void {
    if (this.#ended) return
    this.#ended = ended
    const subscription = this.#subscription
    this.#subscription = undefined
    subscription?.unsubscribe()
    const waiting = this.#waiting
    this.#waiting = []
    for (const { resolve, reject } of waiting) {
      if ('error' in ended) reject(ended.error)
      else resolve({ done: true, value: undefined })
    }
  }
}
