import type { ObserveOptions } from './client-options.js'

/**
 * Options of `client.iterate()`: those of `observe()` (but `cleared`), and how far the loop may fall behind.
 *
 * @example
 * ```ts
 * for await (const m of client.iterate('jobs/+', { qos: 1, ack: 'manual' })) await run(m.payload)
 * ```
 */
export type IterateOptions<T> = Omit<ObserveOptions<T>, 'cleared'> & {
  /**
   * With automatic acknowledgements, how many messages may wait for the loop (default 1,000): past it the
   * loop gets those, then `QueueFullError`, and the subscription is released. With `ack: 'manual'` each
   * message is acknowledged when the loop asks for the next one, and the broker waits for the loop instead.
   */
  bufferSize?: number
}
