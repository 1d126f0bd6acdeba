/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5 enhanced authentication method, on WebCrypto alone (PBKDF2,
 * HMAC, SHA-256), so that it runs in Node and in browsers. An app that does not import `scramSha256` ships
 * none of it.
 */
import { AuthenticationError, UnsupportedOptionError } from '../errors.js'
import type { AuthExchange, AuthMethod } from './auth-method.js'
import { saslprep, SaslprepError } from './saslprep.js'

/** Options of {@link scramSha256}. */
export interface ScramOptions {
  /** The user name, any Unicode text that SASLprep accepts (see {@link scramSha256}). */
  username: string
  /** The password, any Unicode text that SASLprep accepts. Never logged, nor quoted in an error. */
  password: string
  /** Milliseconds after each successful exchange when the client re-authenticates on the live connection; absent: never. */
  renewIn?: number
}

const text = new TextEncoder()
/** Bytes WebCrypto takes (not over a SharedArrayBuffer). */
type Bytes = Uint8Array<ArrayBuffer>
const NONCE_BYTES = 18
/** RFC 5802 section 5.1: the channel binding attribute for "n,,", the header of a client without channel binding. */
const GS2_HEADER = 'n,,'
/** A server asking for more iterations than this would freeze a page for seconds: refused. */
const MAX_ITERATIONS = 1_000_000

/**
 * SCRAM-SHA-256, for the `auth` option: the client proves it knows the password without sending it, and checks
 * the broker's proof that it knows the password's salted key (a broker that fails it ends the attempt with
 * `AuthenticationError`). The exchange: the CONNECT carries `n,,n=user,r=nonce`, the broker's AUTH 0x18 its salt,
 * iterations and nonce, the client's AUTH 0x18 the proof, and the CONNACK (or AUTH 0x00) the server signature.
 *
 * The username and password are prepared with SASLprep (RFC 4013), as RFC 5802 asks and as brokers and
 * databases that store SCRAM verifiers do: non-ASCII spaces become U+0020, soft hyphens and other characters
 * "commonly mapped to nothing" go, and NFKC normalisation makes `Ⅸ` and `IX`, or a precomposed `ü` and `u`
 * with a combining diaeresis, the same. One that SASLprep prohibits (a control or private use character, a
 * right-to-left string mixed with left-to-right letters) or that is empty after it is refused here, with
 * `UnsupportedOptionError`, rather than failing at the broker as a wrong password.
 *
 * @example
 * ```ts
 * import { connect, scramSha256 } from 'iotpubsub'
 * const client = connect('mqtts://broker.example.com', { auth: scramSha256({ username: 'meter-7', password: secret }) })
 * ```
 */
export function scramSha256(options: ScramOptions): AuthMethod {
  const { username, password, renewIn } = options ?? ({} as ScramOptions)
  const user = prepared('username', username)
  const secret = prepared('password', password)
  if (renewIn !== undefined && !(typeof renewIn === 'number' && renewIn >= 0)) {
    throw new UnsupportedOptionError(`\`scramSha256({ renewIn })\` takes milliseconds (a number from 0), not ${String(renewIn)}`)
  }
  const saslName = user.replace(/=/g, '=3D').replace(/,/g, '=2C')
  return {
    method: 'SCRAM-SHA-256',
    start: () => scramExchange(saslName, secret, randomNonce(), renewIn),
  }
}

/**
 * One SCRAM-SHA-256 exchange with a given client nonce: what `scramSha256().start()` returns, exposed so
 * that RFC 7677's test vector (whose nonce is fixed) can be replayed. `saslName` is the prepared username
 * with `=` and `,` escaped, `password` the prepared password.
 *
 * @internal
 */
export function scramExchange(saslName: string, password: string, nonce: string, renewIn?: number): AuthExchange {
  const clientFirstBare = `n=${saslName},r=${nonce}`
  let expected: Bytes | undefined
  return {
    data: text.encode(GS2_HEADER + clientFirstBare),
    renewIn,
    async next(challenge) {
      if (expected) throw new AuthenticationError('SCRAM-SHA-256: the broker asked for another step after the proof')
      const serverFirst = new TextDecoder().decode(challenge ?? new Uint8Array())
      const attrs = attributes(serverFirst)
      const serverNonce = attrs.get('r') ?? ''
      const salt = attrs.get('s')
      const iterations = Number(attrs.get('i'))
      if (!serverNonce.startsWith(nonce) || serverNonce.length === nonce.length || salt === undefined || !(Number.isInteger(iterations) && iterations > 0 && iterations <= MAX_ITERATIONS)) {
        throw new AuthenticationError(`SCRAM-SHA-256: the broker's first message is not one (${JSON.stringify(serverFirst.slice(0, 200))})`)
      }
      const clientFinalBare = `c=${btoa(GS2_HEADER)},r=${serverNonce}`
      const authMessage = text.encode(`${clientFirstBare},${serverFirst},${clientFinalBare}`)
      const salted = await pbkdf2(text.encode(password), fromBase64(salt), iterations)
      const clientKey = await hmac(salted, text.encode('Client Key'))
      const storedKey = new Uint8Array(await crypto.subtle.digest('SHA-256', clientKey))
      const signature = await hmac(storedKey, authMessage)
      const proof = clientKey.map((byte, i) => byte ^ signature[i]!)
      expected = await hmac(await hmac(salted, text.encode('Server Key')), authMessage)
      return text.encode(`${clientFinalBare},p=${toBase64(proof)}`)
    },
    done(final) {
      const attrs = attributes(new TextDecoder().decode(final ?? new Uint8Array()))
      const error = attrs.get('e')
      if (error !== undefined) throw new AuthenticationError(`SCRAM-SHA-256: the broker says ${JSON.stringify(error)}`)
      const verifier = attrs.get('v')
      if (!expected || verifier === undefined || toBase64(expected) !== verifier) {
        throw new AuthenticationError('SCRAM-SHA-256: the broker did not prove that it knows the password (server signature missing or wrong)')
      }
    },
  }
}

/** SASLprep of one option, or `UnsupportedOptionError` naming it (the password's error shows no code point). */
function prepared(name: 'username' | 'password', value: unknown): string {
  if (typeof value !== 'string') throw new UnsupportedOptionError(`\`scramSha256({ ${name} })\` must be a string; it is a ${typeof value}`)
  let result: string
  try {
    result = saslprep(value)
  } catch (error) {
    if (!(error instanceof SaslprepError)) throw error
    const why = name === 'password' ? `${error.rule}, which SASLprep prohibits` : error.message
    throw new UnsupportedOptionError(`\`scramSha256({ ${name} })\` ${why} (RFC 4013)`)
  }
  if (result === '') throw new UnsupportedOptionError(`\`scramSha256({ ${name} })\` must not be empty${value === '' ? '' : ' after SASLprep (it holds only characters mapped to nothing)'}`)
  return result
}

/** `a=value` pairs, comma-separated (RFC 5802 section 5); a value may hold `=` (base64). */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of message.split(',')) if (part[1] === '=') out.set(part[0]!, part.slice(2))
  return out
}

function randomNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)))
}

async function pbkdf2(password: Bytes, salt: Bytes, iterations: number): Promise<Bytes> {
  const key = await crypto.subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits'])
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256))
}

async function hmac(key: Bytes, data: Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data))
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

function fromBase64(b64: string): Bytes {
  let raw: string
  try {
    raw = atob(b64)
  } catch {
    throw new AuthenticationError('SCRAM-SHA-256: the broker sent a salt that is not base64')
  }
  return Uint8Array.from(raw, (c) => c.charCodeAt(0))
}
