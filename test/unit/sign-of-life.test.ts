// The keepalive timers given to MQTT.js: messages received count as signs of life, and the client's own pings
// never fall further apart than the broker allows (it closes a client silent for 1.5 × keepalive).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { signOfLifeTimers } from '../../lib/link/sign-of-life.js'

const INTERVAL = 1_000 // MQTT.js ticks every keepalive / 2: keepalive 2 s

/** MQTT.js's KeepaliveManager as the timers see it: it pings on the 2nd tick and gives up on the 3rd. */
function manager(received: () => number) {
  const pings: number[] = []
  let timeouts = 0
  let id: unknown
  let counter = 0
  const start = (): void => {
    counter = 0
    id = timers.set(() => {
      counter += 1
      if (counter === 2) pings.push(Date.now())
      else if (counter > 2) timeouts += 1
    }, INTERVAL)
  }
  const timers = signOfLifeTimers({
    received,
    pingAgain: () => {
      pings.push(Date.now())
      timers.clear(id)
      start()
    },
    expiring: () => undefined,
  })
  start()
  return { pings, timeouts: () => timeouts }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('signOfLifeTimers', () => {
  it('gives up on the third tick when nothing at all came from the broker', async () => {
    vi.useFakeTimers({ now: 0 })
    const m = manager(() => 0)
    await vi.advanceTimersByTimeAsync(3 * INTERVAL)
    expect(m.pings).toEqual([2 * INTERVAL])
    expect(m.timeouts()).toBe(1)
  })

  it('while messages flow (a PINGRESP stuck behind them), never gives up and pings at least every 2 ticks', async () => {
    vi.useFakeTimers({ now: 0 })
    let received = 0
    const flow = setInterval(() => (received += 1), 100)
    const m = manager(() => received)
    await vi.advanceTimersByTimeAsync(30 * INTERVAL)
    clearInterval(flow)
    expect(m.timeouts()).toBe(0)
    const gaps = m.pings.slice(1).map((t, i) => t - (m.pings[i] as number))
    // Within the keepalive (2 ticks), well under the broker's 1.5 × keepalive (3 ticks).
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * INTERVAL)
    expect(m.pings.length).toBeGreaterThanOrEqual(14)
  })
})
