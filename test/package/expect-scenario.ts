import { expect } from 'vitest'

/**
 * Checks the result of fixtures/shared/scenario.js, the same in Node and in the browser: `prefix` is the
 * topic prefix it ran under, `refused` the error name expected for the URL the platform must refuse.
 */
export function expectScenario(result: Record<string, any>, prefix: string): void {
  expect(result.failed, 'the scenario threw').toBeUndefined()
  expect(result.topic).toBe('rooms/kitchen/temp')
  expect(result.invalidTopic).toMatchObject({ name: 'InvalidTopicError', isInvalidTopicError: true, isIotPubSubError: true, isError: true })
  expect(result.refused).toMatchObject({ name: 'UnsupportedOptionError', isUnsupportedOptionError: true, isIotPubSubError: true })
  expect(result.protocolVersion).toBe(5)
  expect(result.observeError).toBeUndefined()
  const message = (celsius: number, retain: boolean) => ({
    topic: `${prefix}/kitchen/temp`,
    payload: { celsius },
    qos: 1,
    retain,
    params: ['kitchen'],
    raw: { isUint8Array: true, text: JSON.stringify({ celsius }) },
  })
  // The retained value first (it proves the subscription is active), then the live one.
  expect(result.messages).toEqual([message(21.5, true), message(22, false)])
  expect(result.completedOnEnd, 'end() completes observers').toBe(true)
  expect(result.closedIsLast).toBe(true)
  expect(result.statuses[0]).toBe('connecting')
  expect(result.statuses).toContain('connected')
  expect(result.publishAfterEnd).toMatchObject({ name: 'ClientClosedError', isClientClosedError: true, isIotPubSubError: true })
}
