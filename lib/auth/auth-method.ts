/**
 * MQTT 5 enhanced authentication (section 4.12): the `auth` option takes one of these. The client runs one
 * exchange at a time with it: at every connection attempt (the CONNECT carries the method's name and first
 * data; each AUTH 0x18 "continue" from the broker is answered by `next`, until the CONNACK), and for each
 * re-authentication on a live connection (the client's AUTH 0x19, then the same steps until the broker's
 * AUTH 0x00). `scramSha256()` is one built in; a token method is a few lines (see the example).
 *
 * @example
 * ```ts
 * // A bearer token the broker checks in one step, renewed on the live connection a minute before it expires.
 * const token: AuthMethod = {
 *   method: 'example-token',
 *   async start() {
 *     const { token, expiresAt } = await fetchToken()
 *     return { data: new TextEncoder().encode(token), renewIn: expiresAt - Date.now() - 60_000 }
 *   },
 * }
 * const client = connect('mqtts://broker.example.com', { auth: token })
 * ```
 */
export interface AuthMethod {
  /** The Authentication Method the CONNECT and every AUTH name (`'SCRAM-SHA-256'`): the broker's name for it. */
  readonly method: string
  /**
   * Starts one exchange: `reason` says whether for a new connection's CONNECT or a re-authentication of the
   * live one. What it returns answers that exchange's steps and holds its state (a nonce, a salted password),
   * so nothing carries over from one exchange to the next. A rejection ends the attempt (a failed
   * re-authentication closes the connection), reported as `AuthenticationError`; the client then follows its
   * reconnect policy.
   */
  start(reason: 'connect' | 'reauthenticate'): Promise<AuthExchange> | AuthExchange
}

/**
 * One authentication exchange, from `AuthMethod.start()`: the first data, the answers to the broker's
 * challenges, and the check of its last word.
 *
 * @example
 * ```ts
 * const exchange: AuthExchange = {
 *   data: new TextEncoder().encode('hello'),
 *   next: async (challenge) => sign(challenge), // each AUTH 0x18 from the broker
 *   done: (final) => { if (!verify(final)) throw new Error('the broker did not prove itself') },
 *   renewIn: 30 * 60_000, // re-authenticate in 30 minutes
 * }
 * ```
 */
export interface AuthExchange {
  /**
   * The Authentication Data of the CONNECT (or of the AUTH 0x19 that starts a re-authentication); none if absent.
   * At most 65,535 bytes, as is what `next` returns: anything else fails the exchange (`AuthenticationError`).
   */
  readonly data?: Uint8Array | undefined
  /**
   * Answers the broker's AUTH 0x18 (its Authentication Data, if any) with the data of the client's AUTH 0x18.
   * Absent: a one-step method, and a broker that asks for more fails the exchange. A rejection fails it too.
   */
  next?(challenge: Uint8Array | undefined): Promise<Uint8Array | undefined> | Uint8Array | undefined
  /**
   * The exchange succeeded (CONNACK 0, or AUTH 0x00 after a re-authentication): checks the broker's last
   * Authentication Data, such as SCRAM's server signature, and throws if it does not hold. Synchronous, so that
   * nothing is delivered on a connection that failed it: do the expensive part in `next`.
   */
  done?(final: Uint8Array | undefined): void
  /**
   * Milliseconds after this exchange succeeds when the client re-authenticates on the live connection (before a
   * token expires), at least one second later; absent, `NaN` or over 2^31 − 1 (about 24.8 days): never.
   */
  readonly renewIn?: number | undefined
}
