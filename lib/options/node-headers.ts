import { UnsupportedOptionError } from '../errors.js'
import { refuse } from './validate.js'

/** An HTTP header name (RFC 9110's token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** An HTTP field value: what Node lets through (anything else fails each attempt with "Invalid character in header content"). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** Headers the WebSocket handshake sets itself: one given twice would break it, or change what it asks for. */
const RESERVED = /^(host|connection|upgrade|sec-websocket-(key|version|extensions|protocol|accept))$/i

/**
 * Node's check of handshake headers (`webSocket.headers`, a provider's `headers`): names HTTP tokens and not
 * the handshake's own, values printable Latin-1 on one line. Returns a frozen copy; throws {@link UnsupportedOptionError}
 * naming `option`. Node's platform's (lib/options/endpoints.ts): a browser, which cannot send headers, ships
 * only its refusal.
 *
 * @example
 * ```ts
 * nodeHeaders('webSocket.headers', { authorization: 'Bearer t' }) // { authorization: 'Bearer t' }
 * nodeHeaders('webSocket.headers', { Upgrade: 'h2c' })             // throws: set by the WebSocket handshake itself
 * ```
 */
export function nodeHeaders(option: string, headers: object): Readonly<Record<string, string>> {
  const copy: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw new UnsupportedOptionError(`\`${option}\`: ${JSON.stringify(name)} is not an HTTP header name`)
    if (RESERVED.test(name)) {
      throw new UnsupportedOptionError(`\`${option}\`: ${JSON.stringify(name)} is set by the WebSocket handshake itself${/protocol/i.test(name) ? ' (offer subprotocols with `webSocket.subprotocols`)' : ''}`)
    }
    // RFC 9110's field-value, as Node checks it when it sends: tab, visible ASCII, space, and bytes 0x80-0xFF.
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) refuse(`${option}.${name}`, 'a string of printable Latin-1 on one line (no control characters)', value)
    copy[name] = value
  }
  return Object.freeze(copy)
}
