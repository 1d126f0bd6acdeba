/**
 * SCRAM-SHA-256 held to RFC 7677's test vector (section 3: user "user", password "pencil", client nonce
 * "rOprNGfwEbeRWgbNEkqO"), the whole exchange, and to the ways a broker's answers can be wrong; SASLprep held
 * to RFC 4013's examples (section 3) and the tables of RFC 3454 it uses.
 */
import { describe, expect, it } from 'vitest'
import { saslprep, SaslprepError } from '../../lib/auth/saslprep.js'
import { scramExchange, scramSha256 } from '../../lib/auth/scram.js'
import { AuthenticationError, UnsupportedOptionError } from '../../lib/errors.js'

const text = new TextEncoder()
const str = (b: Uint8Array | undefined) => new TextDecoder().decode(b)

const NONCE = 'rOprNGfwEbeRWgbNEkqO'
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='

describe('SCRAM-SHA-256 (RFC 7677 section 3)', () => {
  it('produces the client messages of the test vector and accepts its server signature', async () => {
    const exchange = scramExchange('user', 'pencil', NONCE)
    expect(str(exchange.data)).toBe(`n,,n=user,r=${NONCE}`)
    expect(str(await exchange.next!(text.encode(SERVER_FIRST)))).toBe(CLIENT_FINAL)
    expect(() => exchange.done!(text.encode(SERVER_FINAL))).not.toThrow()
  })

  it('refuses a wrong server signature, an error attribute, and a missing one', async () => {
    for (const final of ['v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', 'e=invalid-proof', undefined]) {
      const exchange = scramExchange('user', 'pencil', NONCE)
      await exchange.next!(text.encode(SERVER_FIRST))
      expect(() => exchange.done!(final === undefined ? undefined : text.encode(final))).toThrow(AuthenticationError)
    }
  })

  it('refuses a signature before any proof was sent', () => {
    expect(() => scramExchange('user', 'pencil', NONCE).done!(text.encode(SERVER_FINAL))).toThrow(AuthenticationError)
  })

  it('refuses a server nonce that does not extend its own, a missing salt, absurd iterations, and a second challenge', async () => {
    const bad = [
      'r=someoneElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      `r=${NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`,
      `r=${NONCE}x,i=4096`,
      `r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0`,
      `r=${NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999`,
      `r=${NONCE}x,s=!!notbase64,i=4096`,
    ]
    for (const challenge of bad) {
      await expect(scramExchange('user', 'pencil', NONCE).next!(text.encode(challenge))).rejects.toThrow(AuthenticationError)
    }
    const exchange = scramExchange('user', 'pencil', NONCE)
    await exchange.next!(text.encode(SERVER_FIRST))
    await expect(exchange.next!(text.encode(SERVER_FIRST))).rejects.toThrow(AuthenticationError)
  })
})

describe('scramSha256()', () => {
  it('starts each exchange with a fresh nonce and escapes = and , in the username', async () => {
    const method = scramSha256({ username: 'a=b,c', password: 'pencil', renewIn: 5000 })
    expect(method.method).toBe('SCRAM-SHA-256')
    const one = await method.start('connect')
    const two = await method.start('reauthenticate')
    const first = /^n,,n=a=3Db=2Cc,r=([A-Za-z0-9+/=]{24})$/
    expect(str(one.data)).toMatch(first)
    expect(str(two.data)).toMatch(first)
    expect(str(one.data)).not.toBe(str(two.data))
    expect(one.renewIn).toBe(5000)
  })

  it('prepares the username and the password with SASLprep before they enter the exchange', async () => {
    // A soft hyphen is mapped to nothing and NFKC makes U+2168 (ROMAN NUMERAL NINE) "IX": the same proof as "pencil".
    const method = scramSha256({ username: '\u2168\u00a0us\u00ader', password: 'pen\u00adcil' })
    const exchange = await method.start('connect')
    const nonce = /,r=(.*)$/.exec(str(exchange.data))![1]!
    expect(str(exchange.data)).toBe(`n,,n=IX user,r=${nonce}`)
    const serverFirst = `r=${nonce}server,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`
    const expected = await scramExchange('IX user', 'pencil', nonce).next!(text.encode(serverFirst))
    expect(str(await exchange.next!(text.encode(serverFirst)))).toBe(str(expected))
  })

  it('takes any Unicode text that SASLprep accepts', async () => {
    const method = scramSha256({ username: 'jürgen', password: 'pässwörd \u3000 日本' })
    expect(str((await method.start('connect')).data)).toMatch(/^n,,n=jürgen,r=/)
  })

  it('refuses what SASLprep prohibits with UnsupportedOptionError naming the rule, never showing the password', () => {
    expect(() => scramSha256({ username: 'us\u200eer', password: 'pencil' })).toThrow(
      new UnsupportedOptionError('`scramSha256({ username })` contains a character that changes display properties (U+200E), which SASLprep prohibits (RFC 4013)'),
    )
    expect(() => scramSha256({ username: 'user', password: 'pen\u0007cil' })).toThrow(
      new UnsupportedOptionError('`scramSha256({ password })` contains a control character, which SASLprep prohibits (RFC 4013)'),
    )
    expect(() => scramSha256({ username: 'user', password: '\u00ad' })).toThrow(/must not be empty after SASLprep/)
  })

  it('refuses what SASLprep prohibits, empty strings, and a bad renewIn, without changing the options', () => {
    for (const options of [
      { username: 'user\u0627', password: 'pencil' },
      { username: 'user', password: 'pen\u0000cil' },
      { username: '', password: 'pencil' },
      { username: 'user', password: 7 as unknown as string },
      { username: 'user', password: 'pencil', renewIn: -1 },
    ]) {
      const copy = structuredClone(options)
      expect(() => scramSha256(options)).toThrow(UnsupportedOptionError)
      expect(options).toEqual(copy)
    }
  })
})

describe('SASLprep (RFC 4013)', () => {
  it('gives the results of the examples of section 3', () => {
    expect(saslprep('I\u00adX')).toBe('IX') // SOFT HYPHEN mapped to nothing
    expect(saslprep('user')).toBe('user') // no transformation
    expect(saslprep('USER')).toBe('USER') // case preserved
    expect(saslprep('\u00aa')).toBe('a') // output is NFKC
    expect(saslprep('\u2168')).toBe('IX') // output is NFKC, matches the first
    expect(() => saslprep('\u0007')).toThrow(new SaslprepError('contains a control character', 0x07)) // prohibited
    expect(() => saslprep('\u0627\u0031')).toThrow(SaslprepError) // bidirectional check
  })

  it('maps non-ASCII spaces to U+0020 and the characters of table B.1 to nothing', () => {
    expect(saslprep('a\u00a0b\u1680c\u2003d\u200be\u202ff\u205fg\u3000h')).toBe('a b c d e f g h')
    expect(saslprep('a\u034fb\u1806c\u180bd\u200ce\u200df\u2060g\ufe0fh\ufeffi')).toBe('abcdefghi')
  })

  it('refuses each table of prohibited output (RFC 3454 C.2 to C.9)', () => {
    for (const c of ['\u001f', '\u007f', '\u0085', '\u2028', '\u{1d173}', '\ue000', '\u{100000}', '\ufdd0', '\u{1fffe}', '\ud800', '\ufffd', '\u2ff0', '\u202e', '\u{e0041}']) {
      expect(() => saslprep(`ab${c}cd`), `U+${c.codePointAt(0)!.toString(16)}`).toThrow(SaslprepError)
    }
  })

  it('takes right-to-left strings that begin and end right-to-left, and refuses them mixed with left-to-right letters', () => {
    expect(saslprep('\u05d0\u0031\u05d1')).toBe('\u05d0\u0031\u05d1')
    expect(() => saslprep('\u05d0a\u05d1')).toThrow(/mixes right-to-left and left-to-right/)
    expect(() => saslprep('\u0031\u05d0')).toThrow(/does not begin and end/)
  })

  it('lets unassigned code points through, as a query string (RFC 5802 section 5.1)', () => {
    expect(saslprep('a\u{3fffd}')).toBe('a\u{3fffd}')
  })
})
