import mqtt from 'mqtt'

/**
 * Resolves once an MQTT 3.1.1 CONNECT to `url` is answered with CONNACK 0: the engine is ready for clients.
 * Retries every 100 ms (connection refused while the engine boots); rejects after `ms`, or at once when
 * `exited()` says the engine's process is gone.
 */
export async function waitForMqtt(url: string, what: string, exited: () => string | undefined, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  let last = 'no attempt yet'
  for (;;) {
    const gone = exited()
    if (gone !== undefined) throw new Error(`${what} exited before it accepted MQTT connections on ${url}: ${gone}`)
    if (Date.now() > deadline) throw new Error(`${what} did not accept an MQTT connection on ${url} within ${ms} ms (last: ${last})`)
    try {
      await tryConnect(url)
      return
    } catch (error) {
      last = (error as Error).message
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

function tryConnect(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2_000, clientId: `ready-${process.pid}-${Math.random().toString(16).slice(2, 10)}` })
    const done = (error?: Error): void => {
      client.removeAllListeners()
      client.on('error', () => undefined)
      client.end(true)
      if (error) reject(error)
      else resolve()
    }
    client.once('connect', () => done())
    client.once('error', (error) => done(error))
    client.once('close', () => done(new Error('closed before CONNACK')))
  })
}
