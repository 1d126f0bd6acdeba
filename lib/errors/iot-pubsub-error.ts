/**
 * Every error the SDK produces is an instance of one of these classes: match with `instanceof`, read
 * `name` in logs, `reasonCode` where MQTT gave one, and `cause` for the underlying error.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof NotAuthorizedError) showLogin(s.error.reasonCode)
 * })
 * ```
 */
export class IotPubSubError extends Error {
  // Spelled out: minifiers rename classes, and `name` must survive a production bundle. Subclasses override
  // it without a comment of their own: TypeDoc copies this one to each override.
  /**
   * The class name (`'NotAuthorizedError'`, `'QueueFullError'`, ...), kept in a minified production bundle:
   * what logs and `String(error)` show. In code, match with `instanceof` instead.
   */
  override readonly name: string = 'IotPubSubError'

  /** The MQTT reason code (MQTT 5) or return code (MQTT 3.1.1) behind the error, when there is one. */
  readonly reasonCode: number | undefined

  constructor(message: string, options: { cause?: unknown; reasonCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.reasonCode = options.reasonCode
  }
}
