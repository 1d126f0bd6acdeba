import { ConnectionRefusedError, UnsupportedOptionError } from '../errors.js'
import { noRetryCanFix } from '../options/attempt-credentials.js'
import { checkMqttString } from '../mqtt-string.js'
import type { Credentials } from '../options/client-options.js'
import type { AttemptCredentials, Endpoint } from '../options/resolved-options.js'
import { refuse } from '../options/validate.js'

/**
 * Checks a user name and password before they reach a CONNECT: strings (the user name an MQTT string, the
 * password at most 65,535 UTF-8 bytes), and no password without a user name unless the protocol is MQTT 5
 * for sure: MQTT 3.1.1 forbids it, and `'auto'` may fall back to 3.1.1. `from` names their source in errors:
 * `''` for the options, `'credentials().'` for what the provider returned. Returns a copy; throws
 * {@link UnsupportedOptionError}.
 *
 * @example
 * ```ts
 * checkCredentials({ username: 'u', password: 'p' }, 'auto', '')  // { username: 'u', password: 'p' }
 * checkCredentials({ password: 'p' }, 4, '')                      // throws: `password` without a username needs ...
 * ```
 */
export function checkCredentials(credentials: unknown, protocolVersion: 4 | 5 | 'auto', from: string): Credentials {
  if (credentials === null || typeof credentials !== 'object') refuse('credentials()', 'a promise of { username, password }', credentials)
  const { username, password } = credentials as Record<string, unknown>
  if (username !== undefined) checkMqttString(`${from}username`, username)
  if (password !== undefined) checkMqttString(`${from}password`, password, true)
  if (password !== undefined && username === undefined && protocolVersion !== 5) {
    throw new UnsupportedOptionError(`\`${from}password\` without a username needs \`protocolVersion: 5\` (MQTT 3.1.1 cannot send it)`)
  }
  return { username: username as string | undefined, password: password as string | undefined }
}

/** What a provider's deadline rejects with: no value a provider could throw. */
const PROVIDER_LATE = Symbol('late')

/**
 * What a provider answered, as the refusal rule compares it: the user name and password, its own URL (query
 * included: a fresh signature is new credentials) and its handshake headers. The cluster node an answer without a
 * URL goes to is left out: the client moving on to the next node is nothing new from the provider.
 */
function answerKey(answer: { readonly username?: string | undefined; readonly password?: string | undefined; readonly endpoint?: Endpoint | undefined }, node: Endpoint | undefined): string {
  const { endpoint } = answer
  const own = endpoint && endpoint.url !== node?.url ? [endpoint.protocol, endpoint.hostname, endpoint.port, endpoint.path] : null
  return JSON.stringify([answer.username, answer.password, own, Object.entries(endpoint?.headers ?? {}).sort()])
}

/**
 * The credentials of each attempt: the fixed `username`/`password`, or what the provider returns before every
 * attempt (with the attempt's own URL and headers, if it gives them). A refusal is worth another attempt only
 * while the provider comes up with something new.
 *
 * @example
 * ```ts
 * const policy = new CredentialsPolicy({ username: 'u', password: 'p' }, undefined)
 * policy.mayChange // false: fixed credentials cannot change
 * ```
 */
export class CredentialsPolicy {
  /** The provider's answer in use, and the last one the broker refused (`answerKey`). */
  #inUse: string | undefined
  #lastRefused: string | undefined
  /** Ends the wait for the provider's answer at once (the client stopped), its deadline timer with it. */
  #giveUp: (() => void) | undefined

  readonly #fixed: Credentials
  readonly #provider: ((node?: Endpoint) => Promise<AttemptCredentials>) | undefined

  constructor(
    fixed: Credentials,
    provider: ((node?: Endpoint) => Promise<AttemptCredentials>) | undefined,
  ) {
    this.#fixed = fixed
    this.#provider = provider
  }

  /** Whether `next()` has to wait for a provider. */
  get dynamic(): boolean {
    return this.#provider !== undefined
  }

  /**
   * The credentials for the next attempt to `node` (a copy: the provider's object is not kept); `endpoint` is
   * where the attempt goes: the provider's `url`, or `node` (with the provider's headers). The provider's time
   * counts against the attempt's: one that fails, or does not answer within `deadline` ms, rejects with
   * {@link ConnectionRefusedError} (a failed attempt: back off, ask again); one that asked for what this client
   * cannot do at all (`noRetryCanFix`: headers in a browser) rejects with that error, which no retry can fix.
   */
  async next(node: Endpoint | undefined, deadline: number): Promise<AttemptCredentials> {
    const credentials = this.#provider ? await this.#ask(this.#provider, node, deadline) : { ...this.#fixed, endpoint: node }
    this.#inUse = answerKey(credentials, node)
    return { username: credentials.username, password: credentials.password, endpoint: credentials.endpoint ?? node }
  }

  async #ask(provider: (node?: Endpoint) => Promise<AttemptCredentials>, node: Endpoint | undefined, deadline: number): Promise<AttemptCredentials> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(PROVIDER_LATE), deadline)
      this.#giveUp = () => reject(PROVIDER_LATE)
    })
    try {
      return await Promise.race([provider(node), late])
    } catch (error) {
      if (noRetryCanFix(error)) throw error
      throw error === PROVIDER_LATE
        ? new ConnectionRefusedError(`the credentials provider did not answer within connectTimeout (${deadline} ms)`)
        : new ConnectionRefusedError('the credentials provider failed', { cause: error })
    } finally {
      clearTimeout(timer)
      this.#giveUp = undefined
    }
  }

  /** The client stopped: a provider still thinking is waited for no longer, and leaves no timer behind. */
  cancel(): void {
    this.#giveUp?.()
  }

  /** If the broker refused the credentials in use: whether a retry may bring other ones. */
  get mayChange(): boolean {
    return this.#provider !== undefined && this.#inUse !== this.#lastRefused
  }

  /** The broker refused the credentials in use. */
  refused(): void {
    this.#lastRefused = this.#inUse
  }

  accepted(): void {
    this.#lastRefused = undefined
  }
}
