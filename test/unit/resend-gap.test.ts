// The MQTT.js link's gap between its CONNACK and the end of MQTT.js's resend: requests wait in order, then go;
// a connection that ends first answers them as lost.
import { describe, expect, it } from 'vitest'
import { ResendGap } from '../../lib/link/mqttjs/resend-gap.js'

describe('ResendGap', () => {
  it('outside a gap, a request goes at once', () => {
    const gap = new ResendGap(() => undefined)
    const sent: boolean[] = []
    gap.after((lost) => sent.push(lost))
    expect(sent).toEqual([false])
    expect(gap.open).toBe(false)
    expect(gap.end()).toBe(false)
  })

  it('in a gap, requests wait, in order, until it ends', () => {
    const gap = new ResendGap(() => undefined)
    const sent: string[] = []
    gap.begin()
    gap.after((lost) => sent.push(`a ${lost}`))
    gap.after((lost) => sent.push(`b ${lost}`))
    expect(sent).toEqual([])
    expect(gap.open).toBe(true)
    expect(gap.end()).toBe(true)
    expect(sent).toEqual(['a false', 'b false'])
    expect(gap.open).toBe(false)
  })

  it('a connection that ends in the gap answers what waits as lost, once', () => {
    const gap = new ResendGap(() => undefined)
    const sent: boolean[] = []
    gap.begin()
    gap.after((lost) => sent.push(lost))
    gap.lose()
    gap.lose()
    expect(sent).toEqual([true])
    expect(gap.end()).toBe(false)
  })

  it('a request that throws is reported, never thrown out of the event that ends the gap; the ones behind it still go', () => {
    const crashes: unknown[] = []
    const gap = new ResendGap((error) => crashes.push(error))
    const sent: boolean[] = []
    const failure = new Error('engine')
    gap.begin()
    gap.after(() => {
      throw failure
    })
    gap.after((lost) => sent.push(lost))
    expect(() => gap.end()).not.toThrow()
    expect(crashes).toEqual([failure])
    expect(sent).toEqual([false])
    gap.begin()
    gap.after(() => {
      throw failure
    })
    expect(() => gap.lose()).not.toThrow()
    expect(crashes).toEqual([failure, failure])
  })
})
