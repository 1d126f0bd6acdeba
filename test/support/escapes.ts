import { afterAll, beforeAll } from 'vitest'

/**
 * What escapes the code under test in one file: uncaught exceptions and unhandled rejections, collected from
 * before the first test to after the last (call at describe level). `onThrown` also takes an observer's error.
 *
 * @example
 * ```ts
 * const { thrown, onThrown } = escapes()
 * client.observe(topic).subscribe({ error: onThrown })
 * expect(thrown).toEqual([])
 * ```
 */
export function escapes(): { readonly thrown: unknown[]; readonly onThrown: (error: unknown) => void } {
  const thrown: unknown[] = []
  const onThrown = (error: unknown): void => void thrown.push(error)
  beforeAll(() => {
    process.on('uncaughtException', onThrown)
    process.on('unhandledRejection', onThrown)
  })
  afterAll(() => {
    process.off('uncaughtException', onThrown)
    process.off('unhandledRejection', onThrown)
  })
  return { thrown, onThrown }
}
