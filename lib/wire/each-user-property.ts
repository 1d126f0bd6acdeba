import type { UserPropertyPairs } from '../message.js'
import type { UserProperties } from './packets.js'

/**
 * Calls `f` with each user property in its wire order: the pairs' order, or a record's names in order, each
 * with its values in order (MQTT 5 3.3.2.3.7 keeps the order, and a name may repeat). Throws RangeError for a
 * name or value that is not a string, or a pair that is not two: the encoder measures with it before writing
 * anything, so nothing is half written.
 *
 * @example
 * ```ts
 * eachUserProperty([['b', '1'], ['a', '2'], ['b', '3']], (name, value) => out.push(name + '=' + value))
 * ```
 */
export function eachUserProperty(value: unknown, f: (name: string, value: string) => void): void {
  const each = (name: unknown, v: unknown) => {
    if (typeof name !== 'string' || typeof v !== 'string') throw new RangeError('user properties are pairs of strings')
    f(name, v)
  }
  if (Array.isArray(value)) {
    for (const pair of value as UserPropertyPairs) {
      const ok = Array.isArray(pair) && pair.length === 2
      each(ok ? pair[0] : undefined, ok ? pair[1] : undefined)
    }
    return
  }
  const pairs = value as UserProperties
  for (const name in pairs) {
    const values = pairs[name]
    if (Array.isArray(values)) for (const v of values) each(name, v)
    else each(name, values)
  }
}
