import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect as rawConnect } from 'mqtt'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'

describe.skipIf(noMosquitto())('test harness: a private mosquitto from the kit config', () => {
  let broker: Mosquitto
  beforeAll(async () => {
    broker = await Mosquitto.start()
  })
  afterAll(async () => {
    await broker?.dispose()
  })

  it('listens on free TCP and WebSocket ports and logs to a file', async () => {
    expect(broker.ports[1883]).not.toBe(1883)
    for (const url of [broker.tcpUrl, broker.wsUrl]) {
      const client = rawConnect(url, { clientId: `harness-${url.slice(0, 2)}`, reconnectPeriod: 0 })
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve())
        client.once('error', reject)
      })
      await client.endAsync()
    }
    await broker.waitForLog(/New client connected .* as harness-mq/)
    await broker.waitForLog(/New client connected .* as harness-ws/)
  })
})
