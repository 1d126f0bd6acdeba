import { InvalidTopicError } from '../errors.js'
import { matchParams, topic } from '../topic.js'
import { parseRoutePattern } from './route-pattern.js'

/** The parameter names of a pattern: `'devices/{id}/{sensor}'` → `'id' | 'sensor'`. */
export type RouteParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | RouteParamNames<Rest> : never

/** The values of a pattern's parameters, by name. */
export type RouteParams<P extends string> = { readonly [K in RouteParamNames<P>]: string }

/** A topic pattern with named parameters, as a subscription filter and as a topic builder. */
export interface Route<P extends string> {
  /** The pattern as given, with its `{name}` parameters: `'devices/{id}/telemetry'`. */
  readonly pattern: P
  /** The MQTT filter: each `{name}` level becomes `+`. */
  readonly filter: string
  /** The concrete topic for these parameter values, each checked like a `topic()` segment. */
  topic(params: RouteParams<P>): string
  /** The parameter values a topic gives, or `undefined` when it does not match. */
  match(topicName: string): RouteParams<P> | undefined
  /** The parameters named, from the values of the filter's `+` levels in order (a message's `params`). */
  paramsOf(values: readonly string[]): RouteParams<P>
}

/**
 * A typed topic route: named parameters in a pattern, checked by the compiler.
 *
 * @example
 * ```ts
 * const telemetry = route('devices/{deviceId}/telemetry/{sensor}')
 * telemetry.filter                                     // 'devices/+/telemetry/+'
 * telemetry.topic({ deviceId: 'd1', sensor: 'temp' })  // 'devices/d1/telemetry/temp'
 * telemetry.match('devices/d1/telemetry/temp')         // { deviceId: 'd1', sensor: 'temp' }
 * ```
 */
export function route<P extends string>(pattern: P): Route<P> {
  const { levels, names, filter, paramsOf } = parseRoutePattern<RouteParams<P>>(pattern, InvalidTopicError)
  const filterLevels = filter.split('/')
  return {
    pattern,
    filter,
    topic(params) {
      const values = params as Record<string, string>
      return topic(...levels.map((level, i) => {
        const name = names[i]
        if (name === undefined) return level
        const value = values[name]
        if (value === undefined) throw new InvalidTopicError(pattern, `missing parameter ${name}`)
        return value
      }))
    },
    match(topicName) {
      const values = matchParams(filterLevels, topicName)
      return values && paramsOf(values)
    },
    paramsOf,
  }
}
