/**
 * What an app's code threw (a codec, a handler, a store), as text for an error message or a log line. Reporting
 * it must never throw in turn: an object without a prototype, or one whose `toString` or `message` throws, is
 * described by its type.
 *
 * @example
 * ```ts
 * describeThrown(new SyntaxError('Unexpected token'))  // 'Unexpected token'
 * describeThrown(Object.create(null))                  // 'an object that cannot be shown as text'
 * ```
 */
export function describeThrown(thrown: unknown): string {
  try {
    return thrown instanceof Error ? String(thrown.message) : String(thrown)
  } catch {
    return `${typeof thrown === 'function' ? 'a function' : 'an object'} that cannot be shown as text`
  }
}
