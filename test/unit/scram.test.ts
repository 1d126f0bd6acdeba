/**
 * SCRAM-SHA-256 held to RFC 7677's test vector (section 3: user "user", password "pencil", client nonce
 * "rOprNGfwEbeRWgbNEkqO"), the whole exchange, and to the ways a broker's answers can be wrong.
 */
import { describe, expect, it } from 'vitest'
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

  it('refuses what SASLprep would have to prepare, empty strings, and a bad renewIn, without changing the options', () => {
    for (const options of [
      { username: 'jürgen', password: 'pencil' },
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
