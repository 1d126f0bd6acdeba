import { UnsupportedOptionError } from '../errors.js'
import { show } from './validate.js'

/** The MQTT implementations a client can run on: the SDK's own (`lean`) or MQTT.js 5 (`mqttjs`). */
export type LinkName = 'lean' | 'mqttjs'

/**
 * The link a client runs on: the `link` option when given, else `fallback` (the entry's default, or what
 * the environment chose). Throws {@link UnsupportedOptionError} for anything else, naming where it came from.
 *
 * @example
 * ```ts
 * linkChoice(options.link, 'mqttjs') // 'lean' when options.link is 'lean'
 * linkChoice('paho', 'lean')         // throws: `link` must be 'lean' or 'mqttjs', not "paho"
 * ```
 */
export function linkChoice(value: unknown, fallback: LinkName, source = '`link`'): LinkName {
  if (value === undefined) return fallback
  if (value === 'lean' || value === 'mqttjs') return value
  throw new UnsupportedOptionError(`${source} must be 'lean' or 'mqttjs', not ${show(value)}`)
}
