import { InvalidTopicError } from './errors.js'
import { characterName, FORBIDDEN_CHARACTERS, MAX_STRING_BYTES } from './mqtt-string.js'
import { utf8Length } from './wire/utf8.js'

// Below this many UTF-16 code units a string cannot exceed 65,535 UTF-8 bytes (3 bytes per unit at most),
// so the common case never counts.
const SAFE_LENGTH = Math.floor(MAX_STRING_BYTES / 3)

// Each string is scanned by one precompiled regular expression (every publish checks its topic) for the
// characters no MQTT string may hold (lib/mqtt-string.ts) and, by kind, the wildcards and `/`.
/** In a topic name: the forbidden characters and the wildcards. */
const BAD_IN_NAME = new RegExp(`[+#${FORBIDDEN_CHARACTERS}]`, 'u')
/** In a filter: the forbidden characters (wildcards are placed by level, checked apart). */
const BAD_IN_FILTER = new RegExp(`[${FORBIDDEN_CHARACTERS}]`, 'u')
/** In a `topic()` segment: also `/`, which would add a level. */
const BAD_IN_SEGMENT = new RegExp(`[/+#${FORBIDDEN_CHARACTERS}]`, 'u')

function checkString(value: string, kind: string): void {
  if (typeof value !== 'string') throw new InvalidTopicError(String(value), `${kind} must be a string`)
  if (value.length === 0) throw new InvalidTopicError(value, `${kind} must not be empty`)
}

function checkLength(value: string, kind: string): void {
  if (value.length > SAFE_LENGTH && utf8Length(value) > MAX_STRING_BYTES) {
    throw new InvalidTopicError(value, `${kind} is longer than ${MAX_STRING_BYTES} UTF-8 bytes`)
  }
}

/** The error for the character at `at`, which one of the patterns above matched. */
function badCharacter(value: string, at: number, kind: string): InvalidTopicError {
  return new InvalidTopicError(value, `${kind} must not contain ${characterName(value, at)}`)
}

/**
 * Checks a topic name (what a PUBLISH is sent to) and throws {@link InvalidTopicError} if the broker
 * would refuse it: empty, over 65,535 bytes, containing a wildcard (`+`, `#`), NUL, a control character
 * (U+0001–U+001F, U+007F–U+009F), a Unicode non-character or a lone surrogate (the error names its code point).
 *
 * @example
 * ```ts
 * assertTopicName('rooms/kitchen/temp') // ok
 * assertTopicName('rooms/+/temp')       // throws InvalidTopicError
 * assertTopicName('rooms/\u0007')       // throws InvalidTopicError: ... the control character U+0007
 * ```
 */
export function assertTopicName(name: string): void {
  checkString(name, 'a topic name')
  checkLength(name, 'a topic name')
  if (!BAD_IN_NAME.test(name)) return
  // Only a refused name is scanned again, to find the character to name.
  const at = name.search(BAD_IN_NAME)
  const char = name[at]
  if (char === '+' || char === '#') throw new InvalidTopicError(name, 'a topic name must not contain the wildcards + or #')
  throw badCharacter(name, at, 'a topic name')
}

/** A topic filter taken apart: the part matched locally, and the share group of a `$share/...` filter. */
export interface ParsedFilter {
  /** The filter as given, the key of the broker subscription. */
  readonly filter: string
  /** The filter that incoming topics are matched against (without a `$share/group/` prefix). */
  readonly match: string
  /** The share group of a shared subscription. */
  readonly shareGroup: string | undefined
}

function assertWildcards(filter: string, original: string): void {
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      throw new InvalidTopicError(original, '# must be a whole level and the last one')
    }
    if (level.includes('+') && level !== '+') {
      throw new InvalidTopicError(original, '+ must be a whole level')
    }
  }
}

/**
 * Checks a topic filter (what a SUBSCRIBE asks for) and returns it taken apart; throws
 * {@link InvalidTopicError} for `#` not last or not a whole level, `+` not a whole level, an empty or
 * oversized filter, a malformed `$share/group/filter`, or the characters {@link assertTopicName} refuses
 * (NUL, control characters, non-characters, lone surrogates).
 *
 * @example
 * ```ts
 * parseFilter('$share/workers/devices/+/telemetry')
 * // { filter: '$share/workers/devices/+/telemetry', match: 'devices/+/telemetry', shareGroup: 'workers' }
 * ```
 */
export function parseFilter(filter: string): ParsedFilter {
  checkString(filter, 'a topic filter')
  checkLength(filter, 'a topic filter')
  if (BAD_IN_FILTER.test(filter)) throw badCharacter(filter, filter.search(BAD_IN_FILTER), 'a topic filter')
  if (filter.startsWith('$share/')) {
    const slash = filter.indexOf('/', 7)
    const group = slash === -1 ? filter.slice(7) : filter.slice(7, slash)
    if (group.length === 0) throw new InvalidTopicError(filter, 'a shared subscription needs a group name')
    if (/[+#]/.test(group)) throw new InvalidTopicError(filter, 'a share group name must not contain + or #')
    const match = slash === -1 ? '' : filter.slice(slash + 1)
    if (match.length === 0) throw new InvalidTopicError(filter, 'a shared subscription needs a filter after $share/group/')
    assertWildcards(match, filter)
    return { filter, match, shareGroup: group }
  }
  assertWildcards(filter, filter)
  return { filter, match: filter, shareGroup: undefined }
}

/**
 * Builds a topic name from segments, refusing any segment that is empty or contains `/`, `+` or `#`, so
 * that user input can never add a level or widen a subscription, or a character {@link assertTopicName}
 * refuses (NUL, control characters, non-characters, lone surrogates). The error's `topic` is the segment.
 *
 * @example
 * ```ts
 * topic('rooms', roomFromUrl, 'temp')      // 'rooms/kitchen/temp'
 * topic('rooms', 'kitchen/#', 'temp')      // throws InvalidTopicError
 * topic('rooms', 'kitchen\n', 'temp')      // throws InvalidTopicError: ... the control character U+000A
 * ```
 */
export function topic(...segments: Array<string | number>): string {
  if (segments.length === 0) throw new InvalidTopicError('', 'topic() needs at least one segment')
  for (const segment of segments) {
    const text = String(segment)
    if (text.length === 0) throw new InvalidTopicError(text, 'a topic segment must not be empty')
    if (!BAD_IN_SEGMENT.test(text)) continue
    const at = text.search(BAD_IN_SEGMENT)
    const char = text[at]
    if (char === '/' || char === '+' || char === '#') throw new InvalidTopicError(text, 'a topic segment must not contain /, + or #')
    throw badCharacter(text, at, 'a topic segment')
  }
  const name = segments.join('/')
  // Segments free of / + # and bad characters joined by / leave nothing else for assertTopicName to find.
  checkLength(name, 'a topic name')
  return name
}

/**
 * Tests a topic name against a filter with MQTT's rules, including that `+` and `#` in the first level
 * do not match topics that start with `$` (`$SYS/...`).
 *
 * @example
 * ```ts
 * matches('rooms/+/temp', 'rooms/kitchen/temp') // true
 * matches('#', '$SYS/broker/uptime')            // false
 * ```
 */
export function matches(filter: string, topicName: string): boolean {
  return matchParams(filter.split('/'), topicName) !== undefined
}

/**
 * The values that `+` and `#` of a filter (given as its levels) matched in `topicName`, in order, or
 * `undefined` when the topic does not match. `#` yields the rest of the topic, levels joined by `/`
 * (an empty string when it matched the parent level itself).
 */
export function matchParams(filterLevels: readonly string[], topicName: string): string[] | undefined {
  const levels = topicName.split('/')
  const params: string[] = []
  if (topicName.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return undefined
  for (let i = 0; i < filterLevels.length; i++) {
    const want = filterLevels[i] as string
    if (want === '#') {
      params.push(levels.slice(i).join('/'))
      return params
    }
    const level = levels[i]
    if (level === undefined) return undefined
    if (want === '+') params.push(level)
    else if (want !== level) return undefined
  }
  return levels.length === filterLevels.length ? params : undefined
}
