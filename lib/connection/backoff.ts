import type { ReconnectOptions } from '../options/client-options.js'

/**
 * The wait before reconnect attempt `attempt` (1, 2, ...): the ceiling doubles from `initialDelay` up to
 * `maxDelay`, and the delay is drawn from the upper half of it ("equal jitter"), so clients that lost the
 * same broker at the same moment do not all come back at the same moment.
 *
 * @example
 * ```ts
 * backoffDelay(1, { initialDelay: 1000, maxDelay: 30000 }) // 500..1000
 * backoffDelay(6, { initialDelay: 1000, maxDelay: 30000 }) // 15000..30000
 * ```
 */
export function backoffDelay(attempt: number, policy: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelay, policy.initialDelay * 2 ** Math.min(Math.max(attempt - 1, 0), 30))
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}
