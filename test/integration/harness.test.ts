import { Agent, get } from 'node:http'
import { createConnection } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect as rawConnect } from 'mqtt'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { servePages } from '../support/page-server.js'
import { waitFor } from '../support/wait.js'

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

describe('test harness: the page server a browser test loads its pages from', () => {
  it('closes at once though a client keeps sockets open (a preconnect, a kept-alive request)', async () => {
    const pages = await servePages([{ path: '/', script: 'void 0' }])
    const { hostname, port } = new URL(pages.origin)
    // What Chromium leaves open: a socket with no request yet, and one kept alive after a response.
    const preconnect = createConnection({ host: hostname, port: Number(port) })
    const agent = new Agent({ keepAlive: true })
    await new Promise<void>((done, fail) => get(`${pages.origin}/`, { agent }, (response) => response.resume().on('end', done)).on('error', fail))
    await new Promise<void>((connected) => (preconnect.connecting ? preconnect.once('connect', () => connected()) : connected()))
    try {
      let closed = false
      const closing = pages.close().then(() => (closed = true))
      // Before the fix, close() waited for those sockets: for the kept-alive one up to its timeout (5 s), for
      // the preconnect until the client let go (46 s in one run).
      await waitFor(() => closed, 'the page server closed', 2_000)
      await closing
    } finally {
      preconnect.destroy()
      agent.destroy()
    }
  })
})
