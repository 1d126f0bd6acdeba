import type { Credentials } from '../options/client-options.js'

function same(a: Credentials | undefined, b: Credentials | undefined): boolean {
  return a !== undefined && b !== undefined && a.username === b.username && a.password === b.password
}

/**
 * The credentials of each attempt: the fixed `username`/`password`, or what the provider returns before every
 * attempt. A refusal is worth another attempt only while the provider comes up with something new.
 *
 * @example
 * ```ts
 * const policy = new CredentialsPolicy({ username: 'u', password: 'p' }, undefined)
 * policy.mayChange // false: fixed credentials cannot change
 * ```
 */
export class CredentialsPolicy {
  #inUse: Credentials | undefined
  #lastRefused: Credentials | undefined

  readonly #fixed: Credentials
  readonly #provider: (() => Credentials | Promise<Credentials>) | undefined

  constructor(
    fixed: Credentials,
    provider: (() => Credentials | Promise<Credentials>) | undefined,
  ) {
    this.#fixed = fixed
    this.#provider = provider
  }

  /** Whether `next()` has to wait for a provider. */
  get dynamic(): boolean {
    return this.#provider !== undefined
  }

  /** The credentials for the next attempt (a copy: the provider's object is not kept). */
  async next(): Promise<Credentials> {
    const credentials = this.#provider ? await this.#provider() : this.#fixed
    this.#inUse = { username: credentials.username, password: credentials.password }
    return this.#inUse
  }

  /** If the broker refused the credentials in use: whether a retry may bring other ones. */
  get mayChange(): boolean {
    return this.#provider !== undefined && !same(this.#inUse, this.#lastRefused)
  }

  /** The broker refused the credentials in use. */
  refused(): void {
    this.#lastRefused = this.#inUse
  }

  accepted(): void {
    this.#lastRefused = undefined
  }
}
