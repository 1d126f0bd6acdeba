import type { Logger } from './logger.js'

/**
 * The console as the debug log, by the platform's switch (`IOTPUBSUB_DEBUG`, the browser's `iotpubsub:debug`):
 * off for none or `'0'`; `'trace'` adds each publish and its outcome, as `console.debug` lines; anything else
 * logs the connection's story and its subscriptions.
 *
 * @example
 * ```ts
 * const logger = debugConsole(process.env.IOTPUBSUB_DEBUG) // 'trace': publishes too
 * ```
 */
export function debugConsole(flag: string | null | undefined): Logger | undefined {
  if (!flag || flag === '0') return undefined
  if (flag !== 'trace') return console
  return {
    debug: (fields, message) => console.debug(fields, message),
    info: (fields, message) => console.info(fields, message),
    warn: (fields, message) => console.warn(fields, message),
    error: (fields, message) => console.error(fields, message),
    trace: (fields, message) => console.debug(fields, message),
  }
}
