import type { MQTTClientOptions } from './client-options.js'
import type { TlsOptions } from './resolved-options.js'
import { refuse } from './validate.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * The TLS options Node's connections take (`ca`, `cert`, `key`, `passphrase`, `servername`,
 * `rejectUnauthorized`), those given, frozen. Node's platform's (lib/options/endpoints.ts): a browser
 * trusts its own certificate store, and its app does not ship this.
 *
 * @example
 * ```ts
 * resolveTls({ url: 'mqtts://broker', ca: [caPem], rejectUnauthorized: true }) // { ca: [caPem], rejectUnauthorized: true }
 * ```
 */
export function resolveTls(options: MQTTClientOptions): TlsOptions {
  for (const key of ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized'] as const) checkTlsOption(key, options[key])
  const tls: Mutable<TlsOptions> = {}
  // A copy of the list, frozen: freezing the user's own array would modify their object.
  if (options.ca !== undefined) tls.ca = Array.isArray(options.ca) ? Object.freeze([...options.ca]) : options.ca
  if (options.cert !== undefined) tls.cert = options.cert
  if (options.key !== undefined) tls.key = options.key
  if (options.passphrase !== undefined) tls.passphrase = options.passphrase
  if (options.servername !== undefined) tls.servername = options.servername
  if (options.rejectUnauthorized !== undefined) tls.rejectUnauthorized = options.rejectUnauthorized
  return Object.freeze(tls)
}

/** Node's TLS would throw these mistakes from inside the connection attempt; they are refused up front instead. */
function checkTlsOption(key: 'ca' | 'cert' | 'key' | 'passphrase' | 'servername' | 'rejectUnauthorized', value: unknown): void {
  if (value === undefined) return
  const pem = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array
  const ok = key === 'rejectUnauthorized'
    ? typeof value === 'boolean'
    : key === 'passphrase' || key === 'servername'
      ? typeof value === 'string'
      : pem(value) || (key === 'ca' && Array.isArray(value) && value.every(pem))
  if (!ok) refuse(key, key === 'rejectUnauthorized' ? 'true or false' : key === 'passphrase' || key === 'servername' ? 'a string' : `PEM as a string or a Uint8Array${key === 'ca' ? ', or a list of them' : ''}`, value)
}
