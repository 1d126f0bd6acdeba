import { UnsupportedOptionError } from './errors.js'
import { refuse } from './options/validate.js'
import { utf8Length } from './wire/utf8.js'

/** An MQTT string or binary field carries a 16-bit length prefix. */
export const MAX_STRING_BYTES = 65_535
// Below this many UTF-16 code units a string cannot exceed 65,535 UTF-8 bytes (3 bytes per unit at most),
// so the common case never counts.
const SAFE_LENGTH = Math.floor(MAX_STRING_BYTES / 3)

// Characters MQTT 5 §1.5.4 forbids (NUL, and lone surrogates, which have no UTF-8 form: TextEncoder would
// silently send U+FFFD instead) or lets a receiver refuse (controls U+0001–U+001F and U+007F–U+009F, the
// non-characters U+FDD0–U+FDEF and the last two code points of every plane). Mosquitto refuses them all, in
// topics, client ids, user names and properties alike, by closing the connection, which would fail every
// in-flight operation; so they are refused where the user hands a string over. With the u flag, \p{Cs}
// matches only unpaired surrogates, so an emoji passes.
const PLANE_ENDS = Array.from({ length: 16 }, (_, i) => `\\u{${(i + 1).toString(16)}fffe}\\u{${(i + 1).toString(16)}ffff}`).join('')
/** The body of a character class of what an MQTT string must not hold, for the topic patterns to extend. */
export const FORBIDDEN_CHARACTERS = `\\x00-\\x1f\\x7f-\\x9f\\ufdd0-\\ufdef\\ufffe\\uffff${PLANE_ENDS}\\p{Cs}`
const FORBIDDEN = new RegExp(`[${FORBIDDEN_CHARACTERS}]`, 'u')
/** Binary fields sent from a string (the password): any character has a UTF-8 form but a lone surrogate. */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * The character of `value` at `at`, named for an error message.
 *
 * @example
 * ```ts
 * characterName('a\u0007', 1) // 'the control character U+0007'
 * ```
 */
export function characterName(value: string, at: number): string {
  const code = value.codePointAt(at) as number
  const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (code === 0) return `NUL (${name})`
  if (code <= 0x9f) return `the control character ${name}`
  if (code >= 0xd800 && code <= 0xdfff) return `the lone surrogate ${name} (not valid UTF-8)`
  return `the Unicode non-character ${name}`
}

/**
 * Checks what becomes an MQTT UTF-8 string (a client id, a user name, a property): a string of at most
 * 65,535 UTF-8 bytes without the characters Mosquitto refuses (see above). With `binary`, a field MQTT sends
 * as bytes (the password): only the length and lone surrogates matter. Throws {@link UnsupportedOptionError}
 * naming `option`.
 *
 * @example
 * ```ts
 * checkMqttString('username', 'alice')        // 'alice'
 * checkMqttString('username', 'a\u0000')      // throws: `username` must not contain NUL (U+0000)
 * ```
 */
export function checkMqttString(option: string, value: unknown, binary = false): string {
  if (typeof value !== 'string') refuse(option, 'a string', value)
  if (value.length > SAFE_LENGTH && utf8Length(value) > MAX_STRING_BYTES) throw new UnsupportedOptionError(`\`${option}\` is ${utf8Length(value)} UTF-8 bytes long; MQTT allows ${MAX_STRING_BYTES}`)
  const at = value.search(binary ? LONE_SURROGATE : FORBIDDEN)
  if (at !== -1) throw new UnsupportedOptionError(`\`${option}\` must not contain ${characterName(value, at)}`)
  return value
}
