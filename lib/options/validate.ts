import { UnsupportedOptionError } from '../errors.js'
import type { QoS } from '../message.js'

/**
 * Node's timers fire after 1 ms for any delay above this (with only a warning), so a longer timeout or
 * backoff would turn into a tight loop rather than a long wait.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A value as an error message shows it: strings quoted (so `"2"` differs from `2`), objects by kind.
 *
 * @example
 * ```ts
 * show('2') // '"2"'
 * show(NaN) // 'NaN'
 * ```
 */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value !== null && typeof value === 'object') return 'an object'
  return String(value)
}

/**
 * Throws {@link UnsupportedOptionError}: "`option` must be `what`, not `value`" (the one wording of every
 * refusal of a value, so that each check adds only what it expects).
 *
 * @example
 * ```ts
 * if (typeof path !== 'string') refuse('path', 'a string', path) // throws: `path` must be a string, not 9
 * ```
 */
export function refuse(option: string, what: string, value: unknown): never {
  throw new UnsupportedOptionError(`\`${option}\` must be ${what}, not ${show(value)}`)
}

/**
 * Checks a QoS level and returns it typed; throws {@link UnsupportedOptionError} naming `option` otherwise.
 *
 * @example
 * ```ts
 * checkQos(options.qos ?? 0)        // 0 | 1 | 2
 * checkQos(3, 'maxQos')             // throws: `maxQos` must be 0, 1 or 2, not 3
 * ```
 */
export function checkQos(qos: unknown, option = 'qos'): QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) refuse(option, '0, 1 or 2', qos)
  return qos
}

/**
 * Checks that `value` is an integer from `min` to `max`; `unit` explains the range in the message.
 *
 * @example
 * ```ts
 * checkInteger('keepalive', 30, 0, 65_535, 'seconds; 0 turns keepalive off') // 30
 * ```
 */
export function checkInteger(option: string, value: unknown, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) refuse(option, `an integer from ${min} to ${max} (${unit})`, value)
  return value
}

/**
 * Checks that `value` is a number above 0 and at most `max` (`Infinity` when there is no upper bound).
 *
 * @example
 * ```ts
 * checkPositive('connectTimeout', 30_000, MAX_TIMER_MS, 'milliseconds') // 30000
 * ```
 */
export function checkPositive(option: string, value: unknown, max: number, unit: string): number {
  if (typeof value !== 'number' || !(value > 0) || value > max) refuse(option, `a number above 0${max === Infinity ? '' : ` and at most ${max}`} (${unit})`, value)
  return value
}

/**
 * Checks that `value` is a number from 0 up (`Infinity` allowed: no limit).
 *
 * @example
 * ```ts
 * checkNonNegative('retainedCacheSize', 1_000, 'topics') // 1000
 * ```
 */
export function checkNonNegative(option: string, value: unknown, unit: string): number {
  if (typeof value !== 'number' || !(value >= 0)) refuse(option, `a number from 0 up (${unit})`, value)
  return value
}

/**
 * Checks that `value` is one of `allowed` and returns it typed.
 *
 * @example
 * ```ts
 * checkOneOf('protocolVersion', options.protocolVersion ?? 'auto', [4, 5, 'auto'] as const) // 4 | 5 | 'auto'
 * ```
 */
export function checkOneOf<const T>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!isOneOf(value, allowed)) refuse(option, allowed.map(show).join(', ').replace(/, ([^,]*)$/, ' or $1'), value)
  return value
}

function isOneOf<T>(value: unknown, allowed: readonly T[]): value is T {
  // Widening only: any value may be looked for in a list of T.
  const known: readonly unknown[] = allowed
  return known.includes(value)
}
