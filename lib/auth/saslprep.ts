/**
 * SASLprep (RFC 4013), the stringprep profile (RFC 3454) that SCRAM (RFC 5802 section 5.1) asks a client to
 * apply to the username and password, so that a password typed on one keyboard matches the one the broker's
 * SCRAM verifier was made from on another. Applied "as a query": unassigned code points pass (RFC 5802 says so
 * for the client), so nothing here depends on a Unicode version's list of assigned characters. The tables are
 * RFC 3454's, as ranges; they load only with `scramSha256`.
 */

/** C.1.2, non-ASCII space characters: mapped to U+0020 (RFC 4013 section 2.1). */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/gu
/** B.1, commonly mapped to nothing (RFC 4013 section 2.1). */
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/gu

/**
 * RFC 4013 section 2.3's prohibited output, by table: C.1.2 (never left after mapping), C.2.1 and C.2.2
 * control characters, C.3 private use, C.4 non-characters, C.5 surrogates (a lone one in a JavaScript
 * string), C.6 inappropriate for plain text, C.7 for canonical representation, C.8 display properties,
 * C.9 tagging.
 */
const PROHIBITED: ReadonlyArray<readonly [string, RegExp]> = [
  ['a control character', /[\u0000-\u001f\u007f-\u009f\u06dd\u070f\u180e\u200c\u200d\u2028\u2029\u2060-\u2063\u206a-\u206f\ufeff\ufff9-\ufffc\u{1d173}-\u{1d17a}]/u],
  ['a private use character', /[\ue000-\uf8ff\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}]/u],
  ['a non-character code point', /[\ufdd0-\ufdef\ufffe\uffff\u{1fffe}\u{1ffff}\u{2fffe}\u{2ffff}\u{3fffe}\u{3ffff}\u{4fffe}\u{4ffff}\u{5fffe}\u{5ffff}\u{6fffe}\u{6ffff}\u{7fffe}\u{7ffff}\u{8fffe}\u{8ffff}\u{9fffe}\u{9ffff}\u{afffe}\u{affff}\u{bfffe}\u{bffff}\u{cfffe}\u{cffff}\u{dfffe}\u{dffff}\u{efffe}\u{effff}\u{ffffe}\u{fffff}\u{10fffe}\u{10ffff}]/u],
  ['a lone surrogate', /\p{Cs}/u],
  ['a character inappropriate for plain text or canonical representation', /[\ufff9-\ufffd\u2ff0-\u2ffb]/u],
  ['a character that changes display properties', /[\u0340\u0341\u200e\u200f\u202a-\u202e\u206a-\u206f]/u],
  ['a tagging character', /[\u{e0001}\u{e0020}-\u{e007f}]/u],
]

/** D.1, characters with bidirectional property R or AL (RFC 3454's table, Unicode 3.2). */
const R_AND_AL =
  /[\u05be\u05c0\u05c3\u05d0-\u05ea\u05f0-\u05f4\u061b\u061f\u0621-\u063a\u0640-\u064a\u066d-\u066f\u0671-\u06d5\u06dd\u06e5\u06e6\u06fa-\u06fe\u0700-\u070d\u0710\u0712-\u072c\u0780-\u07a5\u07b1\u200f\ufb1d\ufb1f-\ufb28\ufb2a-\ufb36\ufb38-\ufb3c\ufb3e\ufb40\ufb41\ufb43\ufb44\ufb46-\ufbb1\ufbd3-\ufd3d\ufd50-\ufd8f\ufd92-\ufdc7\ufdf0-\ufdfc\ufe70-\ufe74\ufe76-\ufefc]/u
/**
 * D.2, characters with bidirectional property L, approximated by letters and spacing marks outside D.1: the
 * exact table is some 360 ranges, and the check only has to catch right-to-left text mixed with left-to-right.
 */
const L = /[\p{L}\p{Mc}]/u

/** Why a string is not SASLprep's to prepare: what {@link saslprep} throws. */
export class SaslprepError extends Error {
  override readonly name = 'SaslprepError'
  /** The rule broken, such as "contains a control character": a message may show it for a password too. */
  readonly rule: string

  constructor(rule: string, codePoint?: number) {
    const at = codePoint === undefined ? '' : ` (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')})`
    super(`${rule}${at}, which SASLprep prohibits`)
    this.rule = rule
  }
}

/**
 * The SASLprep of `value`: non-ASCII spaces mapped to U+0020, the characters "commonly mapped to nothing"
 * removed, NFKC normalisation, then prohibited output and the bidirectional rule (RFC 3454 section 6) checked.
 * Throws {@link SaslprepError} saying which rule failed, and the code point of a prohibited character; it
 * never quotes the value.
 *
 * @example
 * ```ts
 * saslprep('I\u00adX') // 'IX'
 * saslprep('\u2168') // 'IX'
 * saslprep('\u0007') // throws SaslprepError: contains a control character
 * ```
 */
export function saslprep(value: string): string {
  const prepared = value.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC')
  for (const [what, table] of PROHIBITED) {
    const found = table.exec(prepared)
    if (found) throw new SaslprepError(`contains ${what}`, found[0].codePointAt(0))
  }
  if (R_AND_AL.test(prepared)) {
    const chars = [...prepared]
    const rightToLeft = (c: string | undefined) => c !== undefined && R_AND_AL.test(c)
    if (chars.some((c) => L.test(c) && !R_AND_AL.test(c))) throw new SaslprepError('mixes right-to-left and left-to-right characters')
    if (!rightToLeft(chars[0]) || !rightToLeft(chars.at(-1))) {
      throw new SaslprepError('has right-to-left characters but does not begin and end with one')
    }
  }
  return prepared
}
