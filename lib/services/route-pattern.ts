import type { InvalidTopicError } from '../errors.js'

/** A route pattern taken apart: what observing it needs, and what `route()` builds its topics and matches from. */
export interface RoutePattern<Params> {
  /** The pattern's levels as written. */
  readonly levels: readonly string[]
  /** The parameter named by each level, `undefined` for a literal one. */
  readonly names: ReadonlyArray<string | undefined>
  /** The MQTT filter: each `{name}` level becomes `+`. */
  readonly filter: string
  /** The parameters named, from the values of the filter's `+` levels in order (a message's `params`). */
  paramsOf(values: readonly string[]): Params
}

const PARAM = /^\{([A-Za-z_$][\w$]*)\}$/

/**
 * Takes a route pattern apart, or throws `invalid` (the SDK's `InvalidTopicError`, given by the caller): a module
 * that imports nothing at run time, so that the services loaded on demand can observe a route given as a string
 * without `route()` and `topic()` becoming part of every app that has the client (lib/services/services-kit.ts).
 *
 * @example
 * ```ts
 * parseRoutePattern('devices/{id}/temp', InvalidTopicError).filter // 'devices/+/temp'
 * ```
 */
export function parseRoutePattern<Params>(pattern: string, invalid: typeof InvalidTopicError): RoutePattern<Params> {
  const levels = pattern.split('/')
  const names = levels.map((level) => {
    const param = PARAM.exec(level)
    if (param) return param[1] as string
    if (/[+#{}\u0000]/.test(level)) throw new invalid(pattern, `a route level is either literal or a whole {name}, not ${JSON.stringify(level)}`)
    return undefined
  })
  const declared = names.filter((n): n is string => n !== undefined)
  if (new Set(declared).size !== declared.length) throw new invalid(pattern, 'a route names each parameter once')
  const filter = levels.map((level, i) => (names[i] === undefined ? level : '+')).join('/')
  if (filter.length === 0) throw new invalid(pattern, 'a route must not be empty')
  return {
    levels,
    names,
    filter,
    // What each `+` of the filter matched, in order, named.
    paramsOf(values) {
      const params: Record<string, string> = {}
      declared.forEach((name, i) => (params[name] = values[i] as string))
      return params as Params
    },
  }
}
